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
    FilterModule, k8s_checked_objects, k8s_object_problems, k8s_rollout_waits, run_steps, secret_data, sink_report, spec_hash_name)


def applied(*objects, **extra):
    result = {"changed": any(obj.get("changed") for obj in objects), "objects": list(objects),
              "changed_objects": ["%s %s/%s" % (obj["kind"], obj["namespace"], obj["name"]) for obj in objects if obj.get("changed")]}
    result.update(extra)
    return result


def entry(kind, name, changed=False, rollout=None, secret=False, component="c"):
    return {"component": component, "apiVersion": "v1", "kind": kind, "namespace": "airflow", "name": name,
            "secret": secret, "changed": changed, "rollout": rollout}


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"k8s_object_problems", "k8s_rollout_waits", "secret_data", "sink_report",
                                             "spec_hash_name", "run_steps", "k8s_checked_objects"}


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


def test_apply_report_names_what_was_retired_and_what_was_left_alone():
    result = dict(applied(entry("ConfigMap", "cfg")), deleted_objects=["StatefulSet airflow/airflow-worker"],
                  retired=[{"kind": "StatefulSet", "namespace": "airflow", "name": "airflow-worker", "action": "deleted"},
                           {"kind": "Service", "namespace": "airflow", "name": "airflow-flower", "action": "left alone",
                            "reason": "it lacks the label a=b"}])
    lines = sink_report(result, mode="apply")
    assert lines[1:] == ["Deleted (no component describes them any more): StatefulSet airflow/airflow-worker.",
                         "Left alone (no longer described, but not owned by this collection): Service airflow/airflow-flower (it lacks the label a=b)."]
    assert sink_report(result, mode="apply", check_mode=True)[1].startswith("Would delete (no component describes them any more): ")


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


JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "airflow-migrations", "namespace": "airflow"},
       "spec": {"backoffLimit": 6, "template": {"spec": {"containers": [{"name": "migrate", "image": "apache/airflow:3.3.2"}]}}}}


def test_spec_hash_name_appends_the_hash_of_the_sorted_spec():
    """The name Ansible's own `to_json(sort_keys=true) | hash('sha256')` gave (what the roles used
    before this filter): existing deployments keep their Job names."""
    import hashlib
    import json
    expected = hashlib.sha256(json.dumps(JOB["spec"], sort_keys=True).encode()).hexdigest()
    named = spec_hash_name(JOB)
    assert named["metadata"] == {"name": "airflow-migrations-" + expected[:8], "namespace": "airflow"}
    assert named["spec"] == JOB["spec"] and JOB["metadata"]["name"] == "airflow-migrations"  # input untouched
    assert spec_hash_name(JOB, 10)["metadata"]["name"] == "airflow-migrations-" + expected[:10]


def test_spec_hash_name_changes_with_the_spec_and_not_with_key_order():
    reordered = {"metadata": dict(JOB["metadata"]), "kind": "Job", "apiVersion": "batch/v1",
                 "spec": {"template": JOB["spec"]["template"], "backoffLimit": 6}}
    assert spec_hash_name(reordered)["metadata"]["name"] == spec_hash_name(JOB)["metadata"]["name"]
    changed = dict(JOB, spec=dict(JOB["spec"], backoffLimit=3))
    assert spec_hash_name(changed)["metadata"]["name"] != spec_hash_name(JOB)["metadata"]["name"]


def test_spec_hash_name_names_each_object_of_a_list():
    other = dict(JOB, metadata={"name": "airflow-admin-user"})
    assert [obj["metadata"]["name"].rsplit("-", 1)[0] for obj in spec_hash_name([JOB, other])] == ["airflow-migrations", "airflow-admin-user"]


@pytest.mark.parametrize("bad, length", [({"kind": "Job"}, 8), ({"metadata": {"name": "x"}}, 8), (JOB, 0), (JOB, 65), (JOB, True)])
def test_spec_hash_name_refuses_what_it_cannot_name(bad, length):
    with pytest.raises(AnsibleFilterError, match="spec_hash_name"):
        spec_hash_name(bad, length)


# --tags / --skip-tags combinations, each checked against ansible-core's own decision for a task tagged
# with the step's name (how site.yml tags every step).
TAG_CASES = [
    (["all"], []), (["scheduler"], []), (["config", "scheduler"], []), (["config"], []), (["tagged"], []),
    (["untagged"], []), (["always"], []), (["all"], ["scheduler"]), (["all"], ["config", "network_policy"]),
    (["scheduler"], ["scheduler"]), (["all"], ["tagged"]), (["all"], ["all"]), (["tagged"], ["config"]),
    (["api_server", "scheduler"], ["untagged"]), (["all"], ["always"]),
]


@pytest.mark.parametrize("run_tags, skip_tags", TAG_CASES)
def test_run_steps_selects_what_ansible_would_run(run_tags, skip_tags):
    from ansible.playbook.block import Block
    from ansible.playbook.play import Play
    from ansible.playbook.task import Task

    def ansible_runs(step):
        task = Task(block=Block(play=Play.load({"hosts": "airflow", "gather_facts": False})))
        task.tags = [step]
        return task.evaluate_tags(run_tags, skip_tags, {})

    steps = ["config", "scheduler", "api_server", "network_policy", "secrets"]
    names = ["%s_run_objects" % step for step in steps] + ["secrets_run_secrets"]
    expected = [name for name in names if ansible_runs(name.rsplit("_run_", 1)[0])]
    assert run_steps(names, run_tags, skip_tags) == expected


def test_run_steps_keeps_the_order_and_defaults_to_a_run_without_tags():
    names = ["scheduler_run_objects", "api_server_run_objects", "config_run_secrets"]
    assert run_steps(names) == names
    assert run_steps(names, ["scheduler", "config"], []) == ["scheduler_run_objects", "config_run_secrets"]
    assert run_steps([], ["all"], []) == []


@pytest.mark.parametrize("bad", ["scheduler", "", 3, None])
def test_run_steps_refuses_names_that_are_not_step_variables(bad):
    with pytest.raises(AnsibleFilterError, match="run_steps: .* is not a <step>_run_objects"):
        run_steps([bad])


def test_checked_objects_pass_through_unchanged_or_fail_naming_every_problem():
    good = {"scheduler": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}]}
    assert k8s_checked_objects(good, "sink_run_objects", False) is good
    bad = dict(good, secrets=[{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "djE="}}],
               api_server=[{"apiVersion": "v1", "kind": "Service", "metadata": {}}])
    with pytest.raises(AnsibleFilterError) as failed:
        k8s_checked_objects(bad, "sink_run_objects", False)
    message = str(failed.value)
    assert message.startswith("The run's objects are unusable, nothing was written: ")
    assert "sink_run_objects.api_server[0] needs metadata.name" in message
    assert "sink_run_objects.secrets[0] is a Secret" in message
    assert "djE=" not in message
    secrets = {"secrets": bad["secrets"]}
    assert k8s_checked_objects(secrets, "sink_run_secrets", True) is secrets
    with pytest.raises(AnsibleFilterError, match=r"sink_run_secrets\.demo\[0\] is not a Secret"):
        k8s_checked_objects({"demo": good["scheduler"]}, "sink_run_secrets", True)
