# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes modules of the verify and airflow roles against the Kubernetes API emulator.

Real components: ansible-playbook, the modules with kubernetes.core's client, and the emulator
(tests/support/k8s_emulator.py, kmock based: an emulator, not an API server; it marks Jobs
complete when they are written unless they are suspended, and takes a Job's status through its
``/status`` subresource, as a real API server does). The test sets the scene over plain HTTP,
runs one playbook, and reads the outcome from the JSON report and the emulator.

Every module task runs twice: on the local connection (the action plugin runs the module's code in
the controller process) and with a task ``environment`` (the module runs as a module process, as
it does on any other connection). Both must return the same.
"""

import base64
import json

import pytest
import yaml

from tests.functional.test_k8s_emulator import api
from tests.support.playbook import JSON_CALLBACK, run_playbook

pytestmark = [pytest.mark.emulator]

NAMESPACE = "k8s-modules"
SELECTOR = "app.kubernetes.io/managed-by=airflow_k8s.cloud"
# The task environment that makes the action plugin run the module as a module process.
MODULE_PROCESS = {"AIRFLOW_K8S_TEST_MODULE_PROCESS": "1"}


def job(name, suspend=False):
    spec = {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}
    if suspend:
        spec["suspend"] = True
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec}


def secret(name, labels, **values):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
            "data": {key: base64.b64encode(value.encode("utf-8")).decode("ascii") for key, value in values.items()}}


def create(emulator, obj):
    group = "/api/v1" if obj["apiVersion"] == "v1" else "/apis/" + obj["apiVersion"]
    plural = obj["kind"].lower() + "s"
    path = "%s/namespaces/%s/%s" % (group, NAMESPACE, plural) if obj["kind"] != "Namespace" else "/api/v1/namespaces"
    status, body = api(emulator, "POST", path, obj)
    assert status == 201, body
    return path + "/" + obj["metadata"]["name"]


def task_pair(name, module, args, **extra):
    """The task twice: in the controller process, and as a module process."""
    return [dict({"name": "%s (%s)" % (name, how), module: args, "environment": environment, "ignore_errors": True}, **extra)
            for how, environment in (("in-process", {}), ("module process", MODULE_PROCESS))]


@pytest.fixture(scope="module")
def scene(k8s_emulator, tmp_path_factory):
    """The objects the playbook reads, the playbook's run, and its results by task name."""
    emulator = k8s_emulator
    create(emulator, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    create(emulator, secret("stored-a", {"app.kubernetes.io/managed-by": "airflow_k8s.cloud"}, password="p@ss w:rd/é", user="airflow"))
    create(emulator, secret("stored-b", {"app.kubernetes.io/managed-by": "airflow_k8s.cloud"}, key="k"))
    create(emulator, secret("foreign", {"app.kubernetes.io/managed-by": "someone-else"}, key="not ours"))
    create(emulator, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": NAMESPACE},
                      "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                               "template": {"metadata": {"labels": {"app": "web"}},
                                            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
    create(emulator, job("done"))
    create(emulator, job("stuck", suspend=True))
    failed_path = create(emulator, job("broken", suspend=True))
    status, body = api(emulator, "PUT", failed_path + "/status", dict(job("broken", suspend=True), status={"conditions": [
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}))
    assert status == 200, body
    # A probe Job of an "earlier run" that k8s_job_run must replace.
    create(emulator, job("probe", suspend=True))

    def ref(kind, name, api_version):
        return {"apiVersion": api_version, "kind": kind, "namespace": NAMESPACE, "name": name}

    tasks = (task_pair("Read the stored Secrets", "airflow_k8s.cloud.k8s_secret_data",
                       {"namespace": NAMESPACE, "label_selectors": [SELECTOR]})
             + task_pair("Wait for a rollout and a Job", "airflow_k8s.cloud.k8s_wait",
                         {"objects": [ref("Deployment", "web", "apps/v1"), ref("Job", "done", "batch/v1")], "timeout": 30})
             + task_pair("Wait for a failed Job", "airflow_k8s.cloud.k8s_wait",
                         {"objects": [ref("Job", "broken", "batch/v1"), ref("Deployment", "web", "apps/v1")], "timeout": 30})
             + task_pair("Wait for a Job that never finishes", "airflow_k8s.cloud.k8s_wait",
                         {"objects": [ref("Job", "stuck", "batch/v1")], "timeout": 2, "delay": 1})
             + task_pair("Wait in check mode", "airflow_k8s.cloud.k8s_wait",
                         {"objects": [ref("Job", "stuck", "batch/v1")], "timeout": 2}, check_mode=True)
             + task_pair("Run a Job", "airflow_k8s.cloud.k8s_job_run", {"definition": job("probe"), "timeout": 30})
             + task_pair("Run a Job that never finishes", "airflow_k8s.cloud.k8s_job_run",
                         {"definition": job("never", suspend=True), "timeout": 2, "delay": 1}))
    workdir = tmp_path_factory.mktemp("k8s-modules")
    playbook = workdir / "play.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "The collection's Kubernetes modules", "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/airflow_k8s.cloud.k8s": {"kubeconfig": emulator.kubeconfig}}, "tasks": tasks}]), encoding="utf-8")
    logged_before = len(emulator.read_request_log())
    # The test Secrets' values are no secret: no no_log, so that the report shows what was read.
    run = run_playbook(playbook, inventory="localhost,",
                       extra_vars={"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                       env=dict(JSON_CALLBACK, TMPDIR=str(workdir)), timeout=600)
    report = run.json_report()
    results = {task["task"]["name"]: task["hosts"]["localhost"] for play in report["plays"] for task in play["tasks"]}
    return {"run": run, "results": results, "requests": emulator.read_request_log()[logged_before:], "emulator": emulator}


def both(scene, name):
    """The in-process and module-process results of a task pair, checked to be the same."""
    in_process, module = scene["results"]["%s (in-process)" % name], scene["results"]["%s (module process)" % name]
    ignored = {"invocation", "_ansible_no_log", "deprecations", "exception"}
    assert {k: v for k, v in in_process.items() if k not in ignored} == {k: v for k, v in module.items() if k not in ignored}, \
        json.dumps([in_process, module], indent=1)
    assert in_process["invocation"]["module_args"] == module["invocation"]["module_args"]
    return in_process


def test_stored_secrets_are_read_decoded_by_selector(scene):
    result = both(scene, "Read the stored Secrets")
    assert result["secrets"] == {"stored-a": {"password": "p@ss w:rd/é", "user": "airflow"}, "stored-b": {"key": "k"}}
    assert not result.get("failed") and not result["changed"]


def test_wait_reads_each_kind_once_and_reports_states(scene):
    result = both(scene, "Wait for a rollout and a Job")
    assert not result.get("failed") and not result["changed"], result
    assert result["rounds"] == 1
    assert [(entry["kind"], entry["name"], entry["state"]) for entry in result["objects"]] == [
        ("Deployment", "web", "ready"), ("Job", "done", "ready")]
    assert result["groups"] == [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": NAMESPACE, "names": ["web"]},
                                {"apiVersion": "batch/v1", "kind": "Job", "namespace": NAMESPACE, "names": ["done"]}]
    lists = [request["path"] for request in scene["requests"] if request.get("verb") == "list"]
    assert "/apis/apps/v1/namespaces/%s/deployments" % NAMESPACE in lists


def test_wait_fails_naming_a_failed_job_with_its_message_and_commands(scene):
    result = both(scene, "Wait for a failed Job")
    assert result["failed"]
    assert result["failed_jobs"] == [{"namespace": NAMESPACE, "name": "broken", "message": "Job has reached the specified backoff limit"}]
    assert ("Job %s/broken: Job has reached the specified backoff limit. See `kubectl -n %s describe job broken`"
            % (NAMESPACE, NAMESPACE)) in result["msg"]


def test_wait_times_out_naming_what_is_pending(scene):
    result = both(scene, "Wait for a Job that never finishes")
    assert result["failed"]
    assert result["msg"].startswith("Timed out after 2 s waiting for the rollout of: Job %s/stuck." % NAMESPACE), result["msg"]
    assert result["rounds"] >= 2 and result["objects"][0]["state"] == "pending"


def test_wait_in_check_mode_reads_nothing(scene):
    result = both(scene, "Wait in check mode")
    assert not result.get("failed") and result["rounds"] == 0 and result["objects"][0]["state"] is None


def test_job_run_replaces_a_leftover_runs_the_job_and_removes_it(scene):
    result = both(scene, "Run a Job")
    assert not result.get("failed") and result["state"] == "complete" and result["log"] == "" and result["changed"], result
    path = "/apis/batch/v1/namespaces/%s/jobs" % NAMESPACE
    calls = [(request.get("verb"), request.get("path")) for request in scene["requests"]]
    # The first run deleted the suspended leftover before it created its Job (else the create would
    # conflict), then its Job; the second found no leftover and deleted only its own Job.
    assert calls.index(("delete", path + "/probe")) < calls.index(("create", path)), calls
    assert calls.count(("delete", path + "/probe")) == 3, calls
    status, _body = api(scene["emulator"], "GET", path + "/probe")
    assert status == 404


def test_job_run_reports_a_timeout_with_why_the_log_is_missing_and_removes_the_job(scene):
    result = both(scene, "Run a Job that never finishes")
    assert not result.get("failed") and result["state"] == "timeout", result
    assert result["log"] == "" and result["log_error"] == "no pod of Job %s/never" % NAMESPACE
    status, _body = api(scene["emulator"], "GET", "/apis/batch/v1/namespaces/%s/jobs/never" % NAMESPACE)
    assert status == 404
