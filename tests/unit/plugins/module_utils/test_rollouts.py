# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/manifests.py's rollout reading: the states k8s_apply reports and k8s_wait waits on,
and the grouping of the objects waited for into one list call per kind and namespace."""

from __future__ import annotations

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests


@pytest.mark.parametrize("obj, state", [
    ({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
      "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}}, "ready"),
    ({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
      "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}}, "pending"),
    ({"kind": "Deployment", "metadata": {"generation": 1}, "spec": {"replicas": 2},
      "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2}}, "pending"),
    ({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 1},
      "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1}}, "ready"),
    ({"kind": "DaemonSet", "metadata": {"generation": 1},
      "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberReady": 3,
                 "numberAvailable": 2}}, "pending"),
    ({"kind": "Job", "status": {"conditions": [{"type": "Complete", "status": "True"}]}}, "ready"),
    ({"kind": "Job", "status": {"conditions": [{"type": "Failed", "status": "True"}]}}, "failed"),
    ({"kind": "Job", "status": {}}, "pending"),
    ({"kind": "ConfigMap"}, None),
])
def test_rollout_state(obj, state):
    assert manifests.rollout_state(obj) == state


WAITS = [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "airflow", "name": "airflow-scheduler"},
         {"apiVersion": "batch/v1", "kind": "Job", "namespace": "airflow", "name": "airflow-migrations-1a2b3c4d"},
         {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "airflow", "name": "airflow-api-server"},
         {"apiVersion": "apps/v1", "kind": "StatefulSet", "namespace": "airflow", "name": "airflow-postgresql"},
         {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "other", "name": "airflow-scheduler"}]


def test_wait_groups_one_per_kind_and_namespace_in_first_seen_order():
    assert manifests.wait_groups(WAITS) == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "airflow", "names": ["airflow-scheduler", "airflow-api-server"]},
        {"apiVersion": "batch/v1", "kind": "Job", "namespace": "airflow", "names": ["airflow-migrations-1a2b3c4d"]},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "namespace": "airflow", "names": ["airflow-postgresql"]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "other", "names": ["airflow-scheduler"]}]
    assert manifests.wait_groups([]) == []
    with pytest.raises(ValueError, match="kind and name"):
        manifests.wait_groups([{"kind": "Deployment"}])


def _deployment(name, replicas=2, ready=2, generation=3, observed=3):
    """A list item as the server returns it (no kind of its own inside a list answer)."""
    return {"metadata": {"name": name, "namespace": "airflow", "generation": generation}, "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "replicas": replicas, "updatedReplicas": ready, "readyReplicas": ready,
                       "availableReplicas": ready}}


def _job(name, condition=None, message=""):
    conditions = [{"type": condition, "status": "True", "message": message}] if condition else []
    return {"metadata": {"name": name, "namespace": "airflow"}, "status": {"conditions": conditions}}


def test_group_states_read_one_list_answer():
    group = manifests.wait_groups(WAITS)[0]
    ready, rolling = _deployment("airflow-scheduler"), _deployment("airflow-api-server", ready=1)
    assert manifests.group_states([ready, rolling, _deployment("unrelated", ready=0)], group) == {
        "airflow-scheduler": "ready", "airflow-api-server": "pending"}
    assert manifests.group_states([ready, _deployment("airflow-api-server")], group) == {
        "airflow-scheduler": "ready", "airflow-api-server": "ready"}
    # Not observed yet: the controller has not seen the new generation.
    assert manifests.group_states([ready, _deployment("airflow-api-server", generation=4)], group)["airflow-api-server"] == "pending"
    # Missing from the answer: not done.
    assert manifests.group_states([ready], group)["airflow-api-server"] == "pending"


def test_a_failed_job_is_failed_with_its_message():
    group = manifests.wait_groups(WAITS)[1]
    name = group["names"][0]
    assert manifests.group_states([_job(name)], group) == {name: "pending"}
    assert manifests.group_states([_job(name, "Complete")], group) == {name: "ready"}
    failed = _job(name, "Failed", "BackoffLimitExceeded: Job has reached the specified backoff limit")
    assert manifests.group_states([failed, _job("airflow-other-job", "Failed")], group) == {name: "failed"}
    assert manifests.failure_message(failed) == "BackoffLimitExceeded: Job has reached the specified backoff limit"
    assert manifests.failure_message(_job(name, "Complete", "done")) == ""
