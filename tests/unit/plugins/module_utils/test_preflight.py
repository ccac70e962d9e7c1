# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/preflight: the strict type rule, masking, and the roles' real argument specs."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import preflight


@pytest.mark.parametrize("spec, value, expected", [
    ({"type": "str"}, {"name": "x"}, ["v must be a string, got a mapping"]),
    ({"type": "str"}, ["x"], ["v must be a string, got a list"]),
    ({"type": "str"}, "x", []),
    ({"type": "str"}, 3.3, []),  # YAML numbers where a string is declared are converted as expected
    ({"type": "dict"}, "a=1", ["v must be a mapping, got a string"]),
    ({"type": "list", "elements": "str"}, "a,b", ["v must be a list, got a string"]),
    ({"type": "list", "elements": "str"}, ["a", {"name": "x"}], ["v[1] must be a string, got a mapping"]),
    ({"type": "list", "elements": "dict"}, [{"a": 1}, "b"], ["v[1] must be a mapping, got a string"]),
    ({"type": "dict", "options": {"env": {"type": "list", "elements": "dict"}}}, {"env": "A=b"}, ["v.env must be a list, got a string"]),
    ({"type": "int"}, None, []),
])
def test_strict_type_problems(spec, value, expected):
    assert preflight.strict_type_problems("v", spec, value) == expected


def test_mask_replaces_secrets_and_url_credentials():
    text = "got 'postgresql://airflow:hunter2hunter2@db/airflow' and key s3cr3t-key-value and s3cr3t"
    masked = preflight.mask(text, ["s3cr3t-key-value", "s3cr3t", ""])
    assert "hunter2" not in masked and "s3cr3t" not in masked
    assert "postgresql://***@db/airflow" in masked
    assert masked.count(preflight.MASK) == 2


def test_no_log_values_of_top_level_and_sub_options():
    options = {"password": {"no_log": True}, "name": {}, "nested": {"type": "dict", "options": {"token": {"no_log": True}}},
               "flag": {"no_log": True}}
    values = {"password": "p4ss", "name": "visible", "nested": {"token": "t0ken"}, "flag": True}
    assert sorted(preflight.no_log_values(options, values)) == ["p4ss", "t0ken"]


def test_role_argument_spec_reads_the_real_roles():
    scheduler = preflight.role_argument_spec("scheduler")
    assert scheduler["scheduler_replicas"]["type"] == "int"
    assert "scheduler_pod" in scheduler
    pod = preflight.role_argument_spec("airflow")["airflow_pod"]
    assert {"env", "sidecars", "service_account_annotations"} <= set(pod["options"])
    assert preflight.role_argument_spec("no_such_role") == {}


def test_role_variables_and_unknown_variables():
    known = preflight.role_variables()
    assert "scheduler" in known["roles"] and "scheduler_replicas" in known["variables"]
    unknown = preflight.unknown_variables(["scheduler_replica", "scheduler_replicas", "other"], known["variables"], known["roles"])
    assert unknown == [{"name": "scheduler_replica", "suggestion": "scheduler_replicas"}]
    assert preflight.describe_unknown(unknown) == "scheduler_replica (did you mean scheduler_replicas?)"


def test_workload_problems_name_each_setting():
    from ansible_collections.airflow_k8s.cloud.plugins.module_utils import k8s_values
    assert k8s_values.workload_problems("scheduler", {"replicas": 2, "termination_grace_period_seconds": 0,
                                                      "resources": {"limits": {"cpu": "1"}}, "node_selector": {"pool": "a"},
                                                      "pod": {"labels": {"team": "data"}}}) == []
    problems = k8s_values.workload_problems("scheduler", {"replicas": "0", "termination_grace_period_seconds": -1,
                                                          "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}},
                                                          "node_selector": {"pool": "a b"}, "pod": {"sidecars": [{"name": "p"}]}})
    assert [problem.split(" ")[0] for problem in problems] == [
        "scheduler_replicas", "scheduler_termination_grace_period_seconds", "scheduler_resources", "scheduler_node_selector",
        "scheduler_pod.sidecars[0].image"]
    # Only the settings the component has are checked (statsd has no grace period variable).
    assert k8s_values.workload_problems("statsd", {"replicas": "x"}) == ["statsd_replicas must be at least 1 (got 'x')."]
