# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fernet_key module's computation, in the controller process (documentation: the module).

Keeping, generating or rotating a key touches no system, so the module's work is done here, with
the same module_utils code, instead of in a module process (about half a second of a run). The key
is therefore always generated on the controller, which is where the module's documentation asks
it to run anyway. An async task runs the module.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.fernet import (
    FernetKeyError,
    argument_spec,
    fernet_key_result,
    invocation,
)
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.in_process import (
    InProcessModuleAction,
    ModuleFailure,
)

try:
    from cryptography.fernet import Fernet
except ImportError:
    Fernet = None
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None


class ActionModule(InProcessModuleAction):

    def argument_spec(self):
        return argument_spec()

    def compute(self, params, no_log_values):
        if Fernet is None:
            raise ModuleFailure(missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
        try:
            result, warnings = fernet_key_result(params, self._task.diff, Fernet)
        except FernetKeyError as error:
            raise ModuleFailure(str(error))
        # As the module: the keys are returned on purpose, so `existing` (no_log) is not masked in
        # the result (it is RV(fernet_key) whenever that is unchanged); the invocation masks it.
        result["invocation"] = invocation(params)
        if params["existing"]:
            no_log_values.discard(params["existing"])
        return result, warnings
