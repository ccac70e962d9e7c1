# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The executor variants and PgBouncer, run by the real Apache Airflow 3.3.

Real components, no emulators:

- ``site.yml`` rendered twice with the local inventory (ansible-playbook, in parallel): the Celery
  variant (``airflow_executor: CeleryExecutor``, in-cluster Redis) and the multi-executor variant
  (``CeleryExecutor,KubernetesExecutor``) with ``pgbouncer_enabled`` and database credentials of a
  role created on the test PostgreSQL for it.
- Apache Airflow 3.3 with the celery and cncf.kubernetes providers (``.venv-airflow``): its
  api-server, scheduler and Celery worker as processes, each with the rendered airflow.cfg and its
  own container's rendered environment (Secrets resolved).
- Redis from Debian's ``redis-server`` package, started with the rendered Redis password; PgBouncer
  from Debian's ``pgbouncer`` package, started with the rendered pgbouncer.ini and users.txt;
  PostgreSQL from Debian's packages (``postgresql_server``).

What is remapped, and only that: addresses that exist only in the cluster (the Redis, PgBouncer,
api-server and database Services become 127.0.0.1 ports; the in-cluster database URI becomes the
migrated test database's), and paths that exist only in the pods (DAG folder, log folder, pod
template). The test asserts the rendered value before each swap, so a wrong rendered value fails.
"""

import concurrent.futures
import os
import shutil
import time

import pytest
import yaml

from tests.conformance.airflow_harness import (
    AIRFLOW_BIN,
    SECRETS,
    Processes,
    RenderedDeployment,
    airflow_workloads,
    component_runtime as _runtime,
    free_port,
    private_dir,
    run_airflow,
    run_airflow_python,
    run_site_render,
    swap_rendered as _swap,
    wait_for_port,
    write_private,
)

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]

PGBOUNCER_ROLE = "airflow_pgbouncer"
PGBOUNCER_DATABASE = "airflow_pgbouncer"
# Characters users.txt must quote (a double quote) and ones a URI must escape.
PGBOUNCER_PASSWORD = 'pgb"ouncer p@ss:w/rd%41 "end"'
WORKER_MARK = "celery-conformance-worker-7c1e"

DAG = '''
import os
from datetime import datetime

from airflow.configuration import conf
from airflow.sdk import dag, task


@dag(dag_id="conformance_celery", schedule=None, start_date=datetime(2025, 1, 1), catchup=False)
def conformance_celery():
    @task
    def where():
        # Only the Celery worker's environment has this variable: the log proves where the task ran.
        print("task ran on %s" % os.environ.get("CONFORMANCE_WORKER", "<not a worker>"))

    @task(executor="KubernetesExecutor")
    def in_a_pod():
        print("KubernetesExecutor task")

    where()
    # Only where KubernetesExecutor is configured: elsewhere Airflow refuses the DAG (unknown executor).
    if "KubernetesExecutor" in conf.get("core", "executor"):
        in_a_pod()


conformance_celery()
'''


@pytest.fixture(scope="module")
def renders(airflow_venv, conformance_postgresql):
    """{'celery': RenderedDeployment, 'multi': RenderedDeployment}, rendered in parallel."""
    del airflow_venv
    conformance_postgresql.create_role(PGBOUNCER_ROLE, PGBOUNCER_PASSWORD)
    conformance_postgresql.create_database(PGBOUNCER_DATABASE, owner=PGBOUNCER_ROLE)
    SECRETS.add(PGBOUNCER_PASSWORD)
    variants = {
        "celery": {"airflow_executor": "CeleryExecutor"},
        "multi": {"airflow_executor": "CeleryExecutor,KubernetesExecutor", "pgbouncer_enabled": True,
                  "workers_keda_enabled": True,
                  "database_local_username": PGBOUNCER_ROLE, "database_local_name": PGBOUNCER_DATABASE,
                  "database_local_password": PGBOUNCER_PASSWORD},
    }
    folders = {name: private_dir("conformance-%s-" % name) for name in variants}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(run_site_render, folders[name], extra) for name, extra in variants.items()]:
                future.result()
        rendered = {name: RenderedDeployment(folder) for name, folder in folders.items()}
        for deployment in rendered.values():
            for secret in deployment.of_kind("Secret"):
                for key in secret.get("data", {}):
                    deployment.secret_value(secret["metadata"]["name"], key)
        yield rendered
    finally:
        for folder in folders.values():
            shutil.rmtree(str(folder), ignore_errors=True)


@pytest.fixture(scope="module")
def celery_run(renders, metadata_database, tmp_path_factory):
    """Redis, api-server, scheduler and Celery worker from the Celery render; one DAG run triggered and
    waited for. Returns (task states, log text of the `where` task, the worker's log)."""
    metadata_database.require_migrated()
    rendered = renders["celery"]
    work = tmp_path_factory.mktemp("celery")
    share, logs = work / "dags", work / "logs"
    share.mkdir()
    logs.mkdir()
    (share / "conformance_celery.py").write_text(DAG, encoding="utf-8")
    processes = Processes(private_dir("conformance-celery-processes-"))
    try:
        # Redis with the rendered password (a 0600 config file, never a command-line argument).
        password = rendered.secret_value("airflow-redis-password", "password")
        redis_port = free_port()
        redis_conf = write_private(work / "redis.conf",
                                   "bind 127.0.0.1\nport %d\nrequirepass %s\nsave \"\"\nappendonly no\ndir %s\n"
                                   % (redis_port, password, work))
        redis, redis_log = processes.start("redis", ["redis-server", str(redis_conf)])
        wait_for_port(redis_port, redis, redis_log)

        api_port, log_port = free_port(), free_port()
        broker = _swap(rendered.secret_value("airflow-broker-url", "connection"), "@airflow-redis.airflow.svc:6379/",
                       "@127.0.0.1:%d/" % redis_port, "broker URL")
        backend = _swap(rendered.secret_value("airflow-result-backend", "connection"),
                        rendered.secret_value("airflow-metadata", "connection"), metadata_database.uri, "result backend")
        SECRETS.add(broker, backend)

        def env(command, **extra):
            runtime = _runtime(rendered, command, work / ("home-" + command))
            celery = {}
            if command != "api-server":  # the scheduler and the workers talk to the broker, the api-server does not
                assert runtime.pod_env["AIRFLOW__CELERY__BROKER_URL"] == rendered.secret_value("airflow-broker-url", "connection")
                assert runtime.pod_env["AIRFLOW__CELERY__RESULT_BACKEND"] == rendered.secret_value("airflow-result-backend", "connection")
                celery = {"AIRFLOW__CELERY__BROKER_URL": broker, "AIRFLOW__CELERY__RESULT_BACKEND": backend}
            execution_api = runtime.airflow_cfg.split("execution_api_server_url = ")[1].splitlines()[0]
            return runtime, runtime.env(
                AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata_database.uri,
                **celery,
                AIRFLOW__CORE__DAGS_FOLDER=share,
                AIRFLOW__LOGGING__BASE_LOG_FOLDER=logs,
                AIRFLOW__CORE__EXECUTION_API_SERVER_URL=_swap(
                    execution_api, "http://airflow-api-server.airflow.svc.cluster.local:8080/",
                    "http://127.0.0.1:%d/" % api_port, "execution API URL"),
                AIRFLOW__API__PORT=api_port,
                AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=log_port,
                AIRFLOW__METRICS__STATSD_ON="False",
                # Two task processes instead of the rendered 16, on a shared 2-core machine.
                AIRFLOW__CELERY__WORKER_CONCURRENCY=2,
                **extra)

        scheduler_runtime, scheduler_env = env("scheduler")
        api_runtime, api_env = env("api-server") if airflow_workloads(rendered, "api-server") else (None, None)
        worker_runtime, worker_env = env("celery", CONFORMANCE_WORKER=WORKER_MARK)
        assert worker_runtime.container["args"][:2] == ["celery", "worker"]
        assert api_runtime is not None, "no rendered api-server"
        run_airflow(["dags", "reserialize"], scheduler_env, check=True)

        api, api_log = processes.start("api-server", [str(AIRFLOW_BIN / "airflow")] + api_runtime.container["args"],
                                       env=api_env, cwd=str(api_runtime.home))
        processes.start("scheduler", [str(AIRFLOW_BIN / "airflow")] + scheduler_runtime.container["args"],
                        env=scheduler_env, cwd=str(scheduler_runtime.home))
        worker, worker_log = processes.start("worker", [str(AIRFLOW_BIN / "airflow")] + worker_runtime.container["args"],
                                             env=worker_env, cwd=str(worker_runtime.home))
        wait_for_port(api_port, api, api_log, timeout=180)
        wait_for_port(log_port, worker, worker_log, timeout=180)
        run_airflow(["dags", "unpause", "conformance_celery"], scheduler_env, check=True)
        run_airflow(["dags", "trigger", "conformance_celery", "--run-id", "conformance"], scheduler_env, check=True)
        states = {}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            result = run_airflow(["tasks", "states-for-dag-run", "conformance_celery", "conformance", "-o", "json"], scheduler_env)
            if result.ok:
                states = {row["task_id"]: row["state"] for row in result.json()}
                if states and all(state in ("success", "failed", "upstream_failed") for state in states.values()):
                    break
            time.sleep(3)
        task_logs = "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in logs.rglob("*.log")
                              if "task_id=where" in str(path))
        yield states, task_logs, processes
    finally:
        processes.stop()
        shutil.rmtree(str(processes.directory), ignore_errors=True)


def test_celery_worker_runs_the_task_from_the_rendered_configuration(celery_run):
    """The scheduler (CeleryExecutor) queues the task in the real Redis, the worker runs it through the
    api-server's execution API, and the task's log names the worker it ran on."""
    states, task_logs, processes = celery_run
    assert states == {"where": "success"}, "task states %s\n--- scheduler ---\n%s\n--- worker ---\n%s" % (
        states, processes.log("scheduler"), processes.log("worker"))
    assert "task ran on %s" % WORKER_MARK in task_logs, "the task log does not name the worker:\n%s" % task_logs[-3000:]


MULTI_PROGRAM = r'''
import json, sys
from airflow.executors.executor_loader import ExecutorLoader
from airflow.dag_processing.dagbag import DagBag
names = [str(name) for name in ExecutorLoader.get_executor_names()]
loaded = [type(ExecutorLoader.load_executor(name)).__name__ for name in ExecutorLoader.get_executor_names()]
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags["conformance_celery"]
print(json.dumps({"names": names, "loaded": loaded, "errors": {k: str(v) for k, v in bag.import_errors.items()},
                  "executors": {task.task_id: task.executor for task in dag.tasks}}))
'''


def test_multi_executor_loads_both_and_builds_the_kubernetes_tasks_pod(renders, metadata_database, tmp_path):
    """With CeleryExecutor,KubernetesExecutor Airflow loads both executors, accepts a task with
    executor="KubernetesExecutor", and the cncf.kubernetes provider builds that task's pod from the
    rendered pod template (airflow kubernetes generate-dag-yaml)."""
    metadata_database.require_migrated()
    rendered = renders["multi"]
    runtime = _runtime(rendered, "scheduler", tmp_path / "home")
    assert runtime.pod_env.get("AIRFLOW__CELERY__BROKER_URL"), "the scheduler of the multi variant has no broker URL"
    share = tmp_path / "dags"
    share.mkdir()
    (share / "conformance_celery.py").write_text(DAG, encoding="utf-8")
    template = tmp_path / "pod_template_file.yaml"
    template.write_text(runtime.file_from_config_map("/opt/airflow/pod_templates/pod_template_file.yaml"), encoding="utf-8")
    env = runtime.env(AIRFLOW__CORE__DAGS_FOLDER=share, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata_database.uri,
                      AIRFLOW__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE=template, AIRFLOW__METRICS__STATSD_ON="False")
    found = run_airflow_python("import sys; sys.argv = ['multi', %r]\n%s" % (str(share), MULTI_PROGRAM), env)
    assert found["errors"] == {}
    assert found["loaded"] == ["CeleryExecutor", "KubernetesExecutor"], found
    assert found["executors"] == {"where": None, "in_a_pod": "KubernetesExecutor"}
    output = tmp_path / "pods"
    run_airflow(["dags", "reserialize"], env, check=True)
    run_airflow(["kubernetes", "generate-dag-yaml", "conformance_celery", "--logical-date", "2025-01-01T00:00:00+00:00",
                 "--output-path", str(output)], env, check=True)
    pods = {}
    for path in output.rglob("*.yml"):
        pod = yaml.safe_load(path.read_text(encoding="utf-8"))
        pods[pod["metadata"]["labels"]["task_id"]] = pod
    assert "in_a_pod" in pods, sorted(pods)
    pod = pods["in_a_pod"]
    assert pod["spec"]["serviceAccountName"] == "airflow-task"
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "task"
    assert [container["name"] for container in pod["spec"]["containers"]][0] == "base"


def test_airflow_db_check_passes_through_the_rendered_pgbouncer(renders, conformance_postgresql, tmp_path):
    """Debian's pgbouncer, run with the rendered pgbouncer.ini and users.txt against the real PostgreSQL,
    accepts the rendered metadata connection (the database user and password through SCRAM), and
    `airflow db check` passes through it."""
    rendered = renders["multi"]
    ini = rendered.secret_value("airflow-pgbouncer-config", "pgbouncer.ini")
    users = rendered.secret_value("airflow-pgbouncer-config", "users.txt")
    port = free_port()
    ini = _swap(ini, "host=airflow-postgresql.airflow.svc port=5432",
                "host=%s port=%d" % (conformance_postgresql.host, conformance_postgresql.port), "pgbouncer.ini database")
    ini = _swap(ini, "listen_addr = *\nlisten_port = 6543", "listen_addr = 127.0.0.1\nlisten_port = %d" % port, "pgbouncer.ini listener")
    ini = _swap(ini, "auth_file = /etc/pgbouncer/users.txt", "auth_file = %s" % (tmp_path / "users.txt"), "pgbouncer.ini auth_file")
    write_private(tmp_path / "users.txt", users + "\n")
    write_private(tmp_path / "pgbouncer.ini", ini)
    processes = Processes(tmp_path)
    try:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"  # /usr/sbin is not on every user's PATH
        # PgBouncer refuses to run as root: as root, it reads its files and then switches to the postgres user
        # (Debian's postgresql package creates it), as the test PostgreSQL server does.
        as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
        pgbouncer, log = processes.start("pgbouncer", [binary] + as_user + [str(tmp_path / "pgbouncer.ini")])
        wait_for_port(port, pgbouncer, log)
        runtime = _runtime(rendered, "scheduler", tmp_path / "home")
        connection = _swap(runtime.pod_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], "@airflow-pgbouncer.airflow.svc:6543/",
                           "@127.0.0.1:%d/" % port, "metadata connection")
        SECRETS.add(connection)
        env = runtime.env(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=connection, AIRFLOW__METRICS__STATSD_ON="False")
        check = run_airflow(["db", "check"], env)
        assert check.ok, check.describe() + "\n--- pgbouncer ---\n" + processes.log("pgbouncer")
        # A wrong password is refused by PgBouncer: the check above did go through its user list.
        wrong = connection.replace(connection.split("://", 1)[1].split("@", 1)[0], PGBOUNCER_ROLE + ":wrong")
        refused = run_airflow(["db", "check"], runtime.env(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=wrong,
                                                           AIRFLOW__METRICS__STATSD_ON="False"), timeout=120)
        assert not refused.ok
    finally:
        processes.stop()


def test_keda_query_counts_the_workers_tasks_in_the_real_metadata_schema(renders, celery_run, metadata_database):
    """The rendered ScaledObject's query runs against the metadata database Airflow 3.3 migrated (real
    PostgreSQL): its columns exist, and it counts tasks the way KEDA needs (the finished Celery task of
    the run above counts for nothing; a queued one for a worker, a KubernetesExecutor one not at all).
    The trigger's connection is a libpq URI (what KEDA's postgresql scaler parses), naming the same
    database, user and host as the metadata connection."""
    import psycopg2.extensions  # pylint: disable=import-outside-toplevel

    states, _logs, _processes = celery_run
    assert states.get("where") == "success"
    rendered = renders["multi"]
    query = rendered.get("ScaledObject", "airflow-worker")["spec"]["triggers"][0]["metadata"]["query"]
    scaler = psycopg2.extensions.parse_dsn(rendered.secret_value("airflow-worker-scaler", "connection"))
    metadata = rendered.secret_value("airflow-metadata", "connection")
    assert metadata.startswith("postgresql+psycopg2://")
    assert (scaler["host"], scaler["port"], scaler["dbname"], scaler["user"]) == (
        "airflow-pgbouncer.airflow.svc", "6543", PGBOUNCER_DATABASE, PGBOUNCER_ROLE)
    with metadata_database.connect() as connection, connection.cursor() as cursor:
        cursor.execute(query)
        assert cursor.fetchone()[0] == 0, "a finished task must not keep a worker"
        cursor.execute("SAVEPOINT counting")
        cursor.execute("UPDATE task_instance SET state = 'queued' WHERE dag_id = 'conformance_celery' AND task_id = 'where'")
        cursor.execute(query)
        assert cursor.fetchone()[0] == 1, "one queued task needs one worker"
        cursor.execute("UPDATE task_instance SET executor = 'KubernetesExecutor' WHERE dag_id = 'conformance_celery'")
        cursor.execute(query)
        assert cursor.fetchone()[0] == 0, "a KubernetesExecutor task runs in its own pod, not on a worker"
        cursor.execute("ROLLBACK TO SAVEPOINT counting")
        connection.rollback()
