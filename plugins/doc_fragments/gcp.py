# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """Authentication options of the airflow_k8s.cloud GCP modules (same names and environment
    variables as the google.cloud collection; plugins/module_utils/gcp_rest.py)."""

    DOCUMENTATION = r"""
options:
  auth_kind:
    description:
      - C(accesstoken) uses O(access_token) and needs no library; C(serviceaccount) and C(application)
        (Application Default Credentials) need the C(google-auth) Python library.
      - Defaults to the C(GCP_AUTH_KIND) environment variable.
    type: str
    required: true
    choices: [application, serviceaccount, accesstoken]
  service_account_file:
    description: Service account key file (C(GCP_SERVICE_ACCOUNT_FILE)), for O(auth_kind=serviceaccount).
    type: path
  service_account_contents:
    description: Service account key as JSON (C(GCP_SERVICE_ACCOUNT_CONTENTS)), for O(auth_kind=serviceaccount).
    type: jsonarg
  access_token:
    description: OAuth 2 access token (C(GCP_ACCESS_TOKEN)), for O(auth_kind=accesstoken).
    type: str
  scopes:
    description: OAuth scopes for O(auth_kind=serviceaccount) and O(auth_kind=application).
    type: list
    elements: str
    default: [https://www.googleapis.com/auth/cloud-platform]
"""
