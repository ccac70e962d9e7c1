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

:class:`ModuleCodeAction` goes one step further for modules that talk to a system the controller
reaches as well as the module would (the Kubernetes API, on a local connection): it runs the
module's own ``main`` code, handing it :class:`ControllerModule` where it would build its
``AnsibleModule``. The module's code, kubernetes.core's module utilities included, then does exactly
what it does in a module process; what is saved is the process, its packaging and, above all, the
import of the Kubernetes client: the action plugin imports the module (and the client) when the
strategy loads the plugin, in the controller's main process, so every later worker process of the
run inherits it instead of importing it again.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator, ModuleArgumentSpecValidator
from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.heap import freeze_heap
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.templating import engine_over_task_vars

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


def validation_message(validation, action):
    """AnsibleModule's message for the errors of an argument spec validation."""
    msg = validation.errors.msg
    if isinstance(validation.errors[0], UnsupportedError):
        msg = "Unsupported parameters for (%s) module: %s" % (action, msg)
    return msg


class ModuleExit(Exception):
    """What ``exit_json`` is for a module's code run in the controller: the result it returns."""

    def __init__(self, result):
        super(ModuleExit, self).__init__("module exited")
        self.result = result


class InProcessModuleAction(ActionBase):
    """Validate the module's options and compute its result here, or run the module."""

    _supports_check_mode = True
    # An async task runs the module (in_process is False then), which supports async.
    _supports_async = True

    @classmethod
    def finalize_task_arg(cls, name, value, templar, context):
        """Each option rendered over the task's variables wrapped for lazy templating once for the
        whole task (:func:`engine_over_task_vars`): the objects of a run, their Secrets and what
        waits for them are expressions over every component's variables."""
        return engine_over_task_vars(templar).template(value)

    def argument_spec(self):
        """The module's argument spec (a new dict)."""
        raise NotImplementedError

    def in_process(self):
        """Whether this task's work can be done in the controller process. Async tasks cannot."""
        return not self._task.async_val

    def local_twin(self):
        """Whether a module process would be this process's twin: a local connection, the same user and the
        same environment (no ``become``, no task ``environment``), not async."""
        environments = self._task.environment
        if not isinstance(environments, list):
            environments = [environments]
        return (InProcessModuleAction.in_process(self)
                and getattr(self._connection, "transport", None) == "local"
                and not self._play_context.become
                and not any(environments))

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
            return self._module_result(dict(failed=True, msg=validation_message(validation, self._task.action)),
                                       params, no_log_values, [])
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


class ControllerModule(object):
    """The part of ``AnsibleModule`` a module's code uses, for running that code in the controller.

    The module's code builds it where it would build its ``AnsibleModule``, with the same keywords
    (the argument spec and its checks); the task's options are validated the way ``AnsibleModule``
    validates them (``ModuleArgumentSpecValidator``: defaults, environment fallbacks, aliases,
    required_if and the like, the same messages). ``exit_json`` and ``fail_json`` raise
    :class:`ModuleExit` and :class:`ModuleFailure` instead of ending a process; ``warn`` and
    ``deprecate`` collect warnings; ``no_log_values`` is the set the result is masked with, as a
    module's is.
    """

    def __init__(self, task_params, check_mode, diff, action, argument_spec, supports_check_mode=False,
                 mutually_exclusive=None, required_together=None, required_one_of=None, required_if=None,
                 required_by=None, **_other):
        self._name = action
        self._diff = diff
        self.check_mode = check_mode
        self.warnings = []
        validation = ModuleArgumentSpecValidator(argument_spec, mutually_exclusive, required_together, required_one_of,
                                                 required_if, required_by).validate(task_params)
        self.params = dict(task_params, **validation.validated_parameters)
        self.no_log_values = set(validation._no_log_values)
        if validation.errors.errors:
            raise ModuleFailure(validation_message(validation, action))
        if check_mode and not supports_check_mode:
            raise ModuleExit(dict(skipped=True, msg="remote module (%s) does not support check mode" % action))

    def warn(self, warning):
        self.warnings.append(warning)

    def deprecate(self, msg, version=None, date=None, collection_name=None):
        self.warnings.append("Deprecation: %s" % msg)

    def debug(self, msg):
        display.debug(msg)

    def exit_json(self, **result):
        raise ModuleExit(result)

    def fail_json(self, msg, **extra):
        raise ModuleFailure(msg, **extra)


class ModuleCodeAction(InProcessModuleAction):
    """Run the module's own code in the controller process where a module process would be this
    process's twin (:meth:`InProcessModuleAction.local_twin`); anywhere else, run the module.

    ``module`` is the module (its Python module): its ``main`` takes the class it builds its
    ``AnsibleModule`` from. :func:`module_code_action` makes the class for a module.
    """

    module = None

    def in_process(self):
        return self.local_twin()

    def _run_in_process(self):
        params = through_json(dict(self._task.args), Direction.CONTROLLER_TO_MODULE)
        built = []

        def module_class(**keywords):
            # Kept before it validates: a validation failure's result is masked with what it found.
            module = ControllerModule.__new__(ControllerModule)
            built.append(module)
            module.__init__(params, self._task.check_mode, self._task.diff, self._task.action, **keywords)
            return module

        try:
            self.module.main(module_class)
        except ModuleExit as done:
            result = done.result
        except ModuleFailure as failure:
            result = dict(failure.extra, failed=True, msg=failure.msg)
        else:
            result = dict(failed=True, msg="%s returned without a result" % self._task.action)
        if not built:  # the module failed before it looked at its options: no invocation to show
            return self._module_result(dict(result, invocation={"module_args": {}}), {}, set(), [])
        module = built[-1]
        return self._module_result(result, module.params, module.no_log_values, module.warnings)


def module_code_action(module):
    """The ``ActionModule`` class of an action plugin that runs ``module``'s own code (see :class:`ModuleCodeAction`).

    Called when the action plugin is imported, in the controller's main process, just after the
    module (and the Kubernetes client it imports): freezes the heap with them (plugin_utils/heap.py).
    """
    freeze_heap()
    return type("ActionModule", (ModuleCodeAction,), {"module": module, "__doc__": ModuleCodeAction.__doc__})
