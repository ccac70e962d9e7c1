# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pem_certificates: is the value PEM text holding certificates only (for the preflight rules)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.certificates import pem_problem


def pem_certificates(value):
    return pem_problem(value) is None


class TestModule(object):
    """PEM certificate test."""

    def tests(self):
        return {"pem_certificates": pem_certificates}
