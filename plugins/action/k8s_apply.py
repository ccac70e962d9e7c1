# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The k8s_apply module's own code, run in the controller process on a local connection.

Documentation: the module. Where the module process would be this process's twin (a local
connection, the same user, no task ``environment``: the inventories of this collection), the
module's ``main`` runs here, with kubernetes.core's module utilities and the same options,
connection settings (module_defaults, the K8S_AUTH_* environment, ~/.kube/config), check mode,
diffs and ``no_log`` masking; anywhere else the module runs as usual.

Importing this plugin imports the module and with it the Kubernetes client. The strategy does that
in the controller's main process when it reaches the task, so the worker that applies, and every
later one (the verify role's waits and probe), inherits the client instead of importing it: about
half a second each. The sink therefore includes its apply task only in apply mode: a render never
loads this plugin.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.airflow_k8s.cloud.plugins.modules import k8s_apply
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.in_process import module_code_action

ActionModule = module_code_action(k8s_apply)
