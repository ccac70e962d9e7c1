# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remote task logs, end to end through the rendered configuration, with the real Apache Airflow 3.3.

For each storage (aws: S3, azure: Blob Storage through WASB, gcp: Cloud Storage) ``site.yml`` is
rendered with ``config_remote_logging_enabled`` and that provider's bucket/container, path,
connection and ``config_remote_logging_delete_local_logs``. Then a DAG run is triggered and its task
runs; the task's log must be an object in the emulated storage, and Airflow's log reader (the one
the api-server's log endpoint calls) must return the task's output from there.

Real:
- ``ansible-playbook site.yml -i inventories/local`` in render mode (three renders, two at a time);
  the airflow.cfg and the container environments (the connection Secret resolved) are the rendered ones.
- Apache Airflow 3.3 (``.venv-airflow``) with the amazon, microsoft.azure and google providers: its
  api-server and scheduler as processes, PostgreSQL from Debian's packages (the migrated metadata
  database). The task runs in the scheduler's LocalExecutor under Airflow's task supervisor, which
  uploads the log through the configured remote log handler when the task ends, exactly as a
  task pod's supervisor does. The object is then read back with the cloud SDKs themselves
  (boto3, azure-storage-blob, google-cloud-storage), and through ``TaskLogReader``.

Emulated (loopback processes started once for the module, stopped after it):
- S3: the moto server (``tests/support/moto_server.py``); the AWS connection's ``endpoint_url``
  extra points at it (a real Airflow option).
- Azure Blob Storage: Azurite (npm), with a storage account of a random key; the WASB connection
  carries its connection string (a real Airflow option).
- Cloud Storage: gcp-storage-emulator (PyPI); the connection is anonymous (``is_anonymous``, a real
  option of the Google connection) and ``STORAGE_EMULATOR_HOST`` (the google-cloud-storage client's
  switch) is set in the scheduler's and the reader's environment: the only variable added here that
  a cluster would not have.

Remapped, as in the executor tests: in-cluster addresses (api-server, database) become 127.0.0.1
ports and pod paths (DAG and log folders) local ones. The executor is LocalExecutor instead of the
rendered KubernetesExecutor (no cluster to start task pods); the upload is the same task-supervisor
code either way.
"""

import concurrent.futures
import json
import secrets
import shutil
import time

import pytest

from tests.conformance.airflow_harness import (
    AIRFLOW_BIN,
    SECRETS,
    Processes,
    RenderedDeployment,
    airflow_env,
    component_runtime,
    free_port,
    private_dir,
    run_airflow,
    run_airflow_python,
    run_site_render,
    swap_rendered,
    wait_for_port,
)
from tests.support.moto_server import MotoServer
from tests.support.storage_emulators import Azurite, GcsEmulator

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]

PROVIDERS = ("aws", "azure", "gcp")
BUCKET = {"aws": "conformance-task-logs", "azure": "airflow-logs", "gcp": "conformance-task-logs"}
LOG_PATH = {"aws": "logs", "azure": "task-logs", "gcp": "prod/tasks"}
# Both settings of config_remote_logging_delete_local_logs are covered.
DELETE_LOCAL = {"aws": False, "azure": True, "gcp": True}
AWS_REGION = "eu-west-1"
TASK_ID = "say"
RUN_ID = "remote-logs"

DAG = '''
from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id=%(dag_id)r, schedule=None, start_date=datetime(2025, 1, 1), catchup=False)
def remote_logs():
    @task
    def say():
        print(%(marker)r)

    say()


remote_logs()
'''

# Lists the objects under the log prefix with the cloud SDK itself (not Airflow's hooks) and
# returns {name: text}. argv: provider, JSON settings.
LIST_OBJECTS = r'''
import json, os, sys
provider, settings = sys.argv[1], json.loads(sys.argv[2])
found = {}
if provider == "aws":
    import boto3
    s3 = boto3.client("s3", endpoint_url=settings["endpoint"], region_name=settings["region"],
                      aws_access_key_id="conformance", aws_secret_access_key="conformance")
    for item in s3.list_objects_v2(Bucket=settings["bucket"], Prefix=settings["prefix"]).get("Contents", []):
        found[item["Key"]] = s3.get_object(Bucket=settings["bucket"], Key=item["Key"])["Body"].read().decode()
elif provider == "azure":
    from azure.storage.blob import BlobServiceClient
    container = BlobServiceClient.from_connection_string(settings["connection_string"]).get_container_client(settings["bucket"])
    for blob in container.list_blobs(name_starts_with=settings["prefix"]):
        found[blob.name] = container.download_blob(blob.name).readall().decode()
else:
    os.environ["STORAGE_EMULATOR_HOST"] = settings["endpoint"]
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    client = storage.Client(credentials=AnonymousCredentials(), project="conformance")
    for blob in client.list_blobs(settings["bucket"], prefix=settings["prefix"]):
        found[blob.name] = blob.download_as_bytes().decode()
print(json.dumps(found))
'''

# Reads the task's log the way the api-server's log endpoint does (TaskLogReader with the
# configured task handler, which asks the remote log IO of [logging] remote_base_log_folder).
READ_LOG = r'''
import json, sys
from sqlalchemy import select
from airflow.logging_config import get_remote_task_log
from airflow.models.taskinstance import TaskInstance
from airflow.utils.log.log_reader import TaskLogReader
from airflow.utils.session import create_session
dag_id, run_id, task_id = sys.argv[1:4]
with create_session() as session:
    ti = session.scalar(select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id,
                                                   TaskInstance.task_id == task_id))
    reader = TaskLogReader()
    text = "".join(reader.read_log_stream(ti, ti.try_number, {}))
print(json.dumps({"text": text, "remote_io": type(get_remote_task_log()).__name__}))
'''


def _connection(provider, storage):
    """The Airflow connection (JSON, as config_remote_logging_connection takes it) to the emulator."""
    if provider == "aws":
        return {"conn_type": "aws", "login": "conformance", "password": "conformance-secret-key",
                "extra": {"endpoint_url": storage.url, "region_name": AWS_REGION}}
    if provider == "azure":
        return {"conn_type": "wasb", "extra": {"connection_string": storage.connection_string}}
    return {"conn_type": "google_cloud_platform", "extra": {"project": "conformance", "is_anonymous": True}}


@pytest.fixture(scope="module")
def storages(airflow_venv, tmp_path_factory):
    """{provider: emulator} on loopback, each with its bucket or container created."""
    del airflow_venv
    work = tmp_path_factory.mktemp("remote-logging-storage")
    started = []
    try:
        moto = MotoServer().start()
        started.append(moto)
        import boto3  # pylint: disable=import-outside-toplevel

        boto3.client("s3", endpoint_url=moto.url, region_name=AWS_REGION, aws_access_key_id="conformance",
                     aws_secret_access_key="conformance").create_bucket(
            Bucket=BUCKET["aws"], CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
        azurite = Azurite(work / "azurite").start()
        started.append(azurite)
        SECRETS.add(azurite.key, azurite.connection_string)
        gcs = GcsEmulator(work / "gcs", BUCKET["gcp"]).start()
        started.append(gcs)
        # The container, with the Azure SDK of the Airflow venv (the same one the WASB handler uses).
        run_airflow_python(
            "import json, sys\nfrom azure.storage.blob import BlobServiceClient\n"
            "BlobServiceClient.from_connection_string(sys.argv[1]).create_container(sys.argv[2])\nprint(json.dumps(1))",
            airflow_env(work), argv=[azurite.connection_string, BUCKET["azure"]])
        yield {"aws": moto, "azure": azurite, "gcp": gcs}
    finally:
        for emulator in reversed(started):
            emulator.stop()


@pytest.fixture(scope="module")
def renders(storages):
    """{provider: RenderedDeployment} of site.yml with remote logging to that provider's emulator."""
    folders = {provider: private_dir("conformance-remote-logs-%s-" % provider) for provider in PROVIDERS}
    try:
        variables = {}
        for provider in PROVIDERS:
            connection = json.dumps(_connection(provider, storages[provider]))
            SECRETS.add(connection)
            variables[provider] = {
                "config_remote_logging_enabled": True, "config_remote_logging_provider": provider,
                "config_remote_logging_bucket": BUCKET[provider], "config_remote_logging_path": LOG_PATH[provider],
                "config_remote_logging_connection": connection,
                "config_remote_logging_delete_local_logs": DELETE_LOCAL[provider]}
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(run_site_render, folders[p], variables[p]) for p in PROVIDERS]:
                future.result()
        yield {provider: RenderedDeployment(folder) for provider, folder in folders.items()}
    finally:
        for folder in folders.values():
            shutil.rmtree(str(folder), ignore_errors=True)


def _storage_settings(provider, storage):
    settings = {"bucket": BUCKET[provider], "prefix": LOG_PATH[provider] + "/"}
    if provider == "azure":
        settings["connection_string"] = storage.connection_string
    else:
        settings["endpoint"] = storage.url
    if provider == "aws":
        settings["region"] = AWS_REGION
    return settings


def _wait_for_task(metadata_database, dag_id, timeout=300):
    """The task's state in the metadata database once it is final (or the last one seen at the deadline).
    A SQL query rather than `airflow tasks states-for-dag-run`: each CLI call costs seconds of imports."""
    state = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with metadata_database.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT state FROM task_instance WHERE dag_id = %s AND run_id = %s AND task_id = %s",
                           (dag_id, RUN_ID, TASK_ID))
            row = cursor.fetchone()
        connection.close()
        state = row[0] if row else None
        if state in ("success", "failed", "upstream_failed"):
            break
        time.sleep(2)
    return state


@pytest.fixture(scope="module", params=PROVIDERS)
def remote_run(request, renders, storages, metadata_database, tmp_path_factory):
    """One DAG run through the api-server and scheduler of ``provider``'s render; returns what was found."""
    provider = request.param
    metadata_database.require_migrated()
    rendered = renders[provider]
    work = tmp_path_factory.mktemp("remote-logs-%s" % provider)
    share, logs = work / "dags", work / "logs"
    share.mkdir()
    logs.mkdir()
    dag_id = "conformance_remote_logs_%s" % provider
    marker = "remote log of %s %s" % (provider, secrets.token_hex(6))
    (share / (dag_id + ".py")).write_text(DAG % {"dag_id": dag_id, "marker": marker}, encoding="utf-8")
    api_port, log_port = free_port(), free_port()
    emulator = {"STORAGE_EMULATOR_HOST": storages["gcp"].url} if provider == "gcp" else {}

    def env(command):
        runtime = component_runtime(rendered, command, work / ("home-" + command))
        execution_api = runtime.airflow_cfg.split("execution_api_server_url = ")[1].splitlines()[0]
        return runtime, runtime.env(
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata_database.uri,
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__DAGS_FOLDER=share,
            AIRFLOW__LOGGING__BASE_LOG_FOLDER=logs,
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=swap_rendered(
                execution_api, "http://airflow-api-server.airflow.svc.cluster.local:8080/",
                "http://127.0.0.1:%d/" % api_port, "execution API URL"),
            AIRFLOW__API__PORT=api_port,
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=log_port,
            AIRFLOW__METRICS__STATSD_ON="False",
            AIRFLOW__CORE__PARALLELISM=2,
            **emulator)

    scheduler_runtime, scheduler_env = env("scheduler")
    api_runtime, api_env = env("api-server")
    processes = Processes(private_dir("conformance-remote-logs-processes-"))
    found = {"provider": provider, "dag_id": dag_id, "marker": marker, "logs": logs,
             "cfg": scheduler_runtime.airflow_cfg, "scheduler_env": scheduler_runtime.pod_env}
    try:
        # The api-server starts while the DAG is serialized (it needs no DAG to come up).
        api, api_log = processes.start("api-server", [str(AIRFLOW_BIN / "airflow")] + api_runtime.container["args"],
                                       env=api_env, cwd=str(api_runtime.home))
        run_airflow(["dags", "reserialize"], scheduler_env, check=True)
        processes.start("scheduler", [str(AIRFLOW_BIN / "airflow")] + scheduler_runtime.container["args"],
                        env=scheduler_env, cwd=str(scheduler_runtime.home))
        wait_for_port(api_port, api, api_log, timeout=180)
        run_airflow(["dags", "unpause", dag_id], scheduler_env, check=True)
        run_airflow(["dags", "trigger", dag_id, "--run-id", RUN_ID], scheduler_env, check=True)
        found["state"] = _wait_for_task(metadata_database, dag_id)
        # The supervisor uploads right after the task reports its state: wait for the object.
        settings = json.dumps(_storage_settings(provider, storages[provider]))
        deadline = time.monotonic() + 60
        while True:
            found["objects"] = run_airflow_python(LIST_OBJECTS, airflow_env(work), argv=[provider, settings])
            if found["objects"] or time.monotonic() > deadline:
                break
            time.sleep(2)
        # Stop the scheduler (and its log server) first: the reader must find the log remotely.
        processes.stop()
        found["local_files"] = {str(path.relative_to(logs)): path.read_text(encoding="utf-8", errors="replace")
                                for path in logs.rglob("*") if path.is_file() and "dag_id=%s" % dag_id in str(path)}
        found["read"] = run_airflow_python(READ_LOG, api_env, argv=[dag_id, RUN_ID, TASK_ID])
        found["processes"] = processes
        yield found
    finally:
        processes.stop()
        shutil.rmtree(str(processes.directory), ignore_errors=True)


def test_rendered_configuration_selects_the_providers_remote_log_handler(remote_run):
    """The rendered airflow.cfg turns remote logging on with the provider's base folder, and Airflow's
    logging configuration built from it loads that provider's remote log IO."""
    provider = remote_run["provider"]
    cfg = remote_run["cfg"]
    base = {"aws": "s3://%s/%s" % (BUCKET["aws"], LOG_PATH["aws"]), "gcp": "gs://%s/%s" % (BUCKET["gcp"], LOG_PATH["gcp"]),
            "azure": "wasb://%s" % LOG_PATH["azure"]}[provider]
    assert "remote_base_log_folder = %s\n" % base in cfg
    assert "delete_local_logs = %s\n" % DELETE_LOCAL[provider] in cfg
    assert remote_run["read"]["remote_io"] == {"aws": "S3RemoteLogIO", "azure": "WasbRemoteLogIO",
                                               "gcp": "GCSRemoteLogIO"}[provider]
    # The connection reaches the scheduler only from the rendered Secret, as AIRFLOW_CONN_<ID>.
    assert "AIRFLOW_CONN_AIRFLOW_REMOTE_LOGS" in remote_run["scheduler_env"]


def test_task_log_is_uploaded_to_the_remote_storage(remote_run):
    """The task succeeds, and its log is an object under <bucket>/<path>/dag_id=.../attempt=1.log in
    the emulated storage, holding what the task printed."""
    provider, dag_id = remote_run["provider"], remote_run["dag_id"]
    assert remote_run["state"] == "success", "task state %s\n--- scheduler ---\n%s" % (
        remote_run["state"], remote_run["processes"].log("scheduler"))
    objects = remote_run["objects"]
    names = [name for name in objects if "dag_id=%s/" % dag_id in name and "/task_id=%s/" % TASK_ID in name]
    assert names, "no log object of the task in %s: %s\n--- scheduler ---\n%s" % (
        provider, sorted(objects), remote_run["processes"].log("scheduler"))
    assert all(name.startswith(LOG_PATH[provider] + "/") and name.endswith("attempt=1.log") for name in names), names
    assert remote_run["marker"] in "".join(objects[name] for name in names)


def test_local_log_is_deleted_or_emptied_after_the_upload(remote_run):
    """With config_remote_logging_delete_local_logs the local log is gone after the upload; without,
    the file stays (emptied by the handler, whose upload is the copy that counts)."""
    provider = remote_run["provider"]
    local = remote_run["local_files"]
    if DELETE_LOCAL[provider]:
        assert not local, "local logs were kept: %s" % sorted(local)
    else:
        assert local, "no local log file at all"
        assert remote_run["marker"] not in "".join(local.values())


def test_log_reader_returns_the_log_from_remote_storage(remote_run):
    """Airflow's TaskLogReader (what the api-server's log endpoint calls), in the api-server's rendered
    environment, returns the task's output, read from the remote storage: the local copy holds none
    of it and the worker's log server is stopped."""
    read = remote_run["read"]
    assert remote_run["marker"] in read["text"], read["text"][-3000:]
