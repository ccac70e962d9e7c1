"""Quality gates as tests: ansible-lint, ansible-test sanity, ansible-doc, the galaxy tarball.

Real tools on the real tree; each fails the suite when the gate fails. ansible-test runs with
``--venv`` (its own pinned tool versions, fetched from PyPI once and cached under
``~/.ansible/test``); its pip bootstrap script comes from tests/support/get_pip_offline.py
because the address ansible-test downloads it from is not reachable here.
"""

import importlib
import json
import os
import shutil
import subprocess
import re
import tarfile

import pytest
import yaml

from tests.support.collection import REPO_ROOT, copy_collection, tool

pytestmark = [pytest.mark.quality, pytest.mark.slow]

MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(REPO_ROOT, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))


def run(cmd, cwd=REPO_ROOT, env=None, timeout=1800):
    """Run a command, returning the CompletedProcess with text output."""
    full_env = dict(os.environ)
    full_env["PATH"] = os.path.dirname(tool("python")) + os.pathsep + full_env.get("PATH", "")
    full_env.update(env or {})
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)


def test_ansible_lint_production_profile_is_clean():
    result = run([tool("ansible-lint"), "--profile", "production", "--nocolor"])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]


def _install_pip_bootstrap():
    """Put the offline pip bootstrap where ansible-test looks for its cached copy."""
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    source = os.path.join(REPO_ROOT, "tests", "support", "get_pip_offline.py")
    # ansible-test names the file after the pip version it bootstraps; cover the ones it pins.
    data_dir = os.path.join(os.path.dirname(__import__("ansible_test").__file__), "_data", "requirements")
    versions = set()
    for name in os.listdir(data_dir):
        with open(os.path.join(data_dir, name), encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("pip=="):
                    versions.add(line.split("==", 1)[1].split()[0])
    versions.add("24.2")
    for version in versions:
        target = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
        if not os.path.exists(target):
            shutil.copyfile(source, target)


def _add_dependency(collection_root, name):
    """Put an installed collection this one depends on next to the copy, where ansible-test finds it.

    ansible-test resolves other collections (doc fragments, module_utils) only from the same
    ``ansible_collections`` tree: k8s_apply documents kubernetes.core's connection options through
    its doc fragment and imports its module utilities.
    """
    namespace, collection_name = name.split(".")
    installed = list(importlib.import_module("ansible_collections.%s.%s" % (namespace, collection_name)).__path__)[0]
    target = os.path.join(collection_root, "ansible_collections", namespace, collection_name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.symlink(installed, target)


def test_ansible_test_sanity_is_clean(tmp_path):
    _install_pip_bootstrap()
    collection = copy_collection(tmp_path)
    _add_dependency(str(tmp_path), "kubernetes.core")
    python = "%d.%d" % tuple(json.loads(run([tool("python"), "-c", "import sys, json; print(json.dumps(sys.version_info[:2]))"]).stdout))
    result = run([tool("ansible-test"), "sanity", "--venv", "--python", python, "--color", "no"], cwd=collection)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-4000:]


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders_module_documentation(module):
    result = run([tool("ansible-doc"), "airflow_k8s.cloud.%s" % module])
    assert result.returncode == 0, result.stderr
    assert "EXAMPLES" in result.stdout and "RETURN VALUES" in result.stdout
    docs = json.loads(run([tool("ansible-doc"), "--json", "airflow_k8s.cloud.%s" % module]).stdout)
    doc = docs["airflow_k8s.cloud.%s" % module]
    assert doc["doc"]["short_description"]
    assert doc["examples"].strip()
    assert {"check_mode", "diff_mode"} <= set(doc["doc"]["attributes"])


def test_galaxy_tarball_is_clean_and_installs(tmp_path):
    build = run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), "--force"])
    assert build.returncode == 0, build.stderr
    tarballs = list(tmp_path.glob("airflow_k8s-cloud-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(str(tarballs[0])) as archive:
        names = archive.getnames()
    assert "galaxy.yml" not in names and "MANIFEST.json" in names
    for unwanted in (".venv", ".collections", "build", ".git", ".ci", "__pycache__", ".pytest_cache"):
        assert not [n for n in names if n == unwanted or n.startswith(unwanted + "/") or "/%s/" % unwanted in n], unwanted
    for wanted in ("plugins/modules/fernet_key.py", "plugins/modules/connection_uri.py", "roles/sink/tasks/main.yml",
                   "meta/runtime.yml", "COPYING", "README.md"):
        assert wanted in names, wanted

    # Users who install the tarball get the same collection, without this checkout.
    install_dir = tmp_path / "installed"
    install = run([tool("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p", str(install_dir), str(tarballs[0])],
                  cwd=str(tmp_path))
    assert install.returncode == 0, install.stderr
    empty_config = tmp_path / "ansible.cfg"  # not the checkout's (its collections path has the checkout)
    empty_config.write_text("[defaults]\n")
    doc = run([tool("ansible-doc"), "--json", "airflow_k8s.cloud.fernet_key"], cwd=str(tmp_path),
              env={"ANSIBLE_COLLECTIONS_PATH": str(install_dir), "ANSIBLE_CONFIG": str(empty_config)})
    assert doc.returncode == 0, doc.stderr
    filename = json.loads(doc.stdout)["airflow_k8s.cloud.fernet_key"]["doc"]["filename"]
    assert filename.startswith(str(install_dir)), filename


def test_changelog_fragments_are_valid():
    result = run([tool("antsibull-changelog"), "lint"])
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_python_requirements_are_consistent():
    result = run([tool("pip"), "check"])
    assert result.returncode == 0, result.stdout


def test_azure_sdk_model_pins_match_azure_azcollection():
    """The Azure SDK packages requirements-test.txt installs for the fakes' model classes are the
    versions the installed azure.azcollection pins: fakes built from other models could answer in a
    shape the modules never return."""
    from ansible_collections.azure import azcollection  # pylint: disable=import-outside-toplevel

    def pins(path):
        found = {}
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                match = re.match(r"^(azure-[a-z0-9-]+)==([^\s#]+)", line.strip())
                if match:
                    found[match.group(1).lower()] = match.group(2)
        return found

    ours = pins(os.path.join(REPO_ROOT, "requirements-test.txt"))
    theirs = pins(os.path.join(list(azcollection.__path__)[0], "requirements.txt"))
    assert ours, "requirements-test.txt pins no Azure SDK package"
    # Models of APIs the roles reach through azure_rm_resource only (ARM REST JSON, no SDK in the module):
    # the collection pins no version of them, so they are only required not to be one it pins differently.
    rest_only = {"azure-mgmt-msi"}
    assert not rest_only & set(theirs), "azure.azcollection now pins %s: use its version" % sorted(rest_only & set(theirs))
    assert {name: version for name, version in ours.items() if name not in rest_only and theirs.get(name) != version} == {}, theirs


def _collections_called():
    """Every collection named by a fully qualified module or lookup in the roles and playbooks."""
    pattern = re.compile(r"(?:^\s*-?\s*|lookup\(['\"])([a-z_0-9]+)\.([a-z_0-9]+)\.[a-z_0-9]+(?::|['\"])", re.MULTILINE)
    called = {}
    for top in ("roles", "playbooks", "site.yml"):
        root = os.path.join(REPO_ROOT, top)
        paths = [root] if os.path.isfile(root) else [os.path.join(d, f) for d, _s, fs in os.walk(root) for f in fs]
        for path in paths:
            if path.endswith((".yml", ".yaml")):
                with open(path, encoding="utf-8") as handle:
                    for match in pattern.finditer(handle.read()):
                        called.setdefault("%s.%s" % match.groups(), path)
    return {name: path for name, path in called.items() if name not in ("ansible.builtin", "airflow_k8s.cloud")}


def test_collection_dependencies_cover_every_collection_called():
    """galaxy.yml declares (and requirements.yml repeats) every collection the content calls, and
    the installed versions meet those ranges: a new module from an undeclared collection fails here."""
    from ansible.galaxy.dependency_resolution.versioning import meets_requirements  # pylint: disable=import-outside-toplevel

    with open(os.path.join(REPO_ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        declared = yaml.safe_load(handle)["dependencies"]
    with open(os.path.join(REPO_ROOT, "requirements.yml"), encoding="utf-8") as handle:
        repeated = {item["name"]: item["version"] for item in yaml.safe_load(handle)["collections"]}
    called = _collections_called()
    assert {"kubernetes.core", "amazon.aws", "azure.azcollection", "google.cloud"} <= set(called)  # the scan works
    missing = {name: path for name, path in called.items() if name not in declared}
    assert not missing, "collections called but not in galaxy.yml dependencies: %s" % missing
    assert repeated == declared, "requirements.yml must list the same collections and ranges as galaxy.yml"
    listing = json.loads(run([tool("ansible-galaxy"), "collection", "list", "--format", "json"]).stdout)
    installed = {}
    for collections in listing.values():
        for name, info in collections.items():
            installed.setdefault(name, info["version"])
    for name, versions in declared.items():
        assert name in installed, "%s is not installed by requirements.txt" % name
        assert meets_requirements(installed[name], versions), "%s %s does not meet %s" % (name, installed[name], versions)
