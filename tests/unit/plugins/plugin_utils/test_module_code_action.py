# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ModuleCodeAction: a module's own main code run in the controller, with ControllerModule as its AnsibleModule.

Real components: the action plugin's ``run`` with ansible-core's argument validation, and, for the
comparison, the same main code with ansible-core's real ``AnsibleModule`` (``run_module``). Only
``_execute_module`` is replaced, by a recorder, to show whether a module process would have started.
"""

from __future__ import annotations

import types

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.in_process import module_code_action
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.action.utils import MODULE_RESULT, run_action
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def main(module_class=AnsibleModule):
    """A module: echoes its options, warns, fails on request, masks a no_log option."""
    module = module_class(argument_spec=dict(name=dict(type="str", required=True), token=dict(type="str", no_log=True),
                                             count=dict(type="int", default=3), fail=dict(type="bool", default=False),
                                             mode=dict(type="str", choices=["a", "b"], default="a"),
                                             other=dict(type="str")),
                          required_if=[("mode", "b", ("other",))], supports_check_mode=True)
    module.warn("careful")
    if module.params["fail"]:
        module.fail_json(msg="asked to fail with %s" % module.params["token"], detail="d")
    module.exit_json(changed=not module.check_mode, echo="%s %s %s" % (module.params["name"], module.params["count"], module.params["token"]))


MODULE = types.ModuleType("echo_module")
MODULE.main = main
PLUGIN = types.SimpleNamespace(__name__="echo", ActionModule=module_code_action(MODULE))


def in_process(args, **kwargs):
    result, module_runs = run_action(PLUGIN, args, **kwargs)
    assert module_runs == [], "a module process was started"
    return result


@pytest.mark.parametrize("args", [
    {"name": "n", "token": "s3cr3t-value"},
    {"name": "n", "token": "s3cr3t-value", "fail": True},
    {"name": "n", "count": "not a number"},
    {"name": "n", "mode": "b"},
    {"name": "n", "unknown": 1},
    {},
])
def test_same_result_as_the_module_process(args):
    """Whatever happens (success, fail_json, each kind of validation error), the result is the module's."""
    ours = in_process(args)
    theirs, failed = run_module(MODULE, args)
    assert bool(ours.get("failed")) == failed
    for result in (ours, theirs):
        result.pop("exception", None)
    # The module process's warnings arrive as ansible-core's warning summaries; the action's as text,
    # which ansible-core shows the same way.
    theirs["warnings"] = [warning["event"]["msg"] if isinstance(warning, dict) else warning for warning in theirs.get("warnings", [])]
    ours.setdefault("warnings", [])
    # The module names itself after its file in this harness (basic.py); the action, after the task's action.
    if "Unsupported parameters" in ours.get("msg", ""):
        theirs["msg"] = theirs["msg"].replace("(basic.py)", "(airflow_k8s.cloud.echo)")
    assert {k: v for k, v in ours.items() if k != "invocation"} == {k: v for k, v in theirs.items() if k != "invocation"}
    if "invocation" in ours:
        assert ours["invocation"] == theirs["invocation"]
    assert "s3cr3t-value" not in repr(ours)


def test_check_mode_reaches_the_module_code():
    assert in_process({"name": "n"}, check_mode=True)["changed"] is False
    assert in_process({"name": "n"})["changed"] is True


@pytest.mark.parametrize("where", [{"transport": "ssh"}, {"become": True}, {"environment": [{"X": "1"}]}, {"async_val": 30}])
def test_anywhere_else_the_module_runs(where):
    result, module_runs = run_action(PLUGIN, {"name": "n"}, **where)
    assert len(module_runs) == 1 and result["ran"] == MODULE_RESULT["ran"]
