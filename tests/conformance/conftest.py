# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the conformance suite: the collection's outputs in the real Apache Airflow 3.3.

Real components, no emulators:

- Apache Airflow 3.3 with the celery, cncf.kubernetes, postgres and fab providers, installed in its own
  virtual environment ``.venv-airflow/`` by ``tests/conformance/setup_airflow_venv.sh`` (pinned by
  ``constraints-airflow.txt``). The tests call its CLI (``.venv-airflow/bin/airflow``) through
  subprocesses, each with its own ``AIRFLOW_HOME`` in a temporary directory and every setting in
  the environment or in an ``airflow.cfg`` written there. Nothing from ``os.environ`` starting with
  ``AIRFLOW`` leaks in. A missing venv FAILS the tests with the command that builds it.
- PostgreSQL from Debian's packages, the ``postgresql_server`` fixture of ``tests/conftest.py``; Redis
  and PgBouncer from Debian's ``redis-server`` and ``pgbouncer`` packages (test_airflow_executors.py).
- The collection's modules and ``site.yml``, run through Ansible (``.venv/bin/ansible-playbook``)
  exactly as a user runs them, never by importing their internals.

Secrets (database password, URIs, fernet keys, rendered Secrets) are never printed: failure
messages go through ``SECRETS.redact``, and module results are handed over in 0600 files.
"""

import re
import shutil

import pytest

from tests.conformance.airflow_harness import (
    AIRFLOW_BIN,
    AIRFLOW_VENV,
    DATABASE_NAME,
    DATABASE_ROLE,
    EXAMPLE_DAGS,
    NASTY_PASSWORD,
    REPOSITORY_ROOT,
    SECRETS,
    SETUP_SCRIPT,
    SHIPPED_DAG_DIRS,
    ComponentRuntime,
    MetadataDatabase,
    RenderedDeployment,
    airflow_workloads,
    private_dir,
    run_airflow,
    run_module,
    run_site_render,
)


@pytest.fixture(scope="session")
def airflow_venv():
    """The Airflow venv; FAILS (does not skip) when it has not been built."""
    stamp = AIRFLOW_VENV / ".conformance-ready"
    if not (AIRFLOW_BIN / "airflow").exists() or not stamp.exists():
        pytest.fail(
            "%s is missing or incomplete: build it with `%s` (CI always does; the conformance "
            "suite needs the real Apache Airflow 3.3)" % (AIRFLOW_VENV, SETUP_SCRIPT),
            pytrace=False,
        )
    return AIRFLOW_VENV


@pytest.fixture()
def airflow_home(tmp_path):
    """A fresh, private AIRFLOW_HOME for one test."""
    home = tmp_path / "airflow-home"
    home.mkdir(mode=0o700)
    return home


@pytest.fixture(scope="session")
def conformance_postgresql(request):
    """``postgresql_server`` from tests/conftest.py, but a missing server FAILS here instead of skipping:
    a conformance suite that quietly skips proves nothing."""
    try:
        return request.getfixturevalue("postgresql_server")
    except pytest.skip.Exception as skipped:
        return pytest.fail("the conformance suite needs PostgreSQL from Debian's packages: %s" % skipped, pytrace=False)


@pytest.fixture(scope="session")
def metadata_database(airflow_venv, conformance_postgresql, tmp_path_factory):
    """Role and database on the test server, URIs from connection_uri, ``airflow db migrate`` run once.

    The migration outcome is recorded, not asserted here: test_db_migrate_completes asserts it and
    every other test calls :meth:`MetadataDatabase.require_migrated`.
    """
    del airflow_venv
    postgresql_server = conformance_postgresql
    postgresql_server.create_role(DATABASE_ROLE, NASTY_PASSWORD)
    postgresql_server.create_database(DATABASE_NAME, owner=DATABASE_ROLE)
    common = {
        "username": DATABASE_ROLE,
        "password": NASTY_PASSWORD,
        "host": postgresql_server.host,
        "port": postgresql_server.port,
        "database": DATABASE_NAME,
    }
    plain, for_cfg = run_module(
        "airflow_k8s.cloud.connection_uri",
        [dict(common), dict(common, escape_for_configparser=True)],
    )
    SECRETS.add(plain["uri"], for_cfg["uri"])
    database = MetadataDatabase(postgresql_server, plain["uri"], plain["uri_redacted"], for_cfg["uri"])
    home = tmp_path_factory.mktemp("airflow-migrate")
    database.migrate_result = run_airflow(["db", "migrate"], database.env(home), timeout=900)
    yield database


@pytest.fixture()
def share(tmp_path):
    """A temporary stand-in for the DAG share: the example DAG, plus any DAGs the collection ships."""
    dags = tmp_path / "share" / "dags"
    dags.mkdir(parents=True)
    shutil.copy(str(EXAMPLE_DAGS / "conformance_example.py"), str(dags / "conformance_example.py"))
    shipped = []
    for directory in SHIPPED_DAG_DIRS:
        if directory.is_dir():
            target = dags / ("shipped_" + re.sub(r"\W", "_", directory.relative_to(REPOSITORY_ROOT).as_posix()))
            shutil.copytree(str(directory), str(target), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            shipped.extend(sorted(p for p in target.rglob("*.py")))
    return {"dags": dags, "shipped": shipped}


@pytest.fixture(scope="session")
def rendered_deployment():
    """Render site.yml with the local inventory into a private directory, once per session."""
    render_dir = private_dir("conformance-render-")
    try:
        run_site_render(render_dir)
        rendered = RenderedDeployment(render_dir)
        if not rendered.objects:
            pytest.fail("site.yml rendered no Kubernetes objects under %s" % render_dir, pytrace=False)
        for secret in rendered.of_kind("Secret"):  # keep the rendered secrets out of any output
            for key in secret.get("data", {}):
                rendered.secret_value(secret["metadata"]["name"], key)
        yield rendered
    finally:
        shutil.rmtree(str(render_dir), ignore_errors=True)


@pytest.fixture(scope="session")
def scheduler_runtime(airflow_venv, rendered_deployment, tmp_path_factory):
    """The rendered scheduler's airflow.cfg and environment, laid out for the local Airflow.

    The scheduler is the component that runs KubernetesExecutor, so its view of the configuration
    (and of the pod template) is the one that builds the task pods.
    """
    del airflow_venv
    schedulers = airflow_workloads(rendered_deployment, "scheduler")
    if len(schedulers) != 1:
        pytest.fail("expected one rendered container running `airflow scheduler`, found %d" % len(schedulers), pytrace=False)
    workload, container = schedulers[0]
    home = tmp_path_factory.mktemp("scheduler-home")
    home.chmod(0o700)
    return ComponentRuntime(rendered_deployment, workload, container, home)
