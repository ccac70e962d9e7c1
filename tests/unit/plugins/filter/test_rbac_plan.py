# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rbac_plan filter: which objects the rbac role describes, in which order, with which template variables."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.filter.rbac_plan import FilterModule, rbac_plan

SERVICE_ACCOUNTS = {component: {"name": "airflow-" + component, "automount": False}
                    for component in ("scheduler", "api_server", "dag_processor", "triggerer", "migrations", "task")}
LAUNCHER_RULES = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete", "list", "patch", "watch"]}]
READER_RULES = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]
TASK_RULES = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]


def grants(pod_logs=False, task_rules=None):
    """The grants as roles/rbac/vars/main.yml describes them."""
    return [
        {"component": "scheduler", "name": "airflow-pod-launcher", "rules": LAUNCHER_RULES, "description": "launcher",
         "enabled": True, "in_task_namespaces": True},
        {"component": "api_server", "name": "airflow-pod-log-reader", "rules": READER_RULES, "description": "reader",
         "enabled": pod_logs, "in_task_namespaces": True},
        {"component": "task", "name": "airflow-task", "rules": task_rules or [], "description": "task",
         "enabled": bool(task_rules), "in_task_namespaces": False},
    ]


def summary(plan):
    """One readable line per step: template, role or component, namespace override."""
    lines = []
    for step in plan:
        variables = step["vars"]
        line = "%s %s" % (step["template"].split(".")[0], variables.get("rbac_role_name", variables["rbac_component"]))
        if "rbac_role_kind" in variables:
            line += " kind=%s" % variables["rbac_role_kind"]
        if "rbac_binding_name" in variables:
            line += " as=%s" % variables["rbac_binding_name"]
        if "rbac_target_namespace" in variables:
            line += " in=%s" % variables["rbac_target_namespace"]
        lines.append(line)
    return lines


SERVICE_ACCOUNT_LINES = ["service_account scheduler", "service_account api_server", "service_account dag_processor",
                         "service_account triggerer", "service_account migrations", "service_account task"]


def test_default_is_one_namespaced_role_for_the_scheduler():
    plan = rbac_plan(SERVICE_ACCOUNTS, grants(), namespace="airflow")
    assert summary(plan) == SERVICE_ACCOUNT_LINES + ["role airflow-pod-launcher", "role_binding airflow-pod-launcher kind=Role"]
    assert plan[0] == {"template": "service_account.yml.j2", "vars": {"rbac_component": "scheduler"}}
    assert plan[6] == {"template": "role.yml.j2", "vars": {"rbac_component": "scheduler", "rbac_role_name": "airflow-pod-launcher",
                                                           "rbac_role_rules": LAUNCHER_RULES, "rbac_role_description": "launcher"}}
    assert plan[7]["vars"] == dict(plan[6]["vars"], rbac_role_kind="Role")


def test_service_accounts_follow_the_input_order():
    accounts = {"task": {}, "scheduler": {}}
    plan = rbac_plan(accounts, grants()[:1], namespace="airflow")
    assert summary(plan)[:2] == ["service_account task", "service_account scheduler"]


def test_pod_logs_and_task_rules_add_namespaced_roles_in_grant_order():
    plan = rbac_plan(SERVICE_ACCOUNTS, grants(pod_logs=True, task_rules=TASK_RULES), namespace="airflow")
    assert summary(plan)[6:] == ["role airflow-pod-launcher", "role_binding airflow-pod-launcher kind=Role",
                                 "role airflow-pod-log-reader", "role_binding airflow-pod-log-reader kind=Role",
                                 "role airflow-task", "role_binding airflow-task kind=Role"]
    assert plan[10]["vars"]["rbac_component"] == "task" and plan[10]["vars"]["rbac_role_rules"] == TASK_RULES


def test_multi_namespace_mode_without_namespaces_binds_cluster_roles_cluster_wide():
    plan = rbac_plan(SERVICE_ACCOUNTS, grants(pod_logs=True, task_rules=TASK_RULES), namespace="airflow", multi_namespace_mode=True)
    assert summary(plan)[6:] == ["cluster_role airflow-airflow-pod-launcher", "cluster_role_binding airflow-airflow-pod-launcher",
                                 "cluster_role airflow-airflow-pod-log-reader", "cluster_role_binding airflow-airflow-pod-log-reader",
                                 # DAG code's rules stay in the Airflow namespace.
                                 "role airflow-task", "role_binding airflow-task kind=Role"]


def test_multi_namespace_mode_with_namespaces_binds_in_each_and_adds_task_service_accounts():
    plan = rbac_plan(SERVICE_ACCOUNTS, grants(), namespace="airflow", multi_namespace_mode=True, namespaces=["b", "airflow", "a"])
    assert summary(plan)[6:] == ["cluster_role airflow-airflow-pod-launcher",
                                 "role_binding airflow-airflow-pod-launcher kind=ClusterRole as=airflow-pod-launcher in=b",
                                 "role_binding airflow-airflow-pod-launcher kind=ClusterRole as=airflow-pod-launcher in=airflow",
                                 "role_binding airflow-airflow-pod-launcher kind=ClusterRole as=airflow-pod-launcher in=a",
                                 "service_account task in=b", "service_account task in=a"]


def test_multi_namespace_mode_with_only_the_airflow_namespace_adds_no_service_account():
    plan = rbac_plan(SERVICE_ACCOUNTS, grants(), namespace="airflow", multi_namespace_mode=True, namespaces=["airflow"])
    assert summary(plan)[-1] == "role_binding airflow-airflow-pod-launcher kind=ClusterRole as=airflow-pod-launcher in=airflow"


@pytest.mark.parametrize("value, multi", [(False, False), ("false", False), ("no", False), (0, False),
                                          (True, True), ("true", True), ("yes", True), (1, True)])
def test_booleans_are_read_as_ansible_reads_them(value, multi):
    """-e rbac_multi_namespace_mode=false is the string 'false': it must not mean multi-namespace mode."""
    plan = rbac_plan(SERVICE_ACCOUNTS, [dict(grants()[1], enabled=value)], namespace="airflow", multi_namespace_mode=value)
    templates = [step["template"] for step in plan[6:]]
    if not multi:
        assert templates == []
    else:
        assert templates == ["cluster_role.yml.j2", "cluster_role_binding.yml.j2"]


def test_grant_defaults_are_enabled_and_namespaced():
    plan = rbac_plan(SERVICE_ACCOUNTS, [{"component": "scheduler", "name": "x", "rules": [], "description": ""}],
                     namespace="airflow", multi_namespace_mode=True)
    assert summary(plan)[6:] == ["role x", "role_binding x kind=Role"]


@pytest.mark.parametrize("args, kwargs, message", [
    (([], []), {"namespace": "airflow"}, "the input must be the ServiceAccounts"),
    ((SERVICE_ACCOUNTS, "scheduler"), {"namespace": "airflow"}, "grants must be a list of mappings, got str"),
    ((SERVICE_ACCOUNTS, ["scheduler"]), {"namespace": "airflow"}, r"grants\[0\] must be a mapping"),
    ((SERVICE_ACCOUNTS, [{"component": "scheduler"}]), {"namespace": "airflow"}, r"grants\[0\] needs name, rules, description"),
    ((SERVICE_ACCOUNTS, [dict(grants()[0], component="worker")]), {"namespace": "airflow"},
     r"grants\[0\].component 'worker' has no ServiceAccount \(known: scheduler, api_server"),
    ((SERVICE_ACCOUNTS, [dict(grants()[0], name="")]), {"namespace": "airflow"}, r"grants\[0\].name must be a non-empty string"),
    ((SERVICE_ACCOUNTS, [dict(grants()[0], rules="pods")]), {"namespace": "airflow"}, r"grants\[0\].rules must be a list"),
    ((SERVICE_ACCOUNTS, [dict(grants()[0], enabled="maybe")]), {"namespace": "airflow"}, r"grants\[0\].enabled must be a boolean"),
    ((SERVICE_ACCOUNTS, grants()), {}, "namespace must be a non-empty string, got None"),
    ((SERVICE_ACCOUNTS, grants()), {"namespace": "airflow", "multi_namespace_mode": "sometimes"}, "multi_namespace_mode must be a boolean"),
    ((SERVICE_ACCOUNTS, grants()), {"namespace": "airflow", "multi_namespace_mode": True, "namespaces": "a,b"},
     "namespaces must be a list of namespace names"),
    ((SERVICE_ACCOUNTS, grants()), {"namespace": "airflow", "multi_namespace_mode": True, "namespaces": ["a", 3]},
     r"namespaces\[1\] must be a non-empty string"),
    ((SERVICE_ACCOUNTS, grants()), {"namespace": "airflow", "namespaces": ["a"]}, "namespaces are only used in multi-namespace mode"),
    (({"scheduler": {}}, grants()[:1]), {"namespace": "airflow", "multi_namespace_mode": True}, "multi-namespace mode needs a 'task' ServiceAccount"),
])
def test_bad_input_is_a_clear_filter_error(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match="^rbac_plan: " + message):
        rbac_plan(*args, **kwargs)


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"rbac_plan": rbac_plan}
