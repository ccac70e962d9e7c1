# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sink's and verify's filters: object checks, the sink's report, what to wait for, Secrets read back.

Inputs are shaped like the real registered results of render_manifests and k8s_apply (see their
RETURN documentation and tests) and like the Secrets k8s_info returns.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.filter.manifests import (
    FilterModule, k8s_object_problems, k8s_rollout_state, k8s_rollout_waits, k8s_spec_named, secret_data, sink_report)


def applied(*objects, **extra):
    result = {"changed": any(obj.get("changed") for obj in objects), "objects": list(objects),
              "changed_objects": ["%s %s/%s" % (obj["kind"], obj["namespace"], obj["name"]) for obj in objects if obj.get("changed")]}
    result.update(extra)
    return result


def entry(kind, name, changed=False, rollout=None, secret=False, component="c"):
    return {"component": component, "apiVersion": "v1", "kind": kind, "namespace": "airflow", "name": name,
            "secret": secret, "changed": changed, "rollout": rollout}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"k8s_object_problems", "k8s_rollout_state", "k8s_rollout_waits",
                                             "k8s_spec_named", "secret_data", "sink_report"}


def test_object_problems_name_the_variable_component_and_position():
    run = {"scheduler": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok"}},
                         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}],
           "secrets": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {}}],
           "bad": "not a list"}
    assert k8s_object_problems(run, "sink_run_objects") == [
        "sink_run_objects.bad must be a list of Kubernetes objects",
        "sink_run_objects.scheduler[1] needs metadata.name",
        "sink_run_objects.secrets[0] is a Secret with stringData: use data (base64) so a re-apply is a no-op"]
    assert k8s_object_problems({"a": []}) == []


def test_apply_report_names_changes_and_secrets_without_content():
    result = applied(entry("Namespace", "airflow", changed=True), entry("Secret", "token", changed=True, secret=True),
                     entry("ConfigMap", "cfg"))
    lines = sink_report(result, mode="apply", field_manager="fm")
    assert lines[0] == "Applied 3 objects (1 Secret) for 1 component with server-side apply (field manager fm)."
    assert lines[1] == "Created or changed: 2 objects: Namespace airflow/airflow, Secret airflow/token."
    assert lines[2] == "Secrets changed (content hidden): Secret airflow/token."


def test_apply_report_in_check_mode_is_the_drift():
    drift = applied(entry("ConfigMap", "cfg", changed=True))
    assert sink_report(drift, mode="apply", check_mode=True)[1] == "Drift: 1 object would change: ConfigMap airflow/cfg."
    clean = applied(entry("ConfigMap", "cfg"))
    assert sink_report(clean, mode="apply", check_mode=True)[1] == "No drift: no object would change."
    assert sink_report(clean, mode="apply")[1] == "Nothing changed: every object was already as described."


def test_render_report():
    result = {"files": ["a/configmap-x.yaml", "a/secret-y.yaml"], "changed_files": ["a/configmap-x.yaml"],
              "removed_files": ["b/service-z.yaml"], "components": ["a"], "secrets": 1}
    lines = sink_report(result, mode="render", render_dir="/out", field_manager="fm")
    assert lines[:3] == ["Rendered 2 objects for 1 component to /out/", "Written: a/configmap-x.yaml.",
                         "Removed (no longer produced): b/service-z.yaml."]
    assert "Apply them with: kubectl apply --server-side --field-manager=fm -k /out" in lines
    unchanged = dict(result, changed_files=[], removed_files=[])
    assert sink_report(unchanged, mode="render", check_mode=True)[1] == "No drift: no file would change."


def test_report_refuses_a_wrong_mode_and_says_when_nothing_was_written():
    with pytest.raises(AnsibleFilterError, match="mode must be apply or render"):
        sink_report({}, mode="helm")
    assert sink_report({"skipped": True}, mode="apply") == ["Nothing was written (the write step was skipped)."]


def test_rollout_waits_are_the_changed_or_unfinished_workloads_and_jobs():
    result = applied(entry("Deployment", "unchanged-ready", rollout="ready"),
                     entry("Deployment", "changed", changed=True, rollout="ready"),
                     entry("StatefulSet", "pending", rollout="pending"),
                     entry("Job", "done", rollout="ready"), entry("Job", "new", changed=True, rollout="pending"),
                     entry("ConfigMap", "cfg", changed=True))
    assert [(wait["kind"], wait["name"]) for wait in k8s_rollout_waits(result)] == [
        ("Deployment", "changed"), ("StatefulSet", "pending"), ("Job", "new")]
    assert k8s_rollout_waits({"skipped": True}) == []


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
    assert k8s_rollout_state(obj) == state


def secret(name, **data):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}}


def test_secret_data_decodes_by_name_and_key():
    stored = [secret("airflow-fernet-key", **{"fernet-key": "k1,k2"}), secret("airflow-admin-user", username="admin", password="pä$$")]
    assert secret_data(stored) == {"airflow-fernet-key": {"fernet-key": "k1,k2"},
                                   "airflow-admin-user": {"username": "admin", "password": "pä$$"}}
    assert secret_data(stored, names=["airflow-admin-user"]) == {"airflow-admin-user": {"username": "admin", "password": "pä$$"}}
    assert secret_data([{"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}]) == {}


def test_secret_data_names_a_broken_value_but_never_shows_it():
    broken = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "not base64 %%%"}}
    with pytest.raises(AnsibleFilterError) as error:
        secret_data([broken])
    assert "Secret s, key k" in str(error.value) and "%%%" not in str(error.value)


def _job(command, name="airflow-share-setup"):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "airflow"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "command": command}]}}}}


def test_spec_named_appends_the_hash_that_ansible_to_json_and_hash_give():
    """The migrations role named its Jobs with ``spec | to_json(sort_keys=true) | hash('sha256')``;
    the filter must give the same names, or every existing Job would be replaced once."""
    from ansible.plugins.filter.core import to_json, get_hash  # pylint: disable=import-outside-toplevel

    job = _job(["sh", "-c", "mkdir dags \u00e9"])
    [named] = k8s_spec_named([job])
    assert named["metadata"]["name"] == "airflow-share-setup-" + get_hash(to_json(job["spec"], sort_keys=True), "sha256")[:8]
    assert named["metadata"]["namespace"] == "airflow" and named["spec"] == job["spec"]
    assert job["metadata"]["name"] == "airflow-share-setup", "the input must not change"


def test_spec_named_changes_with_the_spec_only():
    first, same, other = k8s_spec_named([_job(["a"]), _job(["a"]), _job(["b"])])
    assert first["metadata"]["name"] == same["metadata"]["name"] != other["metadata"]["name"]
    assert len(k8s_spec_named([_job(["a"])], 12)[0]["metadata"]["name"]) == len("airflow-share-setup-") + 12


@pytest.mark.parametrize("objects", [{"kind": "Job"}, [{"kind": "Job", "metadata": {"name": "x"}}], [{"spec": {}, "metadata": {}}]])
def test_spec_named_refuses_what_is_not_a_list_of_named_objects_with_a_spec(objects):
    with pytest.raises(AnsibleFilterError, match="k8s_spec_named needs"):
        k8s_spec_named(objects)
