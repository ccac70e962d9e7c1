# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The housekeeping role's CronJobs as the real playbook renders them.

Real components: ``ansible-playbook site.yml -i inventories/local`` from the checkout's .venv in render
mode (the whole site, and a variant limited to ``--tags rbac,housekeeping`` with other settings), run as
subprocesses into temporary folders; ``bash`` and GNU ``find`` running the log-retention CronJob's own
arguments on a temporary folder with backdated files; the source of the pod clean-up program, read to
derive the Kubernetes API calls it makes. Schema validation (kubernetes-validate --strict) and checkov of
the CronJobs run with every other rendered object in tests/functional/test_render.py; the database
clean-up runs against the real Airflow and PostgreSQL in tests/conformance/test_airflow_housekeeping.py.
"""

import calendar
import concurrent.futures
import os
import re
import subprocess
import time

import pytest
import yaml

from tests.support import manifests

pytestmark = [pytest.mark.slow]

REPO_ROOT = manifests.REPOSITORY_ROOT
CRON_JOBS = ("airflow-db-clean", "airflow-pod-cleanup", "airflow-log-retention")
VARIANT_VARS = {
    "housekeeping_pod_cleanup_enabled": False,
    "housekeeping_logs_enabled": False,
    "housekeeping_db_clean_skip_archive": False,
    "housekeeping_db_clean_tables": ["log", "xcom"],
    "housekeeping_db_clean_retention_days": 14,
    "housekeeping_pod": {"annotations": {"team": "data"}, "env": [{"name": "EXTRA", "value": "1"}]},
    "airflow_image_pull_secrets": ["registry-credentials"],
}
# CoreV1Api methods -> RBAC verb (the kubernetes client's naming: <verb>_namespaced_pod).
CLIENT_VERBS = {"create": "create", "read": "get", "list": "list", "patch": "patch", "delete": "delete", "replace": "update"}


class Render:
    def __init__(self, folder, run):
        self.folder, self.run = folder, run
        assert run.returncode == 0, "site.yml failed:\n" + run.tail()
        self.objects = {}
        for _path, document in manifests.load_manifests(folder):
            self.objects[(document["kind"], document["metadata"]["name"])] = document

    def kind(self, kind):
        return {name: obj for (obj_kind, name), obj in self.objects.items() if obj_kind == kind}


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    root = tmp_path_factory.mktemp("housekeeping")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        base = pool.submit(manifests.run_playbook, "local", root / "base")
        variant = pool.submit(manifests.run_playbook, "local", root / "variant", extra_vars=VARIANT_VARS,
                              extra_args=["--tags", "rbac,housekeeping"])
        return {"base": Render(root / "base", base.result()), "variant": Render(root / "variant", variant.result())}


def _pod(cron_job):
    return cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_cron_jobs_have_the_airflow_pod_shape(renders):
    """Every CronJob runs the Airflow image as the components do: same security contexts, volumes and mounts."""
    base = renders["base"]
    assert sorted(base.kind("CronJob")) == sorted(CRON_JOBS)
    config = base.objects[("ConfigMap", "airflow-config")]
    task = yaml.safe_load(config["data"]["pod_template_file.yaml"])["spec"]
    for name, cron_job in base.kind("CronJob").items():
        pod = _pod(cron_job)
        assert cron_job["spec"]["concurrencyPolicy"] == "Forbid", name
        assert pod["restartPolicy"] == "Never" and pod["securityContext"] == task["securityContext"], name
        assert pod["volumes"] == task["volumes"], name
        (container,) = pod["containers"]
        assert container["image"] == task["containers"][0]["image"], name
        assert container["securityContext"] == task["containers"][0]["securityContext"], name
        assert container["volumeMounts"] == task["containers"][0]["volumeMounts"], name
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"], name
        secrets = [item["name"] for item in container.get("env", []) if "secretKeyRef" in item.get("valueFrom", {})]
        # Only the database clean-up gets the metadata connection (and the other server secrets).
        if name == "airflow-db-clean":
            assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in secrets
        else:
            assert secrets == [], name
        service_account = base.objects[("ServiceAccount", pod["serviceAccountName"])]
        token = name == "airflow-pod-cleanup"
        assert pod["automountServiceAccountToken"] is token and service_account["automountServiceAccountToken"] is token, name


def test_db_clean_computes_the_cut_off_at_run_time(renders):
    """The cut-off is not rendered: the container computes it from the retention when it runs."""
    args = _pod(renders["base"].objects[("CronJob", "airflow-db-clean")])["containers"][0]["args"]
    assert args[:2] == ["bash", "-c"] and args[3:] == ["db-clean", "90", "--skip-archive"], args
    assert not re.search(r"\d{4}-\d{2}-\d{2}", " ".join(args)), "a fixed date was rendered"
    # The script, run by bash with `airflow` replaced by echo, passes a timestamp 90 days back and the options.
    script = args[2].replace("exec airflow", "exec echo")
    printed = subprocess.run(["bash", "-c", script] + args[3:], capture_output=True, text=True, check=True, timeout=30).stdout.split()
    assert printed[:3] == ["db", "clean", "--clean-before-timestamp"] and printed[4:] == ["--yes", "--skip-archive"], printed
    cut_off = calendar.timegm(time.strptime(printed[3], "%Y-%m-%dT%H:%M:%S+00:00"))
    assert abs(time.time() - 90 * 86400 - cut_off) < 120, printed[3]


def test_log_retention_deletes_only_old_files(renders, tmp_path):
    """The log-retention CronJob's own arguments, on a folder with backdated and fresh files."""
    args = _pod(renders["base"].objects[("CronJob", "airflow-log-retention")])["containers"][0]["args"]
    assert args[-2] == "/opt/airflow/logs" and args[-1] == "30", args
    logs = tmp_path / "logs"
    old = logs / "dag_id=etl" / "run_id=old" / "task_id=load" / "attempt=1.log"
    recent = logs / "dag_id=etl" / "run_id=recent" / "task_id=load" / "attempt=1.log"
    borderline = logs / "dag_id=etl" / "run_id=borderline" / "attempt=1.log"
    emptied = logs / "dag_id=gone" / "run_id=old"
    for path in (old, recent, borderline):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("log\n", encoding="utf-8")
    emptied.mkdir(parents=True)
    day = 86400
    os.utime(old, (time.time() - 45 * day,) * 2)
    os.utime(borderline, (time.time() - 29 * day,) * 2)
    os.utime(emptied, (time.time() - 45 * day,) * 2)
    result = subprocess.run(args[:-2] + [str(logs), args[-1]], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert not old.exists(), "a file older than the retention was kept"
    assert recent.exists() and borderline.exists(), "a file newer than the retention was deleted"
    assert not emptied.exists(), "an old empty folder was kept"
    assert logs.is_dir() and recent.parent.is_dir()


def test_pod_cleanup_role_grants_exactly_what_the_program_calls(renders):
    """The Role of the pod clean-up grants the verbs of the Kubernetes API calls its program makes, no more."""
    base = renders["base"]
    program = _pod(base.objects[("CronJob", "airflow-pod-cleanup")])["containers"][0]["args"][-1]
    with open(os.path.join(REPO_ROOT, "roles", "housekeeping", "files", "delete_ended_task_pods.py"), encoding="utf-8") as stream:
        assert program == stream.read().rstrip("\n")
    calls = re.findall(r"\.(create|read|list|patch|delete|replace)_namespaced_pod\(", program)
    needed = sorted({CLIENT_VERBS[call] for call in calls})
    assert needed == ["delete", "list"], needed
    role = base.objects[("Role", "airflow-pod-cleanup")]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": needed}]
    binding = base.objects[("RoleBinding", "airflow-pod-cleanup")]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "airflow-pod-cleanup"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "airflow-pod-cleanup", "namespace": "airflow"}]


def test_each_cron_job_can_be_switched_off_and_tuned(renders):
    """Switched off, a CronJob (and the clean-up's Role and token) is not rendered; options reach the command."""
    variant = renders["variant"]
    assert sorted(variant.kind("CronJob")) == ["airflow-db-clean"]
    assert ("Role", "airflow-pod-cleanup") not in variant.objects
    assert variant.objects[("ServiceAccount", "airflow-pod-cleanup")]["automountServiceAccountToken"] is False
    pod = _pod(variant.objects[("CronJob", "airflow-db-clean")])
    assert pod["containers"][0]["args"][3:] == ["db-clean", "14", "--tables", "log,xcom"]
    assert pod["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert {"name": "EXTRA", "value": "1"} in pod["containers"][0]["env"]
    cron_job = variant.objects[("CronJob", "airflow-db-clean")]
    assert cron_job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"] == {"team": "data"}


AIRFLOW_PYTHON = os.path.join(REPO_ROOT, ".venv-airflow", "bin", "python")
# The program calls load_incluster_config(); outside a pod it is pointed at the emulator's kubeconfig instead.
IN_EMULATOR = ("import sys, kubernetes.config as c; kubeconfig = sys.argv[1]; "
               "c.load_incluster_config = lambda: c.load_kube_config(config_file=kubeconfig); exec(sys.argv[2])")


@pytest.mark.emulator
def test_pod_cleanup_program_deletes_only_ended_task_pods_past_the_limit(renders, k8s_emulator):
    """The rendered clean-up program, run with the Kubernetes client of the real Airflow 3.3 environment
    against the API emulator (tests/support/k8s_emulator.py), deletes exactly the task pods that ended
    before the limit, and makes only the calls its Role grants (list and delete on pods)."""
    if not os.path.exists(AIRFLOW_PYTHON):
        pytest.skip(".venv-airflow is not built (tests/conformance/setup_airflow_venv.sh)")
    import datetime  # pylint: disable=import-outside-toplevel
    import json  # pylint: disable=import-outside-toplevel
    import urllib.request  # pylint: disable=import-outside-toplevel

    container = _pod(renders["base"].objects[("CronJob", "airflow-pod-cleanup")])["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["TASK_POD_SELECTOR"] == "kubernetes_executor=True" and env["MAX_AGE_MINUTES"] == "1440"
    namespace = "housekeeping-test"

    def call(method, path, body=None, content_type="application/json"):
        request = urllib.request.Request(k8s_emulator.url + path, method=method, headers={"Content-Type": content_type},
                                         data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec - loopback emulator
            return json.loads(response.read())

    def ago(**delta):
        return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")

    call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    pods = {  # name: (task pod?, phase, finished)
        "old-succeeded": (True, "Succeeded", ago(days=2)),
        "old-failed": (True, "Failed", ago(hours=25)),
        "recent-failed": (True, "Failed", ago(hours=23)),
        "old-running": (True, "Running", None),
        "old-succeeded-not-a-task": (False, "Succeeded", ago(days=2)),
    }
    for name, (task, phase, finished) in pods.items():
        call("POST", "/api/v1/namespaces/%s/pods" % namespace, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"kubernetes_executor": "True"} if task else {"app": "other"}},
            "spec": {"containers": [{"name": "base", "image": "apache/airflow:3.3.2"}]}})
        state = {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1, "finishedAt": finished}} if finished else {"running": {}}
        call("PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (namespace, name), {"status": {
            "phase": phase, "startTime": ago(days=3), "containerStatuses": [
                {"name": "base", "image": "apache/airflow:3.3.2", "imageID": "sha256:0", "ready": False,
                 "restartCount": 0, "state": state}]}}, "application/merge-patch+json")
    logged = len(k8s_emulator.read_request_log())

    run_env = dict(os.environ, POD_NAMESPACE=namespace, MAX_AGE_MINUTES=env["MAX_AGE_MINUTES"],
                   TASK_POD_SELECTOR=env["TASK_POD_SELECTOR"])
    result = subprocess.run([AIRFLOW_PYTHON, "-c", IN_EMULATOR, k8s_emulator.kubeconfig, container["args"][-1]],
                            env=run_env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    requests = k8s_emulator.read_request_log()[logged:]
    left = sorted(pod["metadata"]["name"] for pod in call("GET", "/api/v1/namespaces/%s/pods" % namespace)["items"])
    assert left == ["old-running", "old-succeeded-not-a-task", "recent-failed"], result.stdout
    # Exactly the verbs of the Role, on pods of its namespace.
    assert sorted({entry["verb"] for entry in requests}) == ["delete", "list"], requests
    assert all(entry["path"].startswith("/api/v1/namespaces/%s/pods" % namespace) for entry in requests), requests
