# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ca_bundle: CA certificates (PEM text, or base64 of PEM/DER files) as one checked PEM bundle;
pem_problem: what is wrong with a value that should be PEM certificates (for preflight messages)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.certificates import CertificateError
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.certificates import ca_bundle as _ca_bundle
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.certificates import pem_problem as _pem_problem


def ca_bundle(items, sources=None):
    try:
        return _ca_bundle(items, sources)
    except CertificateError as error:
        raise AnsibleFilterError(str(error))


def pem_problem(value, source="the value"):
    return _pem_problem(value, source) or ""


class FilterModule(object):
    """CA certificate bundles for sslmode=verify-full."""

    def filters(self):
        return {"ca_bundle": ca_bundle, "pem_problem": pem_problem}
