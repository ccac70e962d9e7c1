# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pod_settings_problems: each key Kubernetes would refuse is named, values never are."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.filter.pod_settings_problems import FilterModule, pod_settings_problems

GOOD = {
    "env": [{"name": "TEAM", "value": "data"}, {"name": "a.b-c_D", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
    "volumes": [{"name": "extra", "emptyDir": {}}],
    "volume_mounts": [{"name": "extra", "mountPath": "/extra"}],
    "sidecars": [{"name": "proxy", "image": "registry.example.com/proxy:1.0"}],
    "init_containers": [{"name": "warm-up", "image": "busybox:1.36"}],
    "annotations": {"example.com/owner": "data team"},
    "labels": {"azure.workload.identity/use": "true"},
    "service_account_annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/airflow"},
    "priority_class_name": "airflow-high",
}


def test_what_kubernetes_accepts_passes():
    assert pod_settings_problems(["scheduler_pod", GOOD]) == []
    assert pod_settings_problems(["airflow_pod", {}]) == []


@pytest.mark.parametrize("knobs, expected", [
    ({"labels": {"team": "data platform"}}, "scheduler_pod.labels must map label names"),
    ({"annotations": {"owner": 1}}, "scheduler_pod.annotations must map annotation names"),
    ({"service_account_annotations": {"Bad Key": "x"}}, "scheduler_pod.service_account_annotations must map"),
    ({"priority_class_name": "High Priority"}, "scheduler_pod.priority_class_name must be the name of a PriorityClass"),
    ({"env": [{"value": "x"}]}, "scheduler_pod.env[0].name must be an environment variable name"),
    ({"env": ["A=b"]}, "scheduler_pod.env[0] must be a mapping"),
    ({"sidecars": [{"name": "Proxy", "image": "x"}]}, "scheduler_pod.sidecars[0].name must be a DNS-1123 label"),
    ({"init_containers": [{"name": "a"}]}, "scheduler_pod.init_containers[0].image must be an image reference"),
    ({"volumes": [{"emptyDir": {}}]}, "scheduler_pod.volumes[0].name must be a DNS-1123 label"),
    ({"volume_mounts": [{"name": "a", "mountPath": "relative"}]}, "scheduler_pod.volume_mounts[0].mountPath must be an absolute path"),
])
def test_each_refused_key_is_named(knobs, expected):
    problems = pod_settings_problems(["scheduler_pod", knobs])
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_values_never_appear_and_bad_input_is_an_error():
    problems = pod_settings_problems(["api_server_pod", {"labels": {"token": "s3cr3t value"}}])
    assert problems and "s3cr3t" not in " ".join(problems)
    assert pod_settings_problems(["x_pod", "a=b"]) == ["x_pod must be a mapping"]
    with pytest.raises(AnsibleFilterError):
        pod_settings_problems({"x_pod": {}})
    assert FilterModule().filters()["pod_settings_problems"] is pod_settings_problems
