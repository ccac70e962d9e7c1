# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pod checksum annotations of module_utils/manifests.py (``with_checksums`` and its helpers).

Real component: the collection's own module_utils code, called in-process on objects shaped like
the run's objects (the Kubernetes API shapes of Deployment, StatefulSet, DaemonSet, Job, CronJob,
ConfigMap and Secret); no cluster. Expected digests are computed here with hashlib, independently
of the code under test.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import hashlib
import json
import re

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests

NAMESPACE = "airflow"
SECRET_VALUE = "c3VwZXItc2VjcmV0LWp3dC12YWx1ZQ=="  # base64 of a made-up secret
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "jwt", "namespace": NAMESPACE},
          "data": {"jwt-secret": SECRET_VALUE}}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": NAMESPACE},
              "data": {"airflow.cfg": "[core]\n"}, "binaryData": {"blob": "AAE="}}
# What a qualified annotation name may be (Kubernetes' IsQualifiedName, name part).
NAME_PART = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def digest(obj):
    """sha256 of the object's data, stringData and binaryData as sorted-key JSON, computed here."""
    content = {field: obj.get(field) or {} for field in ("data", "stringData", "binaryData")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def workload(kind="Deployment", name="web", namespace=NAMESPACE, containers=None, init_containers=None, volumes=None,
             annotations=None):
    pod_spec = {"containers": containers or [{"name": "main", "image": "example"}]}
    if init_containers:
        pod_spec["initContainers"] = init_containers
    if volumes:
        pod_spec["volumes"] = volumes
    template = {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
    if annotations:
        template["metadata"]["annotations"] = annotations
    spec = {"jobTemplate": {"spec": {"template": template}}, "schedule": "@daily"} if kind == "CronJob" else {"template": template}
    api = {"Job": "batch/v1", "CronJob": "batch/v1"}.get(kind, "apps/v1")
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def template_annotations(obj):
    return (manifests.pod_template(obj).get("metadata") or {}).get("annotations") or {}


def run(*workloads, read=None):
    """with_checksums on a run of the Secret, the ConfigMap and ``workloads`` (component ``app``)."""
    return manifests.with_checksums({"config": [copy.deepcopy(SECRET), copy.deepcopy(CONFIG_MAP)],
                                     "app": list(workloads)}, read)["app"]


SECRET_KEY = "checksum.airflow-k8s.cloud/secret-jwt"
CONFIG_KEY = "checksum.airflow-k8s.cloud/configmap-cfg"

REFERENCE_FORMS = {
    "env secretKeyRef": ({"env": [{"name": "JWT", "valueFrom": {"secretKeyRef": {"name": "jwt", "key": "jwt-secret"}}}]},
                         None, SECRET_KEY),
    "env configMapKeyRef": ({"env": [{"name": "CFG", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "airflow.cfg"}}}]},
                            None, CONFIG_KEY),
    "envFrom secretRef": ({"envFrom": [{"secretRef": {"name": "jwt"}}]}, None, SECRET_KEY),
    "envFrom configMapRef": ({"envFrom": [{"prefix": "X_", "configMapRef": {"name": "cfg"}}]}, None, CONFIG_KEY),
    "volume secret": (None, [{"name": "v", "secret": {"secretName": "jwt"}}], SECRET_KEY),
    "volume configMap": (None, [{"name": "v", "configMap": {"name": "cfg"}}], CONFIG_KEY),
    "projected secret": (None, [{"name": "v", "projected": {"sources": [{"secret": {"name": "jwt"}}]}}], SECRET_KEY),
    "projected configMap": (None, [{"name": "v", "projected": {"sources": [
        {"serviceAccountToken": {"path": "token"}}, {"configMap": {"name": "cfg"}}]}}], CONFIG_KEY),
}


@pytest.mark.parametrize("form", sorted(REFERENCE_FORMS))
@pytest.mark.parametrize("where", ["containers", "initContainers"])
def test_each_reference_form_annotates_with_the_digest_of_the_object_read(form, where):
    container_fields, volumes, key = REFERENCE_FORMS[form]
    container = dict({"name": "c", "image": "example"}, **(container_fields or {}))
    if where == "containers":
        obj = workload(containers=[container], volumes=volumes)
    else:
        obj = workload(init_containers=[container], volumes=volumes)
    expected = digest(SECRET if key == SECRET_KEY else CONFIG_MAP)
    assert template_annotations(run(obj)[0]) == {key: expected}


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "CronJob"])
def test_every_workload_kind_gets_them_on_its_own_pod_template(kind):
    obj = workload(kind=kind, containers=[{"name": "c", "image": "e", "envFrom": [{"secretRef": {"name": "jwt"}}]}])
    annotated = run(obj)[0]
    if kind == "CronJob":
        assert annotated["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"] == {SECRET_KEY: digest(SECRET)}
        assert "template" not in annotated["spec"]
    else:
        assert annotated["spec"]["template"]["metadata"]["annotations"] == {SECRET_KEY: digest(SECRET)}


def test_a_job_is_left_alone_because_its_pod_template_is_immutable():
    job = workload(kind="Job", containers=[{"name": "c", "image": "e", "envFrom": [{"secretRef": {"name": "jwt"}}]}])
    assert run(copy.deepcopy(job)) == [job]


def test_unrelated_objects_and_other_namespaces_get_nothing():
    reads_nothing = workload(name="statsd", volumes=[{"name": "d", "emptyDir": {}}])
    other_namespace = workload(name="elsewhere", namespace="other", containers=[
        {"name": "c", "image": "e", "envFrom": [{"secretRef": {"name": "jwt"}}]}])
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": NAMESPACE}, "spec": {}}
    inputs = copy.deepcopy([reads_nothing, other_namespace, service])
    assert run(*inputs) == [reads_nothing, other_namespace, service]


def test_existing_annotations_stay_and_the_input_is_not_modified():
    obj = workload(annotations={"airflow-k8s.cloud/config-checksum": "abc"},
                   containers=[{"name": "c", "image": "e", "envFrom": [{"secretRef": {"name": "jwt"}}]}],
                   volumes=[{"name": "config", "configMap": {"name": "cfg"}}, {"name": "again", "secret": {"secretName": "jwt"}}])
    before = copy.deepcopy(obj)
    annotated = run(obj)[0]
    assert obj == before
    assert template_annotations(annotated) == {"airflow-k8s.cloud/config-checksum": "abc",
                                               SECRET_KEY: digest(SECRET), CONFIG_KEY: digest(CONFIG_MAP)}


def test_a_changed_value_changes_only_its_own_annotation():
    obj = workload(containers=[{"name": "c", "image": "e", "envFrom": [{"secretRef": {"name": "jwt"}}, {"configMapRef": {"name": "cfg"}}]}])
    first = template_annotations(run(copy.deepcopy(obj))[0])
    changed_secret = dict(SECRET, data={"jwt-secret": "b3RoZXItdmFsdWU="})
    second = template_annotations(manifests.with_checksums(
        {"config": [changed_secret, CONFIG_MAP], "app": [copy.deepcopy(obj)]})["app"][0])
    assert first[CONFIG_KEY] == second[CONFIG_KEY]
    assert first[SECRET_KEY] != second[SECRET_KEY] == digest(changed_secret)


def test_objects_outside_the_run_are_read_once_and_missing_ones_get_nothing():
    external = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "byo", "namespace": NAMESPACE},
                "data": {"password": "Ynlv"}}
    calls = []

    def read(kind, namespace, name):
        calls.append((kind, namespace, name))
        return external if (kind, name) == ("Secret", "byo") else None

    reader = [{"name": "c", "image": "e", "env": [
        {"name": "A", "valueFrom": {"secretKeyRef": {"name": "byo", "key": "password"}}},
        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "x", "optional": True}}},
        {"name": "C", "valueFrom": {"secretKeyRef": {"name": "jwt", "key": "jwt-secret"}}}]}]
    annotated = run(workload(name="one", containers=reader), workload(name="two", containers=reader), read=read)
    for obj in annotated:
        assert template_annotations(obj) == {"checksum.airflow-k8s.cloud/secret-byo": digest(external),
                                             SECRET_KEY: digest(SECRET)}
    # The run's own Secret is never read; each other object once, however many workloads read it.
    assert sorted(calls) == [("Secret", NAMESPACE, "byo"), ("Secret", NAMESPACE, "missing")]


def test_no_secret_value_in_the_result():
    obj = workload(containers=[{"name": "c", "image": "e", "envFrom": [{"secretRef": {"name": "jwt"}}]}])
    text = json.dumps(run(obj))
    assert SECRET_VALUE not in text and "super-secret-jwt-value" not in text
    assert digest(SECRET) in text


def test_annotation_keys_stay_valid_and_distinct_for_long_names():
    long_a, long_b = "a" * 70 + "-first", "a" * 70 + "-second"
    keys = [manifests.checksum_annotation("ConfigMap", long_a), manifests.checksum_annotation("ConfigMap", long_b),
            manifests.checksum_annotation("Secret", "a" * 53 + ".x-y"), manifests.checksum_annotation("Secret", "jwt")]
    for key in keys:
        prefix, name = key.split("/")
        assert prefix == "checksum.airflow-k8s.cloud"
        assert len(name) <= 63 and NAME_PART.match(name), key
    assert len(set(keys)) == 4
    assert keys[3] == SECRET_KEY


def test_the_digest_does_not_depend_on_where_the_object_came_from():
    """A run's Secret and the server's copy (same data, server fields added) give one digest."""
    server_copy = dict(copy.deepcopy(SECRET), type="Opaque",
                       metadata=dict(SECRET["metadata"], uid="1", resourceVersion="7", labels={"x": "y"}))
    assert manifests.content_checksum(server_copy) == manifests.content_checksum(SECRET) == digest(SECRET)
    assert manifests.content_checksum({"kind": "ConfigMap", "data": None}) == manifests.content_checksum({"kind": "ConfigMap"})
