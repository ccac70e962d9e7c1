# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of the collection's action plugins in-process, as a worker would, and return its result.

The plugin runs unmodified (``ActionModule.run``) with a task, a connection and a play context
that carry what the plugin reads: the task's arguments, check and diff mode, async, environment,
the connection's transport and whether the task becomes another user. ``_execute_module`` (the
only way an action plugin runs a module) is replaced by a recorder: ``run_action`` reports whether
it was called, and what it returns stands in for the module's result when it is.

    from ansible_collections.airflow_k8s.cloud.plugins.action import fernet_key
    result, module_runs = run_action(fernet_key, {"rotate": True}, check_mode=True, diff=True)
    assert module_runs == []   # computed in the controller process
"""

from __future__ import annotations

from unittest import mock

from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

#: What the recorded ``_execute_module`` returns: a stand-in for the module's result.
MODULE_RESULT = {"changed": False, "ran": "the module"}


def run_action(plugin, args, check_mode=False, diff=False, transport="local", become=False, async_val=0,
               environment=None, action_name=None):
    """Run ``plugin.ActionModule`` for a task with ``args``.

    :returns: ``(result, module_runs)``: the result dict as the plugin returns it, and the keyword
        arguments of every ``_execute_module`` call (empty when no module ran).
    """
    task = mock.MagicMock(spec=Task)
    task.args = dict(args or {})
    task.action = action_name or "airflow_k8s.cloud.%s" % plugin.__name__.rsplit(".", 1)[-1]
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = async_val
    task.environment = environment
    task.no_log = False
    connection = mock.MagicMock()
    connection.transport = transport
    connection.has_native_async = False
    connection._shell.tmpdir = None
    play_context = PlayContext()
    play_context.become = become
    play_context.remote_addr = "localhost"

    action = plugin.ActionModule(task=task, connection=connection, play_context=play_context, loader=None,
                                 templar=None, shared_loader_obj=None)
    module_runs = []

    def execute_module(*positional, **keywords):
        module_runs.append(dict(keywords, positional=positional))
        return dict(MODULE_RESULT)

    with mock.patch.object(action, "_execute_module", side_effect=execute_module), \
            mock.patch.object(action, "_remove_tmp_path"):
        result = action.run(task_vars={"inventory_hostname": "localhost"})
    return result, module_runs
