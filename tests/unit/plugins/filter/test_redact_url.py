# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""redact_url: credentials never reach a message; everything else stays readable."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.filter.redact_url import FilterModule, redact_url


@pytest.mark.parametrize("value, expected", [
    ("https://bot:s3cr3t-T0ken@git.example.com/team/dags.git", "https://***@git.example.com/team/dags.git"),
    ("https://ghp_abcdef0123456789@github.com/o/r.git", "https://***@github.com/o/r.git"),
    ("postgresql://airflow:p%40ss@db.example.com:5432/airflow", "postgresql://***@db.example.com:5432/airflow"),
    ("https://acct.blob.core.windows.net/logs?sv=2022&sig=AbC%2Fd&se=2030", "https://acct.blob.core.windows.net/logs?sv=2022&sig=***&se=2030"),
    ("db.example.com?password=hunter2", "db.example.com?password=***"),
    ("git@github.com:team/dags.git", "git@github.com:team/dags.git"),
    ("https://git.example.com/team/dags.git", "https://git.example.com/team/dags.git"),
    ("db.internal", "db.internal"),
    ("", ""),
])
def test_redact_url(value, expected):
    assert redact_url(value) == expected


def test_registered():
    assert FilterModule().filters()["redact_url"] is redact_url
