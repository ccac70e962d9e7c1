# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""unknown_variables and role_variables: typos of real variable names are found, with the intended name.

role_variables reads the collection's real roles (argument specs, defaults, vars).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.filter.unknown_variables import unknown_variables
from ansible_collections.airflow_k8s.cloud.plugins.lookup.role_variables import role_variables


@pytest.fixture(scope="module")
def known():
    return role_variables()


def test_the_roles_and_their_variables_are_read(known):
    assert {"airflow", "scheduler", "config", "sink", "verify"} <= set(known["roles"])
    # argument specs, defaults and vars all count
    assert {"scheduler_replicas", "config_remote_logging_enabled", "airflow_strict_variables", "sink_mode",
            "verify_health_check", "airflow_common_labels"} <= set(known["variables"])


def test_typos_are_found_with_the_intended_name(known):
    names = ["scheduler_replica", "config_remote_logging_enable", "scheduler_replicas", "ansible_connection",
             "inventory_hostname", "my_own_variable", "api_server_replicass", "sink_wait"]
    found = unknown_variables(names, known["variables"], known["roles"], ["sink_wait"])
    assert found == [
        {"name": "api_server_replicass", "suggestion": "api_server_replicas"},
        {"name": "config_remote_logging_enable", "suggestion": "config_remote_logging_enabled"},
        {"name": "scheduler_replica", "suggestion": "scheduler_replicas"},
    ]


def test_a_name_far_from_every_variable_has_no_suggestion(known):
    assert unknown_variables(["scheduler_colour"], known["variables"], known["roles"]) == [
        {"name": "scheduler_colour", "suggestion": ""}]


def test_bad_input_is_refused():
    with pytest.raises(AnsibleFilterError):
        unknown_variables("scheduler_replica", [], [])
