# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""section_options: option names only, never values."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.filter.section_options import FilterModule, section_options


def test_mappings_and_lists_become_section_option_names():
    names = section_options({"core": {"executor": "x", "parallelism": 4}, "api": ["port"], "broken": "a=1"})
    assert names == ["api.port", "core.executor", "core.parallelism"]


def test_values_never_appear():
    assert "hunter2" not in str(section_options({"database": {"sql_alchemy_conn": "postgresql://u:hunter2@h/d"}}))


def test_not_a_mapping_is_an_error():
    with pytest.raises(AnsibleFilterError):
        section_options(["core"])
    assert FilterModule().filters()["section_options"] is section_options
