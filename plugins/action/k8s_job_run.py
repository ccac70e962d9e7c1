# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k8s_job_run module's own code, run in the controller process on a local connection (anywhere else the
module runs); documentation: the module, and plugins/action/k8s_apply.py for why and how."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.airflow_k8s.cloud.plugins.modules import k8s_job_run
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.in_process import module_code_action

ActionModule = module_code_action(k8s_job_run)
