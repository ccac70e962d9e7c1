# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The airflow.cfg and environment the ``config`` role renders are what Airflow 3.3 reads.

Real components: ``site.yml`` rendered with the local inventory through ansible-playbook (every
object a YAML file; Secrets decoded from their 0600 files), and Apache Airflow 3.3 from
``.venv-airflow``: ``airflow config lint`` and Airflow's own configuration parser, executor loader,
auth-manager loader and fernet loader, run with the scheduler container's environment and the
airflow.cfg from the ConfigMap it mounts. Expected values come from the other rendered objects
(Services, mounts), not from copies of the role's defaults.
"""

from urllib.parse import urlsplit

import pytest

from tests.conformance.airflow_harness import airflow_workloads, mounted_file, pod_spec, run_airflow, run_airflow_python

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

# Options whose Airflow 3 default changed and which the deployment sets on purpose; `config lint`
# lists them as "Changed default value of ...", which is information, not a problem.
LINT_DELIBERATE_DEFAULT_CHANGES = [
    ("core", "executor"),  # KubernetesExecutor instead of the new default LocalExecutor
]
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"

READ_BACK = r"""
import configparser, json, os
from airflow.configuration import conf, retrieve_configuration_description
from airflow.api_fastapi.app import get_auth_manager_cls
from airflow.executors.executor_loader import ExecutorLoader
from airflow.models.crypto import get_fernet

described = retrieve_configuration_description(include_providers=True)

def known(section, option):
    options = described.get(section, {}).get("options", {})
    return option in options or option.rsplit("_", 1)[0] in options and option.endswith(("_cmd", "_secret"))

raw = configparser.ConfigParser(interpolation=None)
raw.read(os.environ["AIRFLOW_CONFIG"], encoding="utf-8")
unknown = ["[%s] %s (airflow.cfg)" % (s, o) for s in raw.sections() for o in raw.options(s) if not known(s, o)]
for name in os.environ:
    parts = name.split("__")
    if parts[0] == "AIRFLOW" and len(parts) == 3 and not known(parts[1].lower(), parts[2].lower()):
        unknown.append("[%s] %s (%s)" % (parts[1].lower(), parts[2].lower(), name))

executor_names = ExecutorLoader.get_executor_names(validate_teams=False)
executor_cls, _source = ExecutorLoader.import_executor_cls(executor_names[0])
auth_manager_cls = get_auth_manager_cls()
print(json.dumps({
    "unknown_options": sorted(unknown),
    "executor": conf.get("core", "executor"),
    "executor_class": executor_cls.__module__ + "." + executor_cls.__qualname__,
    "execution_api_server_url": conf.get("core", "execution_api_server_url"),
    "dags_folder": conf.get("core", "dags_folder"),
    "base_log_folder": conf.get("logging", "base_log_folder"),
    "statsd_on": conf.getboolean("metrics", "statsd_on"),
    "statsd_host": conf.get("metrics", "statsd_host"),
    "statsd_port": conf.getint("metrics", "statsd_port"),
    "auth_manager": auth_manager_cls.__module__ + "." + auth_manager_cls.__qualname__,
    "pod_template_file": conf.get("kubernetes_executor", "pod_template_file"),
    "kubernetes_namespace": conf.get("kubernetes_executor", "namespace"),
    "fernet_encrypts": get_fernet().is_encrypted,
    "load_examples": conf.getboolean("core", "load_examples"),
}))
"""


@pytest.fixture(scope="module")
def read_back(scheduler_runtime):
    """What Airflow reads from the rendered configuration, in one Airflow process."""
    return run_airflow_python(READ_BACK, scheduler_runtime.env())


def _service_for(rendered, host, namespace):
    """The rendered Service a cluster DNS name (``name``, ``name.ns``, ``name.ns.svc[.cluster.local]``) points to."""
    labels = host.split(".")
    if len(labels) > 1:
        assert labels[1] == namespace, "%s points into namespace %r, Airflow runs in %r" % (host, labels[1], namespace)
    if len(labels) > 2:
        assert labels[2:] in (["svc"], ["svc", "cluster", "local"]), "%s is not a cluster Service name" % host
    service = rendered.get("Service", labels[0])
    assert service["metadata"].get("namespace") == namespace
    return service


def _selected_commands(rendered, service):
    """The ``airflow <command>`` of every rendered container whose pods the Service selects."""
    selector = service["spec"].get("selector") or {}
    commands = set()
    for kind in ("Deployment", "StatefulSet"):
        for workload in rendered.of_kind(kind):
            labels = workload["spec"]["template"]["metadata"].get("labels", {})
            if selector and all(labels.get(key) == value for key, value in selector.items()):
                for container in pod_spec(workload).get("containers", []):
                    commands.add(" ".join(container.get("args", [])[:1]) or container.get("name"))
    return commands


def test_every_airflow_container_mounts_airflow_cfg_where_airflow_reads_it(rendered_deployment):
    """Each Airflow container mounts the ConfigMap's airflow.cfg at $AIRFLOW_CONFIG or $AIRFLOW_HOME/airflow.cfg."""
    workloads = airflow_workloads(rendered_deployment)
    commands = {" ".join(container.get("args", [])[:1]) for _workload, container in workloads}
    for needed in ("scheduler", "api-server", "dag-processor", "triggerer"):
        assert needed in commands, "no rendered container runs `airflow %s` (found %s)" % (needed, sorted(commands))
    for workload, container in workloads:
        env = {item["name"]: item.get("value") for item in container.get("env", [])}
        config_path = env.get("AIRFLOW_CONFIG") or env["AIRFLOW_HOME"].rstrip("/") + "/airflow.cfg"
        volume, mount = mounted_file(pod_spec(workload), container, config_path)
        where = "%s/%s container %s" % (workload["kind"], workload["metadata"]["name"], container["name"])
        assert volume is not None and "configMap" in volume, "%s does not mount airflow.cfg at %s" % (where, config_path)
        assert volume["configMap"]["name"] == "airflow-config" and mount.get("subPath") == "airflow.cfg", where


def test_airflow_cfg_is_clean_under_config_lint(scheduler_runtime):
    """`airflow config lint` finds nothing removed, renamed or invalid for Airflow 3.

    Lint exits 0 whatever it finds, so its verdict is read from the output. It also lists every
    option whose Airflow 3 default changed and that is set to something else: those are deliberate
    choices of the deployment and are allowed, by name, in LINT_DELIBERATE_DEFAULT_CHANGES.
    """
    result = run_airflow(["config", "lint"], scheduler_runtime.env(), check=True)
    if "No issues found" in result.stdout:
        return
    assert "Found issues" in result.stdout, "unexpected `airflow config lint` output:\n" + result.describe()
    issues = [line.strip()[2:] for line in result.stdout.splitlines() if line.strip().startswith("- ")]
    assert issues, result.describe()
    unexpected = [
        issue
        for issue in issues
        if not any(issue.startswith("Changed default value of `%s` in `%s` " % (option, section))
                   for section, option in LINT_DELIBERATE_DEFAULT_CHANGES)
    ]
    assert unexpected == [], result.describe()


def test_every_option_is_known_to_airflow(read_back):
    """No option in airflow.cfg or in the AIRFLOW__* environment is unknown to Airflow 3.3 and its
    providers (an unknown option is silently ignored: a typo or a removed setting)."""
    assert read_back["unknown_options"] == []


def test_airflow_reads_back_the_intended_values(read_back, rendered_deployment, scheduler_runtime):
    namespace = scheduler_runtime.workload["metadata"]["namespace"]

    assert read_back["executor"] == "KubernetesExecutor"
    assert read_back["executor_class"].endswith(".KubernetesExecutor")
    assert read_back["executor_class"].startswith("airflow.providers.cncf.kubernetes.")
    assert read_back["auth_manager"] == FAB_AUTH_MANAGER
    assert read_back["load_examples"] is False
    assert read_back["fernet_encrypts"] is True, "Airflow did not load the rendered fernet key"

    # The execution API URL reaches the api-server through its Service.
    url = urlsplit(read_back["execution_api_server_url"])
    assert url.scheme in ("http", "https") and url.path.endswith("/execution/"), read_back["execution_api_server_url"]
    service = _service_for(rendered_deployment, url.hostname, namespace)
    assert url.port in [port["port"] for port in service["spec"]["ports"]]
    assert "api-server" in _selected_commands(rendered_deployment, service)

    # statsd: the exporter's Service, UDP port.
    assert read_back["statsd_on"] is True
    service = _service_for(rendered_deployment, read_back["statsd_host"], namespace)
    udp_ports = [port["port"] for port in service["spec"]["ports"] if port.get("protocol") == "UDP"]
    assert read_back["statsd_port"] in udp_ports

    # Folders: the contract's paths, and where the shares are really mounted.
    assert read_back["dags_folder"] == "/opt/airflow/dags"
    assert read_back["base_log_folder"] == "/opt/airflow/logs"
    for path in (read_back["dags_folder"], read_back["base_log_folder"]):
        for workload, container in airflow_workloads(rendered_deployment, "dag-processor") + [
            (scheduler_runtime.workload, scheduler_runtime.container)
        ]:
            volume, _mount = mounted_file(pod_spec(workload), container, path)
            assert volume is not None and "persistentVolumeClaim" in volume, (
                "%s does not mount a share at %s" % (workload["metadata"]["name"], path)
            )

    # KubernetesExecutor: the pod template where the scheduler mounts it, pods in our namespace.
    assert read_back["pod_template_file"] == "/opt/airflow/pod_templates/pod_template_file.yaml"
    scheduler_runtime.file_from_config_map(read_back["pod_template_file"])
    assert read_back["kubernetes_namespace"] == namespace
