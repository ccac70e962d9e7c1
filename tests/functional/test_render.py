# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render every inventory with the real site.yml and check the manifests with real tools.

Real components: ``ansible-playbook site.yml -i inventories/<name>`` from the checkout's .venv
(every role, render mode, into a temporary folder), ``kubernetes-validate --strict`` (its Python
API) for Kubernetes 1.30 and the newest version the installed package ships, and ``checkov``
from ``.venv-checkov`` with the skips of ``tests/checkov-skips.yaml``. Each inventory is
rendered and rendered again; ``local`` (in-cluster PostgreSQL, its password read back) and
``azure`` (the storage account Secret) are also run with ``--check`` after that. Those runs must
report changed=0 and leave every Secret byte-identical. No cluster is involved.
"""

import concurrent.futures
import os
import re

import pytest
import yaml

from tests.support import manifests

pytestmark = [pytest.mark.slow]

# Check mode reads back and compares like a normal run; two inventories cover every secret path
# (the local database password, the Azure storage key) and keep the suite's runtime down.
CHECK_MODE_INVENTORIES = ("local", "azure")


def _render_all(tmp_root):
    """Render, re-render and --check every inventory, two at a time (the CI machine has 2 cores)."""
    folders = {name: os.path.join(tmp_root, name) for name in manifests.INVENTORIES}
    runs = {name: {} for name in manifests.INVENTORIES}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for phase, check in (("first", False), ("second", False), ("check", True)):
            futures = {name: pool.submit(manifests.run_playbook, name, folders[name], check=check)
                       for name in manifests.INVENTORIES
                       if (phase == "first" or runs[name]["first"].returncode == 0)
                       and (phase != "check" or name in CHECK_MODE_INVENTORIES)}
            for name, future in futures.items():
                runs[name][phase] = future.result()
            if phase == "first":
                for name in manifests.INVENTORIES:
                    runs[name]["secrets_after_first"] = (manifests.secret_contents(folders[name])
                                                         if runs[name]["first"].returncode == 0 else {})
    return folders, runs


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{inventory: (render folder, {phase: PlaybookRun, 'secrets_after_first': {...}})} for every inventory."""
    folders, runs = _render_all(str(tmp_path_factory.mktemp("render")))
    return {name: (folders[name], runs[name]) for name in manifests.INVENTORIES}


@pytest.fixture(params=manifests.INVENTORIES)
def inventory(request, rendered):
    """One rendered inventory; fails (with the playbook's output) if its first render failed."""
    folder, runs = rendered[request.param]
    first = runs["first"]
    assert first.returncode == 0, "site.yml failed on inventories/%s:\n%s" % (request.param, first.tail())
    return request.param, folder, runs


def test_render_succeeds_and_produces_the_foundation(inventory):
    """Every inventory renders, with the namespace, storage, RBAC and secrets objects in place."""
    name, folder, _runs = inventory
    kinds = {}
    for _path, document in manifests.load_manifests(folder):
        kinds.setdefault(document["kind"], set()).add(document["metadata"]["name"])
    assert "airflow" in kinds["Namespace"]
    assert {"airflow-dags", "airflow-logs"} <= kinds["PersistentVolumeClaim"]
    assert {"airflow-airflow-dags", "airflow-airflow-logs"} <= kinds["PersistentVolume"]
    assert {"airflow-scheduler", "airflow-api-server", "airflow-dag-processor", "airflow-triggerer",
            "airflow-migrations", "airflow-task"} <= kinds["ServiceAccount"]
    assert {"airflow-fernet-key", "airflow-metadata", "airflow-api-secret-key", "airflow-jwt-secret",
            "airflow-admin-user"} <= kinds["Secret"]
    assert "ClusterRole" not in kinds and "ClusterRoleBinding" not in kinds
    # The housekeeping CronJobs (on by default) are validated and scanned with everything else here.
    assert {"airflow-db-clean", "airflow-pod-cleanup", "airflow-log-retention"} <= kinds["CronJob"]
    if name == "local":
        assert "airflow-postgresql" in kinds["StatefulSet"]
    else:
        assert "StatefulSet" not in kinds or "airflow-postgresql" not in kinds["StatefulSet"]


def test_manifests_pass_strict_schema_validation(inventory):
    """kubernetes-validate --strict for Kubernetes 1.30 and the newest version the package ships."""
    _name, folder, _runs = inventory
    versions = manifests.validation_versions()
    assert versions[0] == "1.30" and len(versions) == 2, versions
    problems = manifests.validate_schemas(folder, versions)
    assert not problems, "\n".join(problems)


def test_manifests_pass_checkov(inventory):
    """checkov finds nothing beyond the checks waived, with reasons, in tests/checkov-skips.yaml."""
    _name, folder, _runs = inventory
    problems, _used = manifests.run_checkov(folder)
    assert not problems, "\n".join(problems)


def test_second_render_and_check_mode_change_nothing(inventory):
    """A re-render (and a --check after it) report changed=0; the Secrets stay byte-identical."""
    name, folder, runs = inventory
    for phase in ("second", "check") if name in CHECK_MODE_INVENTORIES else ("second",):
        run = runs[phase]
        assert run.returncode == 0, "%s run of inventories/%s failed:\n%s" % (phase, name, run.tail())
        assert run.recap and run.changed == 0, "%s run of inventories/%s changed something:\n%s" % (
            phase, name, "\n".join(run.changed_tasks()) or run.tail())
    assert runs["secrets_after_first"], "no Secret was rendered"
    assert manifests.secret_contents(folder) == runs["secrets_after_first"]


def test_secret_files_are_private(inventory):
    """Secrets only in secret-*.yaml files of mode 0600, in folders of mode 0700, using data."""
    _name, folder, _runs = inventory
    problems = manifests.check_file_modes(folder)
    assert not problems, "\n".join(problems)


def test_run_output_never_contains_a_secret_value(inventory):
    """Neither the generated values nor their base64 forms appear in any run's output."""
    name, folder, runs = inventory
    values = manifests.secret_values(folder)
    # The fernet key, API secret key, JWT secret, admin password, connection URI and its password.
    assert len(values) >= 10, "expected the generated secret values of inventories/%s" % name
    for phase in [phase for phase in ("first", "second", "check") if phase in runs]:
        output = runs[phase].output
        leaked = sorted(value[:6] + "..." for value in values if value in output)
        assert not leaked, "the %s run of inventories/%s printed secret values starting %s" % (phase, name, leaked)


def test_generated_secrets_are_what_airflow_expects(inventory):
    """The fernet key is a valid Fernet key, the URI names the database facts, the admin Secret has both keys."""
    from cryptography.fernet import Fernet  # pylint: disable=import-outside-toplevel
    import base64  # pylint: disable=import-outside-toplevel

    name, folder, _runs = inventory
    secrets = {document["metadata"]["name"]: {key: base64.b64decode(value).decode() for key, value in document["data"].items()}
               for _path, document in manifests.load_manifests(folder) if document["kind"] == "Secret"}
    Fernet(secrets["airflow-fernet-key"]["fernet-key"].encode())
    uri = secrets["airflow-metadata"]["connection"]
    if name == "local":
        assert re.match(r"^postgresql\+psycopg2://airflow:[A-Za-z0-9]{64}@airflow-postgresql\.airflow\.svc:5432/airflow\?sslmode=disable$", uri)
        assert uri.split(":")[2].split("@")[0] == secrets["airflow-postgresql"]["password"]
    else:
        # The cloud inventories provision their server; renders use the no-cloud overrides' placeholder host.
        no_cloud = os.path.join(manifests.REPOSITORY_ROOT, "tests", "functional", "vars", "no_cloud_%s.yml" % name)
        with open(no_cloud if os.path.exists(no_cloud) else os.path.join(
                manifests.REPOSITORY_ROOT, "inventories", name, "group_vars", "all", "database.yml")) as stream:
            host = yaml.safe_load(stream)["database_external_host"]
        assert re.match(r"^postgresql\+psycopg2://airflow:[^@]+@%s:5432/airflow\?sslmode=require$" % re.escape(host), uri)
    assert set(secrets["airflow-admin-user"]) == {"username", "password"}
    assert secrets["airflow-admin-user"]["username"] == "admin"
    assert len(secrets["airflow-api-secret-key"]["api-secret-key"]) == 64
    assert len(secrets["airflow-jwt-secret"]["jwt-secret"]) == 64
