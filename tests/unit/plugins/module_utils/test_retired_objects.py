# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the sink retires (module_utils/manifests.py): plain functions on plain data, no cluster."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests


def entry(kind, name, api_version="v1", namespace="airflow"):
    return {"apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name}


def test_retired_are_what_the_record_has_and_the_run_not_workloads_first():
    recorded = [entry("Namespace", "airflow", namespace=""), entry("Secret", "airflow-redis-password"),
                entry("Service", "airflow-redis"), entry("StatefulSet", "airflow-redis", "apps/v1"),
                entry("ConfigMap", "airflow-config"), entry("ScaledObject", "airflow-worker", "keda.sh/v1alpha1"),
                entry("StatefulSet", "airflow-worker", "apps/v1")]
    current = [entry("ConfigMap", "airflow-config")]
    assert [(item["kind"], item["name"]) for item in manifests.retired_objects(recorded, current)] == [
        ("StatefulSet", "airflow-redis"), ("StatefulSet", "airflow-worker"), ("ScaledObject", "airflow-worker"),
        ("Service", "airflow-redis"), ("Secret", "airflow-redis-password")]


def test_a_namespace_or_job_is_never_retired_and_a_new_api_version_is_the_same_object():
    recorded = [entry("Namespace", "old", namespace=""), entry("Job", "airflow-migrations-1234", "batch/v1"),
                entry("HorizontalPodAutoscaler", "w", "autoscaling/v2beta2")]
    assert manifests.retired_objects(recorded, [entry("HorizontalPodAutoscaler", "w", "autoscaling/v2")]) == []
    # Same kind and name in another namespace or group is another object.
    assert manifests.retired_objects([entry("Service", "s", namespace="a")], [entry("Service", "s", namespace="b")]) == [
        entry("Service", "s", namespace="a")]


def test_what_its_role_cleans_up_is_not_retirable():
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert manifests.retirable(config_map)
    assert not manifests.retirable(dict(config_map, metadata={"name": "c", "annotations": {"airflow-k8s.cloud/retire": "never"}}))
    assert not manifests.retirable({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}})
    assert not manifests.retirable({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}})


def test_the_record_round_trips_and_refuses_what_it_cannot_read():
    objects = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "airflow"}},
               {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "airflow"}}]
    record = manifests.record_config_map("applied", "airflow", [manifests.record_entry(obj) for obj in objects], {"a": "b"})
    assert record["metadata"] == {"name": "applied", "namespace": "airflow", "labels": {"a": "b"}}
    assert manifests.read_record(record) == [entry("Namespace", "airflow", namespace=""), entry("Deployment", "d", "apps/v1")]
    assert manifests.read_record(None) == []
    for broken in ("{not json", '{"kind": "x"}', '[{"kind": "Service"}]'):
        with pytest.raises(ValueError):
            manifests.read_record({"data": {manifests.RECORD_KEY: broken}})


@pytest.mark.parametrize("labels, managers, problem", [
    ({"managed-by": "us", "env": "prod"}, ["airflow-k8s-cloud", "kube-controller-manager"], None),
    ({"managed-by": "us"}, ["airflow-k8s-cloud"], "it lacks the label env=prod"),
    ({"managed-by": "us", "env": "staging"}, ["airflow-k8s-cloud"], "it lacks the label env=prod"),
    ({"managed-by": "us", "env": "prod"}, ["kubectl-client-side-apply"],
     "field manager airflow-k8s-cloud manages none of its fields (managers: kubectl-client-side-apply)"),
    ({"managed-by": "us", "env": "prod"}, [], "field manager airflow-k8s-cloud manages none of its fields (managers: none)"),
])
def test_only_an_object_with_the_labels_and_the_field_manager_is_ours(labels, managers, problem):
    obj = {"metadata": {"labels": labels, "managedFields": [{"manager": manager, "operation": "Apply"} for manager in managers]}}
    assert manifests.ownership_problem(obj, {"managed-by": "us", "env": "prod"}, "airflow-k8s-cloud") == problem
