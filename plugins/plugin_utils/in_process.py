# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A base for action plugins that do a module's work in the controller process.

Running a module costs a process and its AnsiballZ packaging, about half a second each here. The
collection's pure computations (fernet_key, connection_uri) and the render mode's file writing on a
local connection (render_manifests) do the same work in the controller's worker process instead,
with the module's own module_utils code, and return what the module would return:

* the options are what a module process would decode from its arguments (ansible-core's JSON
  profile for module arguments: plain data, no tags, dates as text) and are validated with the
  module's argument spec (``ArgumentSpecValidator``, which ``AnsibleModule`` uses too), with the
  module's error messages;
* the result gets the ``invocation`` a module result has, and every ``no_log`` value is masked in
  it, bools and ``None`` at the top level kept, as ``AnsibleModule.exit_json``/``fail_json`` do;
* the result goes through the JSON profile of module results both ways, as a module's result does:
  it is what the controller would have decoded from the module, and no tag of the task's
  arguments (origin, trust as a template) reaches the registered variable.

What does not happen on this path: the module's log entry (syslog/journald), which lists the
options with the ``no_log`` ones hidden. Nothing is logged instead, so no secret is either.

A subclass names its argument spec, says when it can run in-process (:meth:`in_process`; otherwise
the module runs as usual, through ``_execute_module``), and computes the result (:meth:`compute`).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

display = Display()

#: The JSON serialization profile of the collection's modules (ansible-core's default for modules).
PROFILE = "legacy"


def through_json(value, direction):
    """``value`` encoded and decoded as ansible-core does between the controller and a module."""
    text = json.dumps(value, cls=get_module_encoder(PROFILE, direction))
    return json.loads(text, cls=get_module_decoder(PROFILE, direction))


class ModuleFailure(Exception):
    """What ``fail_json`` is for a module: the message and any other keys of the failed result."""

    def __init__(self, msg, **extra):
        super(ModuleFailure, self).__init__(msg)
        self.msg = msg
        self.extra = extra


class InProcessModuleAction(ActionBase):
    """Validate the module's options and compute its result here, or run the module."""

    _supports_check_mode = True
    # An async task runs the module (in_process is False then), which supports async.
    _supports_async = True

    def argument_spec(self):
        """The module's argument spec (a new dict)."""
        raise NotImplementedError

    def in_process(self):
        """Whether this task's work can be done in the controller process. Async tasks cannot."""
        return not self._task.async_val

    def compute(self, params, no_log_values):
        """``(result, warnings)`` for validated ``params``; raise :class:`ModuleFailure` to fail.

        ``no_log_values`` is the set of values masked in the result, as ``module.no_log_values``:
        add to it or discard from it where the module does.
        """
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super(InProcessModuleAction, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        if not self.in_process():
            return self._run_module(result, task_vars)
        display.vvv("%s: computed in the controller process, no module run" % self._task.action,
                    host=self._play_context.remote_addr)
        return merge_hash(result, self._run_in_process())

    def _run_module(self, result, task_vars):
        """What the ``normal`` action does: transfer and run the module."""
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _run_in_process(self):
        params = through_json(dict(self._task.args), Direction.CONTROLLER_TO_MODULE)
        validation = ArgumentSpecValidator(self.argument_spec()).validate(params)
        params.update(validation.validated_parameters)
        no_log_values = set(validation._no_log_values)
        if validation.errors.errors:  # AnsibleValidationErrorMultiple has no len()
            msg = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):
                msg = "Unsupported parameters for (%s) module: %s" % (self._task.action, msg)
            return self._module_result(dict(failed=True, msg=msg), params, no_log_values, [])
        try:
            result, warnings = self.compute(params, no_log_values)
        except ModuleFailure as failure:
            return self._module_result(dict(failure.extra, failed=True, msg=failure.msg), params, no_log_values, [])
        return self._module_result(result, params, no_log_values, warnings)

    @staticmethod
    def _module_result(result, params, no_log_values, warnings):
        """The result as ``AnsibleModule._return_formatted`` shapes it, as plain JSON data."""
        result = dict(result)
        result.setdefault("invocation", {"module_args": params})
        if warnings:
            result["warnings"] = list(warnings)
        preserved = dict((key, value) for key, value in result.items() if value is None or isinstance(value, bool))
        result = remove_values(result, no_log_values)
        result.update(preserved)
        return through_json(result, Direction.MODULE_TO_CONTROLLER)
