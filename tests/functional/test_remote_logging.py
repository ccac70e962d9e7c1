# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remote task logs (S3, GCS, Azure Blob Storage), DAGs from git and the ServiceMonitor, as rendered.

Real components: ``ansible-playbook site.yml -i inventories/local`` from the checkout's .venv in
render mode, limited with ``--tags`` to the roles that these options touch (config, the four
Airflow components, statsd), one render per storage flavour, two at a time. The manifests are
checked with the same helpers as every render (``tests/support/manifests.py``):
``kubernetes-validate --strict`` (Kubernetes 1.30 and the newest schemas; the ServiceMonitor is a
custom resource without an official schema and is checked field by field instead), checkov with
the project's skips (on one flavour: the others differ only in ConfigMap data and Secret names),
private Secret files. ``airflow.cfg`` is read with :mod:`configparser`, as Airflow reads it.
Inconsistent input is run through the config role's validation and must fail naming the variable.
"""

import base64
import configparser
import concurrent.futures
import json

import pytest
import yaml

from tests.support import manifests

pytestmark = [pytest.mark.slow]

TAGS = "config,scheduler,api_server,dag_processor,triggerer,statsd"
COMPONENTS = ("airflow-scheduler", "airflow-api-server", "airflow-dag-processor", "airflow-triggerer")
SECRETS = {
    "aws": "aws://?region_name=eu-west-1&aws_access_key_id=AKIAEXAMPLEKEY0001&aws_secret_access_key=s3cr3t%2Fvalue-aws",
    "gcp": '{"conn_type": "google_cloud_platform", "extra": {"project": "demo", "keyfile_dict": "gcp-secret-value-123"}}',
    "azure": '{"conn_type": "wasb", "login": "airflowlogs", "password": "azure-account-key-secret=="}',
}
FLAVOURS = {
    "aws": {"config_remote_logging_enabled": True, "config_remote_logging_provider": "aws",
            "config_remote_logging_bucket": "airflow-task-logs", "config_remote_logging_connection": SECRETS["aws"],
            "statsd_service_monitor_enabled": True, "statsd_service_monitor_labels": {"release": "prometheus"}},
    "gcp": {"config_remote_logging_enabled": True, "config_remote_logging_provider": "gcp",
            "config_remote_logging_bucket": "airflow-task-logs", "config_remote_logging_path": "prod/tasks",
            "config_remote_logging_conn_id": "gcs_logs", "config_remote_logging_connection": SECRETS["gcp"],
            # Git mode rides along: it changes the same ConfigMap and component environment.
            "airflow_dags_source": "git", "config_dags_git_url": "https://git.example.com/data/airflow-dags.git",
            "config_dags_git_ref": "release", "config_dags_git_subdir": "dags", "config_dags_git_username": "bot",
            "config_dags_git_token": "git-token-secret-value"},
    "azure": {"config_remote_logging_enabled": True, "config_remote_logging_provider": "azure",
              "config_remote_logging_bucket": "airflow-logs", "config_remote_logging_connection": SECRETS["azure"]},
}


def _render(name, tmp_root):
    folder = tmp_root / name
    run = manifests.run_playbook("local", str(folder), extra_vars=FLAVOURS[name], extra_args=("--tags", TAGS))
    return folder, run


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    root = tmp_path_factory.mktemp("remote-logging")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_render, name, root) for name in FLAVOURS}
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(params=sorted(FLAVOURS))
def flavour(request, renders):
    folder, run = renders[request.param]
    assert run.returncode == 0, run.tail(80)
    objects = {(document["kind"], document["metadata"]["name"]): document for _path, document in manifests.load_manifests(str(folder))}
    cfg = configparser.ConfigParser()
    cfg.read_string(objects[("ConfigMap", "airflow-config")]["data"]["airflow.cfg"])
    return request.param, str(folder), run, objects, cfg


def test_manifests_pass_schema_validation_and_keep_secrets_private(flavour):
    _name, folder, run, _objects, _cfg = flavour
    problems = [problem for problem in manifests.validate_schemas(folder) if not problem.startswith("statsd/servicemonitor-")]
    assert not problems, "\n".join(problems)
    assert not manifests.check_file_modes(folder)
    values = manifests.secret_values(folder)
    assert values
    values.update({SECRETS[_name], "git-token-secret-value"})
    leaked = sorted(value[:6] + "..." for value in values if value in run.output)
    assert not leaked, leaked


def test_remote_logging_settings_and_connection(flavour):
    name, _folder, _run, objects, cfg = flavour
    logging = cfg["logging"]
    assert logging.getboolean("remote_logging") is True
    conn_id = FLAVOURS[name].get("config_remote_logging_conn_id", "airflow_remote_logs")
    assert logging["remote_log_conn_id"] == conn_id
    expected_folder = {"aws": "s3://airflow-task-logs/logs", "gcp": "gs://airflow-task-logs/prod/tasks", "azure": "wasb://logs"}[name]
    assert logging["remote_base_log_folder"] == expected_folder
    assert logging["base_log_folder"] == "/opt/airflow/logs"
    if name == "azure":
        assert cfg["azure_remote_logging"]["remote_wasb_log_container"] == "airflow-logs"
    else:
        assert not cfg.has_section("azure_remote_logging")
    secret = objects[("Secret", "airflow-remote-logging")]
    assert base64.b64decode(secret["data"]["connection"]).decode() == SECRETS[name]
    # Every server component gets the connection from that Secret; task pods get none.
    for component in COMPONENTS:
        env = {item["name"]: item for item in objects[("Deployment", component)]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["AIRFLOW_CONN_" + conn_id.upper()]["valueFrom"] == {
            "secretKeyRef": {"name": "airflow-remote-logging", "key": "connection"}}
        assert "value" not in env["AIRFLOW_CONN_" + conn_id.upper()]
    pod_template = yaml.safe_load(objects[("ConfigMap", "airflow-config")]["data"]["pod_template_file.yaml"])
    assert not [item for item in pod_template["spec"]["containers"][0]["env"] if item["name"].startswith("AIRFLOW_CONN_")]
    # Every component carries the checksum of the connection Secret, so a new credential rolls them.
    checksums = {objects[("Deployment", component)]["spec"]["template"]["metadata"]["annotations"]
                 .get("checksum.airflow-k8s.cloud/secret-airflow-remote-logging") for component in COMPONENTS}
    assert len(checksums) == 1 and None not in checksums


def test_git_dag_bundle(renders):
    folder, run = renders["gcp"]
    assert run.returncode == 0, run.tail(80)
    objects = {(document["kind"], document["metadata"]["name"]): document for _path, document in manifests.load_manifests(str(folder))}
    cfg = configparser.ConfigParser()
    cfg.read_string(objects[("ConfigMap", "airflow-config")]["data"]["airflow.cfg"])
    bundles = json.loads(cfg["dag_processor"]["dag_bundle_config_list"])
    assert bundles == [{"name": "dags", "classpath": "airflow.providers.git.bundles.git.GitDagBundle",
                        "kwargs": {"git_conn_id": "airflow_dags_git", "tracking_ref": "release", "subdir": "dags",
                                   "refresh_interval": 60}}]
    connection = json.loads(base64.b64decode(objects[("Secret", "airflow-dags-git")]["data"]["connection"]))
    assert connection == {"conn_type": "git", "host": "https://git.example.com/data/airflow-dags.git",
                          "login": "bot", "password": "git-token-secret-value"}
    for component in COMPONENTS:
        env = {item["name"]: item for item in objects[("Deployment", component)]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["AIRFLOW_CONN_AIRFLOW_DAGS_GIT"]["valueFrom"]["secretKeyRef"]["name"] == "airflow-dags-git"
    # Without git mode, airflow.cfg leaves the bundles at Airflow's default (the DAG folder).
    aws_folder, _aws_run = renders["aws"]
    aws_cfg = configparser.ConfigParser()
    aws_cfg.read_string(yaml.safe_load(open(str(aws_folder / "config" / "configmap-airflow-config.yaml"), encoding="utf-8"))["data"]["airflow.cfg"])
    assert not aws_cfg.has_option("dag_processor", "dag_bundle_config_list")


def test_statsd_service_is_scraped_and_service_monitor_optional(renders):
    folder, run = renders["aws"]
    assert run.returncode == 0, run.tail(80)
    objects = {(document["kind"], document["metadata"]["name"]): document for _path, document in manifests.load_manifests(str(folder))}
    service = objects[("Service", "airflow-statsd")]
    annotations = service["metadata"]["annotations"]
    metrics_port = {port["name"]: port for port in service["spec"]["ports"]}["metrics"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(metrics_port["port"])
    monitor = objects[("ServiceMonitor", "airflow-statsd")]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    assert [endpoint["port"] for endpoint in monitor["spec"]["endpoints"]] == ["metrics"]
    # Off by default.
    assert not (renders["azure"][0] / "statsd" / "servicemonitor-airflow-statsd.yaml").exists()


def test_checkov_accepts_the_options(renders):
    folder, run = renders["aws"]
    assert run.returncode == 0, run.tail(80)
    problems, _used = manifests.run_checkov(str(folder))
    assert not problems, "\n".join(problems)


INCONSISTENT = {
    # Remote logging on with no bucket.
    "config_remote_logging_bucket": {"config_remote_logging_enabled": True, "config_remote_logging_provider": "aws"},
    # Git mode with no repository.
    "config_dags_git_url": {"airflow_dags_source": "git"},
}


def test_inconsistent_settings_fail_naming_the_variable(tmp_path):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = {variable: pool.submit(manifests.run_playbook, "local", str(tmp_path / variable),
                                      extra_vars=bad, extra_args=("--tags", "config"))
                for variable, bad in INCONSISTENT.items()}
        for variable, future in runs.items():
            run = future.result()
            assert run.returncode != 0, run.tail()
            assert variable in run.output
            assert not manifests.manifest_files(str(tmp_path / variable))
