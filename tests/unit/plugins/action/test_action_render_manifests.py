# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The render_manifests action plugin: the module's work in the controller process on a local connection.

Real components: the action plugin's ``run`` with ansible-core's argument validation and JSON
profiles, real files in tmp_path, and the module through ``run_module`` (real ``AnsibleModule``)
for the comparison; once, a real ``ansible-playbook`` run at -vvv with --diff. Only
``_execute_module`` is replaced in the unit tests, by a recorder, to show whether a module process
would have been started.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from unittest import mock

import pytest
import yaml
from ansible.module_utils import basic

from ansible_collections.airflow_k8s.cloud.plugins.action import render_manifests as action
from ansible_collections.airflow_k8s.cloud.plugins.modules import render_manifests as module
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.action.utils import MODULE_RESULT, run_action
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
SECRET_VALUE = "c2VjcmV0LXZhbHVl"
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "airflow"},
              "data": {"airflow.cfg": "[core]\nexecutor = KubernetesExecutor\n"}}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "airflow"},
           "spec": {"ports": [{"port": 8080}]}}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token", "namespace": "airflow"},
          "data": {"token": SECRET_VALUE}}


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def arguments(folder, objects, **extra):
    args = {"path": str(folder), "objects": {"demo": [obj for obj in objects if obj["kind"] != "Secret"]},
            "secrets": json.dumps({"demo": [obj for obj in objects if obj["kind"] == "Secret"]})}
    args.update(extra)
    return args


def in_process(args, **kwargs):
    result, module_runs = run_action(action, args, **kwargs)
    assert module_runs == [], "a module process was started"
    return result


def tree(folder):
    """{relative path: (mode, content)} of everything under folder, folders included."""
    found = {".": (mode(folder), None)}
    for parent, folders, names in os.walk(str(folder)):
        for name in folders + names:
            path = os.path.join(parent, name)
            found[os.path.relpath(path, str(folder))] = (mode(path), None if os.path.isdir(path) else open(path, "rb").read())
    return found


def same_as_the_module(tmp_path, objects, check_mode=False, diff=False, **extra):
    """Run the module into tmp_path/module and the action into tmp_path/action; both must agree."""
    module_args = dict(arguments(tmp_path / "module", objects, **extra), _ansible_module_name="airflow_k8s.cloud.render_manifests")
    expected, module_failed = run_module(module, module_args, check_mode=check_mode, diff=diff)
    result = in_process(arguments(tmp_path / "action", objects, **extra), check_mode=check_mode, diff=diff)
    assert bool(result.get("failed")) is module_failed
    for each, folder in ((expected, "module"), (result, "action")):
        each.pop("failed", None)
        assert each["invocation"]["module_args"].pop("path") == str(tmp_path / folder)
        if "msg" in each:
            each["msg"] = each["msg"].replace(str(tmp_path / folder), "<path>")
    assert result == expected
    module_tree = tree(tmp_path / "module") if (tmp_path / "module").exists() else None
    action_tree = tree(tmp_path / "action") if (tmp_path / "action").exists() else None
    assert action_tree == module_tree
    return result


@pytest.mark.parametrize("check_mode, diff", [(False, False), (False, True), (True, True)], ids=["run", "diff", "check-diff"])
def test_a_first_render_is_the_modules(tmp_path, check_mode, diff):
    result = same_as_the_module(tmp_path, [CONFIG_MAP, SERVICE, SECRET], check_mode=check_mode, diff=diff,
                                labels={"team": "platform"})
    assert result["changed"] and result["secrets"] == 1
    assert SECRET_VALUE not in json.dumps(result)


def test_a_rerender_a_change_and_a_prune_are_the_modules(tmp_path):
    same_as_the_module(tmp_path, [CONFIG_MAP, SERVICE, SECRET])
    unchanged = same_as_the_module(tmp_path, [CONFIG_MAP, SERVICE, SECRET], diff=True)
    assert not unchanged["changed"] and unchanged["changed_files"] == []
    changed_service = dict(SERVICE, spec={"ports": [{"port": 9090}]})
    changed = same_as_the_module(tmp_path, [CONFIG_MAP, changed_service, SECRET], diff=True)
    assert changed["changed_files"] == ["demo/service-web.yaml"]
    pruned = same_as_the_module(tmp_path, [CONFIG_MAP], diff=True, prune=True)
    assert pruned["removed_files"] == ["demo/secret-token.yaml", "demo/service-web.yaml"]
    assert SECRET_VALUE not in json.dumps(pruned)


@pytest.mark.parametrize("objects, extra", [
    ([CONFIG_MAP, CONFIG_MAP], {}),
    ([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "../../etc"}}], {}),
    ([CONFIG_MAP], {"unknown": True}),
    ([CONFIG_MAP], {"prune": "maybe"}),
    ([CONFIG_MAP], {"secrets": "not json"}),
], ids=["two-objects-one-file", "path-trick", "unknown-option", "bad-bool", "secrets-not-json"])
def test_failures_are_the_modules(tmp_path, objects, extra):
    result = same_as_the_module(tmp_path, objects, **extra)
    assert result["msg"]


def test_a_foreign_folder_is_refused_as_by_the_module(tmp_path):
    for folder in ("module", "action"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "mine.txt").write_text("keep")
    result = same_as_the_module(tmp_path, [CONFIG_MAP])
    assert "sink_render_dir" in result["msg"]


def test_secret_values_are_masked_everywhere_in_the_result(tmp_path):
    result = in_process(arguments(tmp_path / "out", [CONFIG_MAP, SECRET]), diff=True)
    assert result["invocation"]["module_args"]["secrets"] == MASK
    assert SECRET_VALUE not in repr(result)
    assert SECRET_VALUE in (tmp_path / "out" / "demo" / "secret-token.yaml").read_text()


def test_a_secret_among_the_objects_is_refused_and_masked(tmp_path):
    result = in_process({"path": str(tmp_path / "out"), "objects": {"demo": [SECRET]}})
    assert result["failed"] and "objects.demo[0] is a Secret: hand Secrets over apart" in result["msg"]
    assert SECRET_VALUE not in repr(result)
    assert not (tmp_path / "out").exists()


def test_private_modes_even_under_umask_000(tmp_path):
    previous = os.umask(0)
    try:
        in_process(arguments(tmp_path / "out", [CONFIG_MAP, SECRET]))
        os.chmod(str(tmp_path / "out" / "demo"), 0o777)
        os.chmod(str(tmp_path / "out" / "demo" / "secret-token.yaml"), 0o666)
        repaired = in_process(arguments(tmp_path / "out", [CONFIG_MAP, SECRET]))
    finally:
        os.umask(previous)
    out = tmp_path / "out"
    assert repaired["changed"] and repaired["changed_files"] == ["demo/secret-token.yaml"]
    assert mode(out) == 0o700 and mode(out / "demo") == 0o700
    assert mode(out / "demo" / "secret-token.yaml") == 0o600 and mode(out / ".airflow_k8s_cloud") == 0o600
    assert mode(out / "demo" / "configmap-cfg.yaml") == 0o644 and mode(out / "kustomization.yaml") == 0o644
    assert not [name for name in os.listdir(str(out / "demo")) if name.startswith(".")]  # no temporary file left


def test_no_module_and_no_module_log_entry_in_process(tmp_path):
    """AnsibleModule writes the module's log entry (syslog/journald); the in-process path never makes one."""
    with mock.patch.object(basic.AnsibleModule, "__init__", side_effect=AssertionError("an AnsibleModule was made")):
        result = in_process(arguments(tmp_path / "out", [CONFIG_MAP, SECRET]))
    assert result["changed"] and not result.get("failed")


def test_yaml_dates_reach_the_manifest_as_the_module_writes_them(tmp_path):
    """Values the module would get as JSON text (a date from YAML) are rendered as the module renders them."""
    import datetime  # pylint: disable=import-outside-toplevel
    dated = dict(CONFIG_MAP, data={"since": datetime.date(2026, 12, 5)})
    args = arguments(tmp_path / "action", [dated])
    in_process(args)
    written = yaml.safe_load((tmp_path / "action" / "demo" / "configmap-cfg.yaml").read_text())
    assert written["data"]["since"] == "2026-12-05"


@pytest.mark.parametrize("keywords", [{"transport": "ssh"}, {"transport": "kubectl"}, {"become": True},
                                      {"environment": [{"HOME": "/elsewhere"}]}, {"async_val": 60}],
                         ids=["ssh", "other-connection", "become", "task-environment", "async"])
def test_elsewhere_the_module_runs(tmp_path, keywords):
    result, module_runs = run_action(action, arguments(tmp_path / "out", [CONFIG_MAP, SECRET]), **keywords)
    assert len(module_runs) == 1 and result == MODULE_RESULT
    assert module_runs[0]["task_vars"] == {"inventory_hostname": "localhost"}
    assert not (tmp_path / "out").exists()


def test_an_empty_task_environment_still_renders_in_process(tmp_path):
    in_process(arguments(tmp_path / "out", [CONFIG_MAP]), environment=[{}, None])


# --- through ansible-playbook --------------------------------------------------------------------

PLAYBOOK = """
- name: Render as the sink does, in-process and through the module
  hosts: localhost
  gather_facts: false
  vars:
    secret_objects:
      demo:
        - {apiVersion: v1, kind: Secret, metadata: {name: token, namespace: airflow}, data: {token: %(secret)s}}
    plain_objects:
      demo:
        - {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg, namespace: airflow}, data: {a: b}}
  tasks:
    - name: Render in the controller process (connection local)
      airflow_k8s.cloud.render_manifests:
        path: "{{ out }}/in_process"
        objects: "{{ plain_objects }}"
        secrets: "{{ secret_objects | to_json }}"
      register: in_process
    - name: Render through the module (a task environment)
      airflow_k8s.cloud.render_manifests:
        path: "{{ out }}/module"
        objects: "{{ plain_objects }}"
        secrets: "{{ secret_objects | to_json }}"
      environment:
        RENDER_TEST: "1"
      register: through_module
    - name: Hand the results to the test
      ansible.builtin.copy:
        dest: "{{ out }}/results.json"
        mode: "0600"
        content: "{{ {'in_process': in_process, 'module': through_module} | to_json }}"
      diff: false
"""


@pytest.mark.slow
def test_through_ansible_playbook_no_module_runs_locally_and_no_secret_reaches_the_output(tmp_path):
    from ansible_collections.airflow_k8s.cloud.tests.support.playbook import run_playbook  # pylint: disable=import-outside-toplevel

    collections_root = os.path.abspath(os.path.join(os.path.dirname(module.__file__), "..", "..", "..", ".."))
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK % {"secret": SECRET_VALUE})
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    run = run_playbook(
        playbook, inventory="localhost,", args=("-c", "local", "--diff", "-vvv"), cwd=tmp_path, timeout=300,
        ansible_playbook=(sys.executable, "-m", "ansible", "playbook"),
        extra_vars={"ansible_python_interpreter": sys.executable, "out": str(tmp_path)},
        env={"ANSIBLE_COLLECTIONS_PATH": os.path.dirname(collections_root), "ANSIBLE_CONFIG": str(config),
             "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local_tmp"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote_tmp")},
    )
    assert run.returncode == 0, run.output[-3000:]
    assert run.output.count("airflow_k8s.cloud.render_manifests: computed in the controller process, no module run") == 1
    assert run.output.count("AnsiballZ_render_manifests.py") >= 1  # the task with an environment ran the module
    # Neither path lets the Secret's value into the -vvv --diff output (the tasks have no task-level no_log).
    assert SECRET_VALUE not in run.output
    results = json.loads((tmp_path / "results.json").read_text())
    for key in ("changed", "files", "changed_files", "removed_files", "components", "secrets"):
        assert results["in_process"][key] == results["module"][key], key
    assert tree(tmp_path / "in_process") == tree(tmp_path / "module")
    assert mode(tmp_path / "in_process" / "demo" / "secret-token.yaml") == 0o600
