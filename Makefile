# Quick start:  `make site`  renders (or applies) Airflow with the default inventory.
#               `make test`  runs the whole test suite.
# Everything is installed into virtual environments inside the checkout, nothing globally.

PYTHON      ?= python3
VENV        ?= .venv
INVENTORY   ?= inventories/local
# Every core (pytest-xdist; whole files per worker, so module fixtures are built once, in collection
# order: tests/conftest.py starts the longest files first) and the slowest tests listed at the end.
PYTEST_ARGS ?= -n auto --dist loadfile --no-loadscope-reorder --durations=30

BIN := $(VENV)/bin

.PHONY: setup setup-azure setup-gcp setup-test setup-checkov setup-airflow setup-azurite site test bench clean help

help:
	@echo "make setup   create $(VENV)/ with everything the playbooks need"
	@echo "make site    run site.yml on $(INVENTORY) (default: render manifests to build/local/)"
	@echo "make test    install the test tools and run the whole test suite"
	@echo "make setup-azure / setup-gcp   add the cloud SDKs those inventories need"
	@echo "make bench   run the benchmarks (bench/README.md), printed as ratios"
	@echo "make clean   remove rendered output and caches (keeps the virtual environments)"

# Runtime environment: ansible (with the bundled cloud collections), kubernetes, cryptography.
$(BIN)/.setup-done: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip check
	touch $@

setup: $(BIN)/.setup-done

# Test environment: the runtime plus pytest, molecule, ansible-lint, the API emulator, ...
$(BIN)/.setup-test-done: $(BIN)/.setup-done requirements-test.txt
	$(BIN)/pip install --quiet -r requirements-test.txt
	$(BIN)/pip check
	touch $@

setup-test: $(BIN)/.setup-test-done

# checkov, apart: its pins conflict with ansible-lint's.
.venv-checkov/bin/.setup-done: requirements-checkov.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --upgrade pip
	.venv-checkov/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

setup-checkov: .venv-checkov/bin/.setup-done

# The real Apache Airflow 3.3 for tests/conformance, apart (built once, then cached).
setup-airflow:
	bash tests/conformance/setup_airflow_venv.sh

# Azurite (npm), the Azure Blob Storage emulator of the remote task log conformance test, into
# .cache/azurite (tests/support/storage_emulators.py finds it there). Needs npm (Node 18+).
AZURITE_VERSION ?= 3.37.0
AZURITE_BLOB := .cache/azurite/node_modules/.bin/azurite-blob

$(AZURITE_BLOB):
	mkdir -p .cache/azurite
	cd .cache/azurite && npm install --no-audit --no-fund --no-save --silent azurite@$(AZURITE_VERSION)

setup-azurite: $(AZURITE_BLOB)

site: setup
	$(BIN)/ansible-playbook -i $(INVENTORY) site.yml

# The four environments build side by side (each its own folder; mostly downloads and unpacking),
# then the tests run.
test:
	$(MAKE) -j4 --output-sync=target setup-test setup-checkov setup-airflow setup-azurite
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest $(PYTEST_ARGS)

# Cloud SDKs the Azure and GCP inventories need on top of `make setup` (AWS needs only boto3,
# already in requirements.txt). azure.azcollection loads its whole pinned SDK set at import time.
setup-azure: setup
	$(BIN)/pip install --quiet -r "$$($(BIN)/python -c 'import ansible_collections.azure.azcollection as c, os; print(os.path.join(list(c.__path__)[0], "requirements.txt"))')"
	$(BIN)/pip check

setup-gcp: setup
	$(BIN)/pip install --quiet "google-auth>=2.0" "requests>=2.32"
	$(BIN)/pip check

# Benchmarks (bench/README.md): ratios against baselines measured in the same run.
bench: setup-test
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf build .pytest_cache .hypothesis
