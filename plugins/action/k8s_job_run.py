# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k8s_job_run module's own code, run in the controller process on a local connection.

Documentation: the module. As for k8s_apply (plugins/action/k8s_apply.py): on a local connection
with the same user and environment, the module's ``main`` runs in the controller's worker process,
with kubernetes.core's client, which the worker inherits from the controller's main process instead
of importing it; anywhere else the module runs as usual.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.airflow_k8s.cloud.plugins.modules import k8s_job_run
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.in_process import module_code_action

ActionModule = module_code_action(k8s_job_run)
