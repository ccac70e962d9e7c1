# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_apply through its argument handling, against the Kubernetes API emulator.

Real components: the module's own code and kubernetes.core's module utilities (the code behind
kubernetes.core.k8s), the real ``kubernetes`` client, over HTTP to the project's API emulator
(tests/support/k8s_emulator.py, an emulator: no controllers, simulated workload status). The
emulator's request log shows what reached the API and in which order.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import copy
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from unittest import mock

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.modules import k8s_apply

from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
if REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, REPOSITORY_ROOT)

from tests.support.k8s_emulator import EmulatorProcess  # noqa: E402  pylint: disable=wrong-import-position

SECRET_VALUE = "c2VjcmV0LXZhbHVlLW9mLXRoZS10ZXN0"  # base64 of a made-up secret


def objects():
    return {
        "workloads": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "team"},
             "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                      "template": {"metadata": {"labels": {"app": "web"}},
                                   "spec": {"containers": [{"name": "web", "image": "nginx",
                                                            "envFrom": [{"secretRef": {"name": "token"}}]}]}}}},
        ],
        "config": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "team"},
             "data": {"app.cfg": "[core]\nparallelism = 32\n"}},
            {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "token", "namespace": "team"},
             "data": {"token": SECRET_VALUE}},
        ],
        "namespace": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}],
    }


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with EmulatorProcess.start(tmp_path_factory.mktemp("emulator")) as running:
        yield running


def apply(emulator, definitions, **kwargs):
    """Apply ``definitions`` (by component); their Secrets go in the secrets option, as the sink passes them."""
    args = {"objects": {component: [obj for obj in listed if obj.get("kind") != "Secret"] for component, listed in definitions.items()},
            "secrets": json.dumps({component: [obj for obj in listed if obj.get("kind") == "Secret"]
                                   for component, listed in definitions.items()}),
            "kubeconfig": emulator.kubeconfig, "context": emulator.context,
            "labels": {"app.kubernetes.io/managed-by": "test"}}
    args.update(kwargs.pop("extra", {}))
    return run_module(k8s_apply, args, **kwargs)


def writes_since(emulator, start):
    return [(record["verb"], record["path"].rsplit("/", 1)[-1]) for record in emulator.read_request_log()[start:]
            if record.get("verb") in ("apply", "create", "patch", "update", "delete")]


def test_one_ordered_pass_then_nothing_to_change(emulator):
    start = len(emulator.read_request_log())
    result, failed = apply(emulator, objects())
    assert not failed, result
    # Namespace first, the Secret and the ConfigMap before the Deployment that reads them.
    assert [name for verb, name in writes_since(emulator, start)] == ["team", "token", "settings", "web"]
    assert [(obj["kind"], obj["component"], obj["changed"]) for obj in result["objects"]] == [
        ("Namespace", "namespace", True), ("Secret", "config", True), ("ConfigMap", "config", True),
        ("Deployment", "workloads", True)]
    assert result["changed"] and len(result["changed_objects"]) == 4
    assert result["objects"][3]["rollout"] == "ready"  # the emulator reports the rollout complete

    again, failed = apply(emulator, objects())
    assert not failed and not again["changed"] and again["changed_objects"] == []
    assert all(not obj["changed"] for obj in again["objects"])


def test_each_object_is_read_once_and_applied_once(emulator):
    """What ``kubectl apply --server-side`` asks per object: one GET (to compare with the answer) and the
    apply (a PATCH with the apply content type; the server's dry run in check mode). kubernetes.core's
    own apply path read every object twice."""
    apply(emulator, objects())
    paths = {"team", "token", "settings", "web"}
    for check_mode in (False, True):
        start = len(emulator.read_request_log())
        result, failed = apply(emulator, objects(), check_mode=check_mode)
        assert not failed and not result["changed"], result
        requests = [record for record in emulator.read_request_log()[start:] if record["path"].rsplit("/", 1)[-1] in paths]
        for name in paths:
            verbs = sorted(record["verb"] for record in requests if record["path"].rsplit("/", 1)[-1] == name)
            assert verbs == ["apply", "get"], (name, check_mode, verbs)
        dry_runs = ["dryRun=All" in record.get("query", "") for record in requests if record["verb"] == "apply"]
        assert dry_runs == [check_mode] * len(paths)


def test_drift_is_named_with_its_diff_in_check_mode_and_repaired_by_a_run(emulator):
    apply(emulator, objects())
    edited = objects()
    edited["config"][0]["data"]["app.cfg"] = "[core]\nparallelism = 4242\n"
    apply(emulator, {"config": [edited["config"][0]]}, extra={"field_manager": "someone-else"})

    check, failed = apply(emulator, objects(), check_mode=True, diff=True)
    assert not failed and check["changed"]
    assert check["changed_objects"] == ["ConfigMap team/settings"]
    assert [(entry["before_header"], "4242" in entry["before"], "parallelism = 32" in entry["after"])
            for entry in check["diff"]] == [("ConfigMap team/settings", True, True)]
    assert all(obj["rollout"] is None for obj in check["objects"])  # nothing is known in a dry run

    repaired, failed = apply(emulator, objects())
    assert repaired["changed_objects"] == ["ConfigMap team/settings"]
    assert not apply(emulator, objects())[0]["changed"]


def test_secrets_are_named_never_shown(emulator):
    apply(emulator, objects())
    changed = objects()
    changed["config"][1]["data"]["token"] = "bmV3LXNlY3JldC12YWx1ZQ=="
    result, failed = apply(emulator, changed, diff=True, extra={"_ansible_verbosity": 3})
    assert not failed
    # The Deployment reads the Secret (envFrom): its pods roll, by a new checksum, never the value.
    assert result["changed_objects"] == ["Secret team/token", "Deployment team/web"]
    assert result["diff"][0] == {"before_header": "Secret team/token", "after_header": "Secret team/token",
                                 "before": "(Secret content hidden)\n", "after": "(Secret content hidden)\n"}
    assert "checksum.airflow-k8s.cloud/secret-token" in result["diff"][1]["after"]
    text = repr(result)
    assert "bmV3LXNlY3JldC12YWx1ZQ==" not in text and SECRET_VALUE not in text
    assert result["invocation"]["module_args"]["secrets"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_secrets_stay_out_of_the_modules_log_entry(emulator):
    """Every module logs its arguments (syslog/journald): the secrets option is not among them."""
    logged = []
    with mock.patch.object(k8s_apply.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg)):
        result, failed = apply(emulator, objects())
    assert not failed and logged
    assert SECRET_VALUE not in " ".join(logged) and "secrets=NOT_LOGGING_PARAMETER" in " ".join(logged)


@pytest.mark.parametrize("bad, message", [
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, "objects.config[1] needs metadata.name"),
    ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "team"}, "stringData": {"a": "b"}},
     "secrets.config[1] is a Secret with stringData"),
])
def test_unusable_objects_fail_before_any_request(emulator, bad, message):
    definitions = objects()
    definitions["config"].append(copy.deepcopy(bad))
    start = len(emulator.read_request_log())
    result, failed = apply(emulator, definitions)
    assert failed and message in result["msg"]
    assert emulator.read_request_log()[start:] == []


ROLL_NAMESPACE = "rolls"
JWT = "cm9sbHMtand0LXNlY3JldC1vbmU="  # base64 of made-up secrets
JWT_NEW = "cm9sbHMtand0LXNlY3JldC10d28="


def digest(obj):
    """sha256 of a ConfigMap's or Secret's data, stringData and binaryData as sorted-key JSON, computed here."""
    content = {field: obj.get(field) or {} for field in ("data", "stringData", "binaryData")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def reader(kind, name, env=None, env_from=None, volumes=None):
    """A workload in ROLL_NAMESPACE whose one container has ``env``/``envFrom`` and whose pod has ``volumes``."""
    container = {"name": "main", "image": "example/" + name, "env": env or [], "envFrom": env_from or []}
    pod = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container], "volumes": volumes or []}}
    spec = {"template": dict(pod, spec=dict(pod["spec"], restartPolicy="Never"))} if kind == "Job" else {
        "replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": pod}
    return {"apiVersion": "batch/v1" if kind == "Job" else "apps/v1", "kind": kind,
            "metadata": {"name": name, "namespace": ROLL_NAMESPACE}, "spec": spec}


def jwt_secret(value):
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "jwt", "namespace": ROLL_NAMESPACE},
            "data": {"jwt-secret": value}}


def airflow_like_run(jwt_value):
    """Two Deployments reading the JWT Secret, statsd reading only its ConfigMap, and a Job reading the JWT Secret."""
    jwt_env = [{"name": "AIRFLOW__API_AUTH__JWT_SECRET", "valueFrom": {"secretKeyRef": {"name": "jwt", "key": "jwt-secret"}}}]
    return {
        "namespace": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ROLL_NAMESPACE}}],
        "secrets": [jwt_secret(jwt_value)],
        "statsd": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "statsd", "namespace": ROLL_NAMESPACE},
                    "data": {"mappings.yml": "mappings: []\n"}},
                   reader("Deployment", "statsd", volumes=[{"name": "m", "configMap": {"name": "statsd"}}])],
        "scheduler": [reader("Deployment", "scheduler", env=jwt_env)],
        "api_server": [reader("Deployment", "api-server", env=jwt_env)],
        "migrations": [reader("Job", "migrations-1234abcd", env=jwt_env)],
    }


def server_object(emulator, path):
    with urllib.request.urlopen(emulator.url + path, timeout=30) as response:
        return json.loads(response.read())


def pod_annotations(emulator, kind, name):
    group = "batch" if kind == "Job" else "apps"
    obj = server_object(emulator, "/apis/%s/v1/namespaces/%s/%ss/%s" % (group, ROLL_NAMESPACE, kind.lower(), name))
    return obj["spec"]["template"]["metadata"].get("annotations") or {}


def test_a_new_jwt_secret_rolls_exactly_the_deployments_that_read_it(emulator):
    """Emulator: the Secret read by the scheduler and api-server changes; statsd (reads only its
    ConfigMap) and the Job (immutable pod template: the emulator answers 422 to a change) stay."""
    first, failed = apply(emulator, airflow_like_run(JWT))
    assert not failed, first
    assert pod_annotations(emulator, "Deployment", "scheduler")["checksum.airflow-k8s.cloud/secret-jwt"] == digest(jwt_secret(JWT))
    assert pod_annotations(emulator, "Deployment", "statsd") == {
        "checksum.airflow-k8s.cloud/configmap-statsd": digest(airflow_like_run(JWT)["statsd"][0])}
    assert pod_annotations(emulator, "Job", "migrations-1234abcd") == {}

    unchanged, failed = apply(emulator, airflow_like_run(JWT))
    assert not failed and not unchanged["changed"] and unchanged["changed_objects"] == []

    rolled, failed = apply(emulator, airflow_like_run(JWT_NEW), diff=True)
    assert not failed, rolled
    assert rolled["changed_objects"] == ["Secret rolls/jwt", "Deployment rolls/api-server", "Deployment rolls/scheduler"]
    for name in ("scheduler", "api-server"):
        assert pod_annotations(emulator, "Deployment", name) == {"checksum.airflow-k8s.cloud/secret-jwt": digest(jwt_secret(JWT_NEW))}
    text = repr(rolled)
    assert JWT_NEW not in text and base64.b64decode(JWT_NEW).decode() not in text

    again, failed = apply(emulator, airflow_like_run(JWT_NEW))
    assert not failed and again["changed_objects"] == []


def test_a_secret_the_collection_does_not_manage_is_read_from_the_server_once(emulator):
    """Emulator: a Secret made by someone else (plain HTTP, not in the run) is read with one GET for
    two workloads; when its content changes, the next run rolls them, without showing its value."""
    apply(emulator, {"namespace": airflow_like_run(JWT)["namespace"]})
    byo = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "byo-credentials", "namespace": ROLL_NAMESPACE},
           "data": {"password": "YnlvLXBhc3N3b3JkLW9uZQ=="}}
    request = urllib.request.Request(emulator.url + "/api/v1/namespaces/%s/secrets" % ROLL_NAMESPACE, method="POST",
                                     data=json.dumps(byo).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).close()
    env_from = [{"secretRef": {"name": "byo-credentials"}}, {"secretRef": {"name": "not-there", "optional": True}}]
    run = {"workers": [reader("Deployment", "worker-a", env_from=env_from),
                       reader("Deployment", "worker-b", volumes=[{"name": "c", "secret": {"secretName": "byo-credentials"}}])]}

    start = len(emulator.read_request_log())
    first, failed = apply(emulator, run)
    assert not failed, first
    reads = [record["path"] for record in emulator.read_request_log()[start:]
             if record.get("verb") == "get" and "/secrets/" in record["path"]]
    assert sorted(reads) == ["/api/v1/namespaces/rolls/secrets/byo-credentials", "/api/v1/namespaces/rolls/secrets/not-there"]
    for name in ("worker-a", "worker-b"):
        assert pod_annotations(emulator, "Deployment", name) == {
            "checksum.airflow-k8s.cloud/secret-byo-credentials": digest(byo)}
    assert not apply(emulator, run)[0]["changed"]

    new_password = "YnlvLXBhc3N3b3JkLXR3bw=="
    patch = urllib.request.Request(emulator.url + "/api/v1/namespaces/%s/secrets/byo-credentials" % ROLL_NAMESPACE,
                                   method="PATCH", data=json.dumps({"data": {"password": new_password}}).encode(),
                                   headers={"Content-Type": "application/merge-patch+json"})
    urllib.request.urlopen(patch, timeout=30).close()
    rolled, failed = apply(emulator, run, diff=True, extra={"_ansible_verbosity": 3})
    assert not failed
    assert rolled["changed_objects"] == ["Deployment rolls/worker-a", "Deployment rolls/worker-b"]
    assert new_password not in repr(rolled) and "byo-password-two" not in repr(rolled)


RETIRE_NAMESPACE = "retiring"
OWNER = {"app.kubernetes.io/managed-by": "test", "example.com/environment": "retiring"}
RECORD = {"name": "applied-objects", "namespace": RETIRE_NAMESPACE}


def celery_like_run(with_workers):
    """A namespace with a ConfigMap, and (with_workers) a workers Deployment, its Service and a Secret it reads."""
    def meta(name):
        return {"name": name, "namespace": RETIRE_NAMESPACE}
    run = {"namespace": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": RETIRE_NAMESPACE}}],
           "config": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("settings"), "data": {"executor": "celery" if with_workers else "k8s"}}]}
    if with_workers:
        run["workers"] = [
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("worker"),
             "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "worker"}},
                      "template": {"metadata": {"labels": {"app": "worker"}},
                                   "spec": {"containers": [{"name": "worker", "image": "example/worker",
                                                            "envFrom": [{"secretRef": {"name": "broker"}}]}]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": meta("worker"),
             "spec": {"clusterIP": "None", "selector": {"app": "worker"}, "ports": [{"name": "logs", "port": 8793}]}},
            {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta("broker"), "data": {"url": SECRET_VALUE}},
        ]
    return run


def apply_pruning(emulator, with_workers, **kwargs):
    extra = {"prune": True, "record": RECORD, "owner_labels": OWNER, "labels": OWNER}
    extra.update(kwargs.pop("extra", {}))
    return apply(emulator, celery_like_run(with_workers), extra=extra, **kwargs)


def exists(emulator, path):
    try:
        server_object(emulator, path)
    except urllib.error.HTTPError as error:
        assert error.code == 404, error
        return False
    return True


WORKER_PATHS = {"Deployment": "/apis/apps/v1/namespaces/retiring/deployments/worker",
                "Service": "/api/v1/namespaces/retiring/services/worker",
                "Secret": "/api/v1/namespaces/retiring/secrets/broker"}


def test_a_component_switched_off_is_retired_only_where_it_is_ours(emulator):
    """Emulator: a full run records what it applied; the next run without the workers names them in check
    mode (deleting nothing), deletes them (the workload first), rewrites the record and then changes
    nothing. An object of a retired name that someone else made (no ownership labels, another field
    manager) is left alone, with a warning."""
    first, failed = apply_pruning(emulator, True)
    assert not failed, first
    assert first["retired"] == [] and first["deleted_objects"] == []
    record = server_object(emulator, "/api/v1/namespaces/retiring/configmaps/applied-objects")
    assert {(entry["kind"], entry["name"]) for entry in json.loads(record["data"]["objects.json"])} == {
        ("ConfigMap", "settings"), ("Deployment", "worker"), ("Service", "worker"), ("Secret", "broker")}
    assert not apply_pruning(emulator, True)[0]["changed"]

    # Someone else's Service of a retired name: ours is gone, theirs has no ownership labels.
    delete = urllib.request.Request(emulator.url + WORKER_PATHS["Service"], method="DELETE")
    urllib.request.urlopen(delete, timeout=30).close()
    theirs = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "worker", "namespace": RETIRE_NAMESPACE},
              "spec": {"ports": [{"port": 80}]}}
    create = urllib.request.Request(emulator.url + "/api/v1/namespaces/retiring/services?fieldManager=kubectl-create", method="POST",
                                    data=json.dumps(theirs).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(create, timeout=30).close()

    start = len(emulator.read_request_log())
    check, failed = apply_pruning(emulator, False, check_mode=True, diff=True)
    assert not failed, check
    assert check["changed"] and check["deleted_objects"] == ["Deployment retiring/worker", "Secret retiring/broker"]
    assert [entry["before_header"] for entry in check["diff"] if "deleted" in entry["after"]] == check["deleted_objects"]
    assert [record["verb"] for record in emulator.read_request_log()[start:] if record.get("verb") == "delete"] == []
    assert all(exists(emulator, path) for path in WORKER_PATHS.values())

    retired, failed = apply_pruning(emulator, False)
    assert not failed, retired
    assert [(entry["kind"], entry["action"]) for entry in retired["retired"]] == [
        ("Deployment", "deleted"), ("Service", "left alone"), ("Secret", "deleted")]
    assert "lacks the label" in retired["retired"][1]["reason"]
    # ansible-core >= 2.19 returns warnings as structured summaries.
    assert "Service retiring/worker is no longer described, but was left alone" in json.dumps(retired.get("warnings"))
    assert not exists(emulator, WORKER_PATHS["Deployment"]) and not exists(emulator, WORKER_PATHS["Secret"])
    assert server_object(emulator, WORKER_PATHS["Service"])["spec"]["ports"][0]["port"] == 80
    assert "ConfigMap retiring/applied-objects" in retired["changed_objects"]
    assert SECRET_VALUE not in repr(retired)

    again, failed = apply_pruning(emulator, False)
    assert not failed and not again["changed"] and again["retired"] == []


def test_without_prune_nothing_is_retired_and_no_record_is_kept(emulator):
    """Emulator: a run without prune (a --tags run) deletes nothing and leaves the record as it was."""
    apply_pruning(emulator, True)
    recorded = server_object(emulator, "/api/v1/namespaces/retiring/configmaps/applied-objects")["data"]
    start = len(emulator.read_request_log())
    partial, failed = apply(emulator, celery_like_run(False), extra={"labels": OWNER})
    assert not failed and partial["retired"] == [] and partial["deleted_objects"] == []
    assert [record for record in emulator.read_request_log()[start:] if record.get("verb") == "delete"] == []
    assert server_object(emulator, "/api/v1/namespaces/retiring/configmaps/applied-objects")["data"] == recorded
    assert exists(emulator, WORKER_PATHS["Deployment"])


def test_prune_needs_a_record(emulator):
    result, failed = apply(emulator, celery_like_run(False), extra={"prune": True})
    assert failed and "record" in result["msg"]
