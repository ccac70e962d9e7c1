# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection_uri module's computation, in the controller process (documentation: the module).

Building a URI touches no system, so the module's work is done here, with the same module_utils
code, instead of in a module process (about half a second of a run). An async task runs the module.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.connection_uri import (
    ConnectionUriError,
    argument_spec,
    connection_uri_result,
    invocation,
)
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.in_process import (
    InProcessModuleAction,
    ModuleFailure,
)


class ActionModule(InProcessModuleAction):

    def argument_spec(self):
        return argument_spec()

    def compute(self, params, no_log_values):
        try:
            result, warnings = connection_uri_result(params)
        except ConnectionUriError as error:
            # Messages never contain the password; the no_log masking of the failure is a second guard.
            raise ModuleFailure(str(error), option=error.option)
        # As the module: the URI is a deliberate secret output, so the password is not masked in the
        # result (it would corrupt `uri` where encoding leaves it unchanged); the invocation masks it.
        if params["password"]:
            no_log_values.discard(params["password"])
        result["invocation"] = invocation(params)
        return result, warnings
