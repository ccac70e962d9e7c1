# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The render_manifests module's work in the controller process, on a local connection.

Documentation: the module. When the task's connection is local (the local inventory, or
``delegate_to: localhost``), the files would be written by a module process on this very machine,
as this very user: the action plugin writes them itself, with the module's module_utils code
(module_utils/render.py), and saves the module process (about half a second of a render). Anywhere
else, and whenever the module process could differ from this one (``become``, a task
``environment``, async), the module runs as usual.

The Secrets arrive as the module gets them: JSON text in the ``no_log`` option ``secrets``. As in
the module, that option is masked in the result's invocation, and every value of a Secret's
``data`` is masked wherever else in the result it could show. No module log entry is written.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests
from ansible_collections.airflow_k8s.cloud.plugins.module_utils.render import (
    RenderError,
    argument_spec,
    render_manifests,
)
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.in_process import (
    InProcessModuleAction,
    ModuleFailure,
)


class ActionModule(InProcessModuleAction):

    def argument_spec(self):
        return argument_spec()

    def in_process(self):
        """Only where the module process would be this process's twin: local, same user, same environment."""
        return self.local_twin()

    def compute(self, params, no_log_values):
        if not manifests.HAS_YAML:
            raise ModuleFailure(missing_required_lib("PyYAML"))
        try:
            objects = manifests.merge_run_objects(params["objects"], params["secrets"], no_log_values)
            # A rename within the folder: atomic, and it keeps the mode the temporary file was given.
            result = render_manifests(params, objects, self._task.check_mode, self._task.diff, os.rename,
                                      no_log_values=no_log_values)
        except (manifests.RunObjectsError, RenderError) as error:
            raise ModuleFailure(str(error))
        return result, []
