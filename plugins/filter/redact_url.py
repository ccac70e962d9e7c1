# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""redact_url: a value that may carry credentials, safe to put in a message."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.preflight import redact_url


class FilterModule(object):
    """Masking of credentials in values shown in messages (the same masking the preflight applies)."""

    def filters(self):
        return {"redact_url": redact_url}
