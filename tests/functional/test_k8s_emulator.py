# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``kubernetes.core.k8s`` (server-side apply) and ``k8s_info`` against the Kubernetes API emulator.

What runs: the real ``ansible-playbook`` of the virtualenv with the real ``kubernetes.core`` 6.2
modules and the real ``kubernetes`` Python client, talking HTTP to ``tests/support/k8s_emulator.py``
(kmock 0.8 plus our workarounds) on 127.0.0.1, through a kubeconfig the emulator wrote.

This is an **emulator, not proof of cluster behaviour**. It shows that our way of calling the
modules (server-side apply with the ``airflow-k8s-cloud`` field manager, ``wait``, ``--check``,
``--diff``, label selectors) is accepted and idempotent against an API that behaves like
Kubernetes in the ways listed in the emulator's docstring. It does not show that a real API server
accepts the manifests (schemas, admission, controllers): that needs a real cluster.

The playbooks are ``tests/functional/playbooks/emulator_*.yml``. One emulator serves the whole
session; each test uses its own namespace. The direct HTTP tests at the end pin the emulator's
workarounds (namespaces, apply semantics, dry run, selectors, validation) to their kmock defects.
"""

import json
import os
import re
import signal
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support.playbook import ANSIBLE_PLAYBOOK, run_playbook

pytestmark = pytest.mark.emulator

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
FIELD_MANAGER = "airflow-k8s-cloud"
NAMESPACE = "airflow-emulated"

# Every kind the Airflow deployment uses, and where emulator_apply.yml puts one of each.
EXPECTED_OBJECTS = [
    ("Namespace", "/api/v1/namespaces/{ns}"),
    ("ServiceAccount", "/api/v1/namespaces/{ns}/serviceaccounts/airflow-scheduler"),
    ("Role", "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles/airflow-pod-launcher"),
    ("RoleBinding", "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/airflow-pod-launcher"),
    ("ClusterRole", "/apis/rbac.authorization.k8s.io/v1/clusterroles/{ns}-pod-launcher"),
    ("ClusterRoleBinding", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{ns}-pod-launcher"),
    ("ConfigMap", "/api/v1/namespaces/{ns}/configmaps/airflow-config"),
    ("ConfigMap", "/api/v1/namespaces/{ns}/configmaps/airflow-pod-template"),
    ("Secret", "/api/v1/namespaces/{ns}/secrets/airflow-secrets"),
    ("PersistentVolume", "/api/v1/persistentvolumes/{ns}-dags"),
    ("PersistentVolumeClaim", "/api/v1/namespaces/{ns}/persistentvolumeclaims/airflow-dags"),
    ("Deployment", "/apis/apps/v1/namespaces/{ns}/deployments/airflow-scheduler"),
    ("StatefulSet", "/apis/apps/v1/namespaces/{ns}/statefulsets/airflow-triggerer"),
    ("Service", "/api/v1/namespaces/{ns}/services/airflow-api-server"),
    ("Job", "/apis/batch/v1/namespaces/{ns}/jobs/airflow-migrate-database"),
    ("PodDisruptionBudget", "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/airflow-scheduler"),
    ("NetworkPolicy", "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/airflow-api-server"),
    ("Ingress", "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses/airflow-api-server"),
    ("CSIDriver", "/apis/storage.k8s.io/v1/csidrivers/{ns}.file.csi.example.com"),
]
REQUIRED_KINDS = {
    "Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Secret",
    "PersistentVolume", "PersistentVolumeClaim", "Deployment", "StatefulSet", "Service", "Job",
    "PodDisruptionBudget", "NetworkPolicy", "Ingress", "CSIDriver",
}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

class EmulatorRun:
    """One ``ansible-playbook`` run: exit code, output, the host's PLAY RECAP and the requests it made."""

    def __init__(self, run, requests):
        self.returncode = run.returncode
        self.output = run.output
        self.requests = requests
        self.recap = run.recap.get("localhost")

    def assert_succeeded(self):
        assert self.returncode == 0, self.output
        assert self.recap is not None, "no PLAY RECAP in the output:\n" + self.output
        assert self.recap["failed"] == 0 and self.recap["unreachable"] == 0, self.output


def run_against(emulator, playbook, extra_vars, *options, cache_dir):
    """Run a playbook of tests/functional/playbooks against ``emulator``; returns an :class:`EmulatorRun`."""
    if not os.path.exists(ANSIBLE_PLAYBOOK):
        pytest.skip("%s is not installed: run `make setup-test`" % ANSIBLE_PLAYBOOK)
    logged_before = len(emulator.read_request_log())
    # kubernetes.core caches API discovery in the temporary directory: keep it per test module.
    run = run_playbook(PLAYBOOKS / playbook, inventory="localhost,", extra_vars=extra_vars, args=options, timeout=600,
                       env={"K8S_AUTH_KUBECONFIG": emulator.kubeconfig, "TMPDIR": str(cache_dir)})
    return EmulatorRun(run, emulator.read_request_log()[logged_before:])


def api(emulator, method, path, body=None, content_type="application/json", **query):
    """One HTTP request to the emulator; returns ``(status, decoded JSON body)``."""
    url = emulator.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def apply(emulator, path, body, manager=FIELD_MANAGER, **query):
    """Server-side apply ``body`` at ``path`` as ``manager``."""
    return api(emulator, "PATCH", path, body, "application/apply-patch+yaml", fieldManager=manager, **query)


def snapshot(emulator, namespace):
    """``{path: object}`` for every expected object in ``namespace`` (asserting each exists)."""
    objects = {}
    for kind, template in EXPECTED_OBJECTS:
        path = template.format(ns=namespace)
        status, obj = api(emulator, "GET", path)
        assert status == 200, "%s %s: %s" % (kind, path, obj)
        objects[path] = obj
    return objects


def resource_versions(objects):
    return {path: obj["metadata"]["resourceVersion"] for path, obj in objects.items()}


def apply_requests(requests):
    return [record for record in requests if record["verb"] == "apply"]


@pytest.fixture(scope="module")
def discovery_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("k8s-discovery-cache")


@pytest.fixture(scope="module")
def converged(k8s_emulator, discovery_cache):
    """Apply every kind twice, then once more with ``--check``; snapshots after each run."""
    runs = {}
    runs["first"] = run_against(k8s_emulator, "emulator_apply.yml", {"emulator_namespace": NAMESPACE},
                                cache_dir=discovery_cache)
    runs["first"].assert_succeeded()
    runs["after_first"] = snapshot(k8s_emulator, NAMESPACE)
    runs["second"] = run_against(k8s_emulator, "emulator_apply.yml", {"emulator_namespace": NAMESPACE},
                                 cache_dir=discovery_cache)
    runs["after_second"] = snapshot(k8s_emulator, NAMESPACE)
    runs["check"] = run_against(k8s_emulator, "emulator_apply.yml", {"emulator_namespace": NAMESPACE}, "--check",
                                cache_dir=discovery_cache)
    runs["after_check"] = snapshot(k8s_emulator, NAMESPACE)
    return runs


# ---------------------------------------------------------------------------------------------
# ansible-playbook against the emulator
# ---------------------------------------------------------------------------------------------

def test_the_playbook_covers_every_kind_the_deployment_uses():
    assert {kind for kind, _path in EXPECTED_OBJECTS} == REQUIRED_KINDS
    playbook = (PLAYBOOKS / "emulator_apply.yml").read_text(encoding="utf-8")
    for kind in REQUIRED_KINDS:
        assert re.search(r"^\s+kind: %s$" % kind, playbook, re.MULTILINE), kind


@pytest.mark.slow
def test_first_run_creates_every_object_with_server_side_apply(converged):
    first = converged["first"]
    # Three tasks (objects, Secrets, Jobs), each one k8s call for its whole group: all changed.
    assert first.recap["changed"] == 3, first.output
    created = {record["path"] for record in apply_requests(first.requests) if record["status"] == 201}
    assert created == {template.format(ns=NAMESPACE) for _kind, template in EXPECTED_OBJECTS}
    for record in apply_requests(first.requests):
        query = urllib.parse.parse_qs(record["query"])
        assert query["fieldManager"] == [FIELD_MANAGER] and query["force"] in (["true"], ["True"]), record
    for path, obj in converged["after_first"].items():
        managers = [(entry["manager"], entry["operation"]) for entry in obj["metadata"]["managedFields"]]
        assert managers == [(FIELD_MANAGER, "Apply")], path
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "airflow-emulator-test", path


@pytest.mark.slow
def test_secret_data_is_stored_as_sent_and_not_printed(converged):
    secret = converged["after_first"]["/api/v1/namespaces/%s/secrets/airflow-secrets" % NAMESPACE]
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"fernet-key": "bm90LWEtcmVhbC1mZXJuZXQta2V5LWZvci10ZXN0cw=="}
    for run in ("first", "second", "check"):
        assert "bm90LWEtcmVhbC1mZXJuZXQta2V5LWZvci10ZXN0cw" not in converged[run].output


@pytest.mark.slow
def test_waits_pass_because_the_emulator_reports_ready_workloads(converged):
    # The first run used wait: true (Deployment, StatefulSet) and wait_condition Complete (Job).
    assert "Timed out" not in converged["first"].output
    objects = converged["after_first"]
    deployment = objects["/apis/apps/v1/namespaces/%s/deployments/airflow-scheduler" % NAMESPACE]
    assert deployment["status"]["availableReplicas"] == deployment["spec"]["replicas"] == 1
    assert deployment["status"]["observedGeneration"] == deployment["metadata"]["generation"]
    job = objects["/apis/batch/v1/namespaces/%s/jobs/airflow-migrate-database" % NAMESPACE]
    assert {"type": "Complete", "status": "True"}.items() <= job["status"]["conditions"][-1].items()
    claim = objects["/api/v1/namespaces/%s/persistentvolumeclaims/airflow-dags" % NAMESPACE]
    assert claim["status"]["phase"] == "Bound"


@pytest.mark.slow
def test_second_identical_run_reports_no_change(converged):
    second = converged["second"]
    second.assert_succeeded()
    assert second.recap["changed"] == 0, second.output
    assert second.recap["ok"] == 3
    applies = apply_requests(second.requests)
    assert len(applies) == len(EXPECTED_OBJECTS)
    assert {record["status"] for record in applies} == {200}
    assert resource_versions(converged["after_second"]) == resource_versions(converged["after_first"])


@pytest.mark.slow
def test_check_mode_after_converge_reports_no_change_and_writes_nothing(converged):
    check = converged["check"]
    check.assert_succeeded()
    assert check.recap["changed"] == 0, check.output
    applies = apply_requests(check.requests)
    assert len(applies) == len(EXPECTED_OBJECTS)
    assert all(record["dry_run"] for record in applies), applies
    assert resource_versions(converged["after_check"]) == resource_versions(converged["after_first"])


@pytest.mark.slow
def test_request_log_records_every_request(converged):
    records = converged["first"].requests
    assert records, "the request log is empty"
    for record in records:
        assert set(record) >= {"time", "method", "path", "query", "verb", "status", "duration_ms", "dry_run"}
    assert {"discovery", "get", "apply"} <= {record["verb"] for record in records}
    assert {"method": "GET", "path": "/apis", "status": 200}.items() <= next(
        record for record in records if record["path"] == "/apis").items()


def _configmap(emulator, namespace):
    status, obj = api(emulator, "GET", "/api/v1/namespaces/%s/configmaps/airflow-config" % namespace)
    assert status == 200, obj
    return obj


def _converge_small(emulator, namespace, cache_dir):
    """The namespace and its two ConfigMaps, in one k8s call."""
    run_against(emulator, "emulator_apply.yml",
                {"emulator_namespace": namespace, "emulator_only_kinds": ["Namespace", "ConfigMap"]},
                cache_dir=cache_dir).assert_succeeded()


def _configmaps_one_by_one(parallelism, namespace):
    """Only the ConfigMaps, one k8s call each (so that --diff shows each object's diff)."""
    return {"emulator_namespace": namespace, "emulator_only_kinds": ["ConfigMap"], "emulator_batch": False,
            "emulator_parallelism": parallelism}


@pytest.mark.slow
def test_check_mode_reports_a_modified_object_as_changed_but_does_not_write_it(k8s_emulator, discovery_cache):
    namespace = "emulated-check-mode"
    _converge_small(k8s_emulator, namespace, discovery_cache)
    before = _configmap(k8s_emulator, namespace)

    check = run_against(k8s_emulator, "emulator_apply.yml", _configmaps_one_by_one("64", namespace),
                        "--check", "--diff", cache_dir=discovery_cache)
    check.assert_succeeded()
    assert check.recap["changed"] == 1, check.output
    assert re.search(r"^-\s+parallelism: '32'$", check.output, re.MULTILINE), check.output
    assert re.search(r"^\+\s+parallelism: '64'$", check.output, re.MULTILINE), check.output
    assert "changed: [localhost] => (item=ConfigMap/airflow-config)" in check.output
    assert all(record["dry_run"] for record in apply_requests(check.requests))
    after = _configmap(k8s_emulator, namespace)
    assert after["data"]["parallelism"] == "32"
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


@pytest.mark.slow
def test_a_changed_field_is_reported_as_changed_with_a_diff(k8s_emulator, discovery_cache):
    namespace = "emulated-diff"
    _converge_small(k8s_emulator, namespace, discovery_cache)

    changed = run_against(k8s_emulator, "emulator_apply.yml", _configmaps_one_by_one("64", namespace), "--diff",
                          cache_dir=discovery_cache)
    changed.assert_succeeded()
    assert changed.recap["changed"] == 1, changed.output
    assert re.search(r"^-\s+parallelism: '32'$", changed.output, re.MULTILINE), changed.output
    assert re.search(r"^\+\s+parallelism: '64'$", changed.output, re.MULTILINE), changed.output
    assert "ok: [localhost] => (item=ConfigMap/airflow-pod-template)" in changed.output
    assert _configmap(k8s_emulator, namespace)["data"]["parallelism"] == "64"

    again = run_against(k8s_emulator, "emulator_apply.yml", _configmaps_one_by_one("64", namespace), "--diff",
                        cache_dir=discovery_cache)
    again.assert_succeeded()
    assert again.recap["changed"] == 0, again.output


@pytest.mark.slow
def test_k8s_info_finds_objects_by_name_and_by_label_selector(converged, k8s_emulator, discovery_cache, tmp_path):
    output = tmp_path / "found.json"
    run = run_against(k8s_emulator, "emulator_info.yml",
                      {"emulator_namespace": NAMESPACE, "emulator_info_output": str(output)},
                      cache_dir=discovery_cache)
    run.assert_succeeded()
    found = json.loads(output.read_text(encoding="utf-8"))

    def names(key):
        return sorted(item["metadata"]["name"] for item in found[key])

    assert names("deployment_by_name") == ["airflow-scheduler"]
    assert found["deployment_by_name"][0]["kind"] == "Deployment"
    assert found["missing_by_name"] == []
    assert names("all_configmaps") == ["airflow-config", "airflow-pod-template"]
    # The selector really filters: each selector keeps one of the two ConfigMaps.
    assert names("worker_configmaps") == ["airflow-pod-template"]
    assert names("other_configmaps") == ["airflow-config"]
    listing = [record for record in run.requests if record["verb"] == "list"]
    assert any("labelSelector=" in record["query"] for record in listing), listing


@pytest.mark.slow
def test_wait_times_out_when_the_emulator_does_not_fake_ready_status(k8s_emulator_factory, tmp_path):
    emulator = k8s_emulator_factory(workload_status="none")
    run = run_against(emulator, "emulator_apply.yml",
                      {"emulator_namespace": "never-ready", "emulator_only_kinds": ["Namespace", "Deployment"],
                       "emulator_wait_timeout": 2}, cache_dir=tmp_path)
    assert run.returncode != 0
    assert run.recap["failed"] == 1, run.output
    assert "Timed out waiting on resource" in run.output


# ---------------------------------------------------------------------------------------------
# The emulator's workarounds, request by request
# ---------------------------------------------------------------------------------------------

def _namespace(emulator, name):
    status, body = apply(emulator, "/api/v1/namespaces/" + name,
                         {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert status in (200, 201), body


def test_the_namespaces_resource_itself_is_served(k8s_emulator):
    status, listing = api(k8s_emulator, "GET", "/api/v1/namespaces")
    assert status == 200, listing
    assert listing["kind"] == "NamespaceList" and listing["apiVersion"] == "v1"
    assert {"default", "kube-system"} <= {item["metadata"]["name"] for item in listing["items"]}
    status, namespace = api(k8s_emulator, "GET", "/api/v1/namespaces/default")
    assert status == 200 and namespace["kind"] == "Namespace" and namespace["status"]["phase"] == "Active"
    status, missing = api(k8s_emulator, "GET", "/api/v1/namespaces/no-such-namespace")
    assert status == 404 and missing["kind"] == "Status" and missing["reason"] == "NotFound"


def test_lists_have_kind_and_api_version(k8s_emulator):
    status, listing = api(k8s_emulator, "GET", "/apis/apps/v1/deployments")
    assert status == 200
    assert (listing["kind"], listing["apiVersion"]) == ("DeploymentList", "apps/v1")
    assert listing["metadata"]["resourceVersion"].isdigit()


def test_apply_creates_is_idempotent_drops_removed_fields_and_detects_conflicts(k8s_emulator):
    _namespace(k8s_emulator, "emulated-apply")
    path = "/api/v1/namespaces/emulated-apply/configmaps/settings"
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "settings", "labels": {"tier": "one", "extra": "x"}},
              "data": {"kept": "1", "dropped": "2"}}
    status, created = apply(k8s_emulator, path, config)
    assert status == 201, created

    status, same = apply(k8s_emulator, path, config)
    assert status == 200 and same == created

    status, reduced = apply(k8s_emulator, path, {"apiVersion": "v1", "kind": "ConfigMap",
                                                 "metadata": {"name": "settings", "labels": {"tier": "one"}},
                                                 "data": {"kept": "1"}})
    assert status == 200
    assert reduced["data"] == {"kept": "1"} and reduced["metadata"]["labels"] == {"tier": "one"}
    assert int(reduced["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])

    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"kept": "other"}}
    status, conflict = apply(k8s_emulator, path, other, manager="someone-else")
    assert status == 409 and conflict["reason"] == "Conflict", conflict
    assert "someone-else" not in json.dumps(api(k8s_emulator, "GET", path)[1]["metadata"]["managedFields"])

    status, forced = apply(k8s_emulator, path, other, manager="someone-else", force="true")
    assert status == 200 and forced["data"]["kept"] == "other"
    owners = {entry["manager"]: entry["fieldsV1"] for entry in forced["metadata"]["managedFields"]}
    assert owners["someone-else"] == {"f:data": {"f:kept": {}}}
    assert "f:data" not in owners[FIELD_MANAGER]


def test_dry_run_answers_but_stores_nothing(k8s_emulator):
    _namespace(k8s_emulator, "emulated-dry-run")
    path = "/api/v1/namespaces/emulated-dry-run/configmaps/only-in-dry-run"
    status, answer = apply(k8s_emulator, path, {"apiVersion": "v1", "kind": "ConfigMap",
                                                "metadata": {"name": "only-in-dry-run"}, "data": {"a": "b"}},
                           dryRun="All")
    assert status == 201 and answer["data"] == {"a": "b"}
    assert api(k8s_emulator, "GET", path)[0] == 404


def test_label_selectors_filter_lists(k8s_emulator):
    _namespace(k8s_emulator, "emulated-selectors")
    for name, labels in (("red-one", {"colour": "red", "size": "1"}), ("blue-two", {"colour": "blue", "size": "2"}),
                         ("plain", {})):
        status, body = apply(k8s_emulator, "/api/v1/namespaces/emulated-selectors/configmaps/" + name,
                             {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}})
        assert status == 201, body

    def select(selector):
        status, listing = api(k8s_emulator, "GET", "/api/v1/namespaces/emulated-selectors/configmaps",
                              labelSelector=selector)
        assert status == 200, listing
        return sorted(item["metadata"]["name"] for item in listing["items"])

    assert select("") == ["blue-two", "plain", "red-one"]
    assert select("colour=red") == ["red-one"]
    assert select("colour!=red") == ["blue-two", "plain"]
    assert select("colour in (red, blue),size=2") == ["blue-two"]
    assert select("colour notin (red)") == ["blue-two", "plain"]
    assert select("colour") == ["blue-two", "red-one"]
    assert select("!colour") == ["plain"]
    status, error = api(k8s_emulator, "GET", "/api/v1/configmaps", labelSelector="colour in (red")
    assert status == 400 and error["reason"] == "BadRequest"


def test_api_server_validation_that_catches_template_mistakes(k8s_emulator):
    status, error = apply(k8s_emulator, "/api/v1/namespaces/no-such-namespace/configmaps/c",
                          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    assert status == 404 and "namespaces \"no-such-namespace\" not found" in error["message"]

    _namespace(k8s_emulator, "emulated-validation")
    status, error = apply(k8s_emulator, "/api/v1/namespaces/emulated-validation/configmaps/Bad_Name",
                          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}})
    assert status == 422 and error["reason"] == "Invalid"
    status, error = apply(k8s_emulator, "/api/v1/namespaces/emulated-validation/configmaps/c",
                          {"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "c", "labels": {"version": "3.0 beta"}}})
    assert status == 422 and "metadata.labels.version" in error["message"]

    job_path = "/apis/batch/v1/namespaces/emulated-validation/jobs/migrate"

    def job(image):
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
                "spec": {"template": {"spec": {"restartPolicy": "Never",
                                               "containers": [{"name": "m", "image": image}]}}}}

    assert apply(k8s_emulator, job_path, job("airflow:3.0.1"))[0] == 201
    status, error = apply(k8s_emulator, job_path, job("airflow:3.0.2"))
    assert status == 422 and "spec.template" in error["message"] and "immutable" in error["message"]


def test_command_line_writes_private_kubeconfig_pidfile_and_ready_file_and_stops_on_sigterm(k8s_emulator_factory):
    emulator = k8s_emulator_factory()
    assert emulator.url.startswith("http://127.0.0.1:")
    assert oct(os.stat(emulator.kubeconfig).st_mode & 0o777) == "0o600"
    kubeconfig = Path(emulator.kubeconfig).read_text(encoding="utf-8")
    assert "current-context: emulator" in kubeconfig and emulator.url in kubeconfig
    assert int(Path(emulator.pidfile).read_text(encoding="utf-8")) == emulator.process.pid
    assert Path(emulator.ready_file).read_text(encoding="utf-8").strip() == emulator.url
    assert api(emulator, "GET", "/version")[0] == 200

    emulator.process.send_signal(signal.SIGTERM)
    assert emulator.process.wait(timeout=10) == 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (os.path.exists(emulator.pidfile) or os.path.exists(emulator.ready_file)):
        time.sleep(0.05)
    assert not os.path.exists(emulator.pidfile) and not os.path.exists(emulator.ready_file)
    assert [record["path"] for record in emulator.read_request_log()] == ["/version"]


def test_delete_removes_objects_and_a_namespace_takes_its_objects_along(k8s_emulator):
    _namespace(k8s_emulator, "emulated-delete")
    path = "/api/v1/namespaces/emulated-delete/configmaps/doomed"
    assert apply(k8s_emulator, path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "doomed"}})[0] == 201
    assert api(k8s_emulator, "DELETE", "/api/v1/namespaces/emulated-delete")[0] == 200
    assert api(k8s_emulator, "GET", path)[0] == 404
    assert api(k8s_emulator, "GET", "/api/v1/namespaces/emulated-delete")[0] == 404
    assert api(k8s_emulator, "DELETE", "/api/v1/namespaces/emulated-delete")[0] == 404


def test_custom_kinds_are_registered_by_option_and_by_applying_a_crd():
    pytest.importorskip("kmock", reason="kmock (requirements-test.txt) is needed for the Kubernetes API emulator")
    import asyncio  # pylint: disable=import-outside-toplevel
    import aiohttp  # pylint: disable=import-outside-toplevel
    from tests.support.k8s_emulator import serve  # pylint: disable=import-outside-toplevel

    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "gadgets.example.com"},
           "spec": {"group": "example.com", "scope": "Cluster",
                    "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                    "versions": [{"name": "v1", "served": True, "storage": True}]}}
    apply_headers = {"Content-Type": "application/apply-patch+yaml"}

    async def scenario():
        async with serve(resources=[("example.com", "v1", "widgets", "Widget", True)]) as running:
            async with aiohttp.ClientSession(running.url) as client:
                async with client.get("/apis/example.com/v1") as response:
                    discovered = (await response.json())["resources"]
                    assert sorted(item["name"] for item in discovered) == ["widgets", "widgets/status"]
                    assert {item["kind"] for item in discovered} == {"Widget"}
                async with client.patch("/apis/example.com/v1/namespaces/default/widgets/w1",
                                        params={"fieldManager": "test"}, headers=apply_headers,
                                        json={"apiVersion": "example.com/v1", "kind": "Widget",
                                              "metadata": {"name": "w1"}, "spec": {"size": 3}}) as response:
                    assert response.status == 201, await response.text()
                async with client.patch("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com",
                                        params={"fieldManager": "test"}, headers=apply_headers, json=crd) as response:
                    assert response.status == 201, await response.text()
                async with client.patch("/apis/example.com/v1/gadgets/g1", params={"fieldManager": "test"},
                                        headers=apply_headers,
                                        json={"apiVersion": "example.com/v1", "kind": "Gadget",
                                              "metadata": {"name": "g1"}}) as response:
                    assert response.status == 201, await response.text()
            assert running.emulator.objects["example.com/v1/widgets", "default", "w1"]["spec"] == {"size": 3}

    asyncio.run(scenario())
