# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task pod template the ``config`` role renders builds correct task pods in KubernetesExecutor.

Real components: ``site.yml`` rendered with the local inventory (ansible-playbook), and the
cncf.kubernetes provider of Apache Airflow 3.3 (``.venv-airflow``). The pods are built by
``airflow kubernetes generate-dag-yaml``, the provider's command for "testing output of
KubernetesExecutor": it loads ``[kubernetes_executor] pod_template_file`` through ``KubeConfig``
and ``PodGenerator.deserialize_model_file`` and builds each task's pod with
``PodGenerator.construct_pod(..., with_mutation_hook=True)``, the same calls the executor's
``_build_pod_request`` makes. It runs with the scheduler container's rendered environment and
airflow.cfg, a migrated PostgreSQL metadata database (Debian's packages) and the example DAG on a
temporary DAG share. The resulting pods are then checked against the other rendered objects and
validated offline against the Kubernetes schema (kubernetes-validate).
"""

import shutil

import kubernetes_validate
import pytest
import yaml

from tests.conformance.airflow_harness import EXAMPLE_DAGS, airflow_workloads, mounted_file, pod_spec, run_airflow

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]

AIRFLOW_UID = 50000
AIRFLOW_GID = 0
TASK_SERVICE_ACCOUNT = "airflow-task"
DAGS_PATH = "/opt/airflow/dags"
LOGS_PATH = "/opt/airflow/logs"
CONFIG_PATH = "/opt/airflow/airflow.cfg"


@pytest.fixture(scope="module")
def task_pods(scheduler_runtime, metadata_database, tmp_path_factory):
    """The pods the provider builds for the example DAG's tasks, from the rendered pod template."""
    metadata_database.require_migrated()
    work = tmp_path_factory.mktemp("task-pods")
    share = work / "share" / "dags"
    share.mkdir(parents=True)
    shutil.copy(str(EXAMPLE_DAGS / "conformance_example.py"), str(share))
    template_text = scheduler_runtime.file_from_config_map("/opt/airflow/pod_templates/pod_template_file.yaml")
    (work / "template").mkdir()
    local_template = work / "template" / "pod_template_file.yaml"
    local_template.write_text(template_text, encoding="utf-8")
    env = scheduler_runtime.env(
        # Paths that exist only inside the pods, and the in-cluster database, swapped for local ones.
        AIRFLOW__CORE__DAGS_FOLDER=share,
        AIRFLOW__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE=local_template,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata_database.uri,
    )
    output = work / "output"
    # --logical-date is required in practice: without it the provider's command (10.25.0) fails in
    # DagRun.generate_run_id (run_after=None).
    run_airflow(
        ["kubernetes", "generate-dag-yaml", "conformance_example", "--logical-date", "2025-01-01T00:00:00+00:00", "--output-path", str(output)],
        env,
        check=True,
    )
    pods = {}
    for path in sorted(output.rglob("*.yml")):
        pod = yaml.safe_load(path.read_text(encoding="utf-8"))
        pods[pod["metadata"]["labels"]["task_id"]] = pod
    assert sorted(pods) == ["echo", "say_hello"], "expected one pod per task of the example DAG, got %s" % sorted(pods)
    return pods


def _base_container(pod):
    containers = {container["name"]: container for container in pod["spec"]["containers"]}
    assert "base" in containers, "the task pod has no `base` container (KubernetesExecutor runs the task there)"
    return containers["base"]


def test_task_pods_are_built_from_the_template(task_pods, scheduler_runtime):
    namespace = scheduler_runtime.workload["metadata"]["namespace"]
    scheduler_image = scheduler_runtime.container["image"]
    for task_id, pod in task_pods.items():
        assert pod["metadata"]["namespace"] == namespace
        assert pod["metadata"]["labels"]["dag_id"] == "conformance_example"
        # Labels from the template survive (the network policies select task pods by them).
        assert pod["metadata"]["labels"].get("app.kubernetes.io/component") == "task", task_id
        assert pod["spec"]["restartPolicy"] == "Never"
        base = _base_container(pod)
        assert base["image"] == scheduler_image, "task pods must run the same Airflow image as the scheduler"
        command = " ".join(base.get("command", []) + base.get("args", []))
        assert "execute_workload" in command or "tasks run" in command, "the task pod does not run the task: %s" % command


def test_task_pods_mount_the_dag_and_log_shares_and_the_config(task_pods, scheduler_runtime, rendered_deployment):
    """The task pod mounts the same claims at the same paths as the components that write them."""
    dag_processors = airflow_workloads(rendered_deployment, "dag-processor")
    assert dag_processors, "no rendered dag-processor"
    writers = {
        DAGS_PATH: dag_processors[0],  # parses the DAG share
        LOGS_PATH: (scheduler_runtime.workload, scheduler_runtime.container),
    }
    for task_id, pod in task_pods.items():
        base = _base_container(pod)
        for path, (workload, container) in writers.items():
            volume, mount = mounted_file(pod["spec"], base, path)
            assert volume is not None, "task %s: nothing mounted at %s" % (task_id, path)
            assert "persistentVolumeClaim" in volume, "task %s: %s is not a share (claim)" % (task_id, path)
            assert not mount.get("readOnly", False) or path == DAGS_PATH, "task %s: %s must be writable" % (task_id, path)
            component_volume = mounted_file(pod_spec(workload), container, path)[0]
            assert component_volume is not None
            assert (
                volume["persistentVolumeClaim"]["claimName"] == component_volume["persistentVolumeClaim"]["claimName"]
            ), "task %s mounts a different claim at %s than %s" % (task_id, path, workload["metadata"]["name"])
            rendered_deployment.get("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
        volume, mount = mounted_file(pod["spec"], base, CONFIG_PATH)
        assert volume is not None and volume.get("configMap", {}).get("name") == "airflow-config", (
            "task %s does not mount airflow.cfg from the airflow-config ConfigMap (it needs the execution API URL)" % task_id
        )
        assert mount.get("subPath") == "airflow.cfg"


def test_task_pods_use_the_task_service_account(task_pods, rendered_deployment, scheduler_runtime):
    account = rendered_deployment.get("ServiceAccount", TASK_SERVICE_ACCOUNT)
    assert account["metadata"]["namespace"] == scheduler_runtime.workload["metadata"]["namespace"]
    for task_id, pod in task_pods.items():
        assert pod["spec"].get("serviceAccountName") == TASK_SERVICE_ACCOUNT, task_id
        assert pod["spec"]["serviceAccountName"] != pod_spec(scheduler_runtime.workload).get("serviceAccountName")


def test_task_pods_run_as_the_airflow_user(task_pods):
    for task_id, pod in task_pods.items():
        pod_context = pod["spec"].get("securityContext", {})
        container_context = _base_container(pod).get("securityContext", {})

        def effective(field, pod_context=pod_context, container_context=container_context):
            return container_context.get(field, pod_context.get(field))

        assert effective("runAsUser") == AIRFLOW_UID, task_id
        assert effective("runAsGroup") == AIRFLOW_GID, task_id
        assert effective("runAsNonRoot") is True, task_id
        assert pod_context.get("fsGroup") == AIRFLOW_GID, "task %s: the shares must be group-writable for gid 0" % task_id
        assert container_context.get("allowPrivilegeEscalation") is False, task_id
        assert container_context.get("privileged", False) is False, task_id


def test_task_pods_are_valid_kubernetes_pods(task_pods):
    version = kubernetes_validate.latest_version()
    for task_id, pod in task_pods.items():
        try:
            kubernetes_validate.validate(pod, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail("task %s: the built pod is not a valid v1 Pod for Kubernetes %s: %s" % (task_id, version, error.message))
