# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection_uri action plugin: the module's result, computed in the controller process.

Real components: the action plugin's ``run`` with ansible-core's argument validation, and the
module through ``run_module`` (real ``AnsibleModule``) for the comparison. Only ``_execute_module``
is replaced, by a recorder, to show whether a module process would have been started.
"""

from __future__ import annotations

import json
import os
import sys

import pytest
from ansible._internal._datatag._tags import TrustedAsTemplate
from ansible.module_utils._internal._datatag import AnsibleTagHelper

from ansible_collections.airflow_k8s.cloud.plugins.action import connection_uri as action
from ansible_collections.airflow_k8s.cloud.plugins.module_utils import connection_uri as uri_utils
from ansible_collections.airflow_k8s.cloud.plugins.modules import connection_uri as module
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.action.utils import MODULE_RESULT, run_action
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
SECRET = "Tr0ub4dor-and-3-horses"
BASE = {"username": "airflow", "password": SECRET, "host": "db.example.com", "database": "airflow"}


def warning_texts(result):
    """A module's warnings arrive as serialised WarningSummary objects, an action's as text; the
    controller turns both into the same WarningSummary. Compare their messages."""
    texts = [warning if isinstance(warning, str) else warning["event"]["msg"] for warning in result.pop("warnings", [])]
    return dict(result, warnings=texts)


def in_process(args, **kwargs):
    result, module_runs = run_action(action, args, **kwargs)
    assert module_runs == [], "a module process was started"
    return result


CASES = {
    "defaults": BASE,
    "awkward-password-and-query": dict(BASE, password="p@ss:w/rd %é", query={"sslmode": "require", "connect_timeout": 10}),
    "mysql-ipv6": dict(BASE, dialect="mysql", host="2001:db8::10", port="6432"),
    "azure-single-server-configparser": dict(BASE, host="legacy.postgres.database.azure.com",
                                             login_format="azure_single_server", escape_for_configparser=True, driver=""),
    "empty-password-allowed": dict(BASE, password="", allow_empty_password=True),
    "warning-for-an-encoded-username": dict(BASE, username="user%40server"),
    "failure-bad-host": dict(BASE, host="user:%s@db" % SECRET),
    "failure-empty-password": dict(BASE, password=""),
    "failure-argument-spec-type": dict(BASE, port="many"),
    "failure-argument-spec-choice": dict(BASE, dialect="oracle"),
    "failure-missing-option": {"username": "airflow", "password": SECRET},
    "failure-unknown-option": dict(BASE, passwd=SECRET),
}


@pytest.mark.parametrize("args", list(CASES.values()), ids=list(CASES))
@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_the_action_returns_exactly_what_the_module_returns(args, check_mode):
    # The name ansible-playbook gives the module: its own messages cite it.
    expected, failed = run_module(module, dict(args, _ansible_module_name="airflow_k8s.cloud.connection_uri"),
                                  check_mode=check_mode)
    result = in_process(args, check_mode=check_mode)
    assert bool(result.get("failed")) is failed
    if failed:
        # The module's failed result is the same, its "failed" key aside (ansible adds it to both).
        expected.pop("failed")
        result.pop("failed")
    assert warning_texts(result) == warning_texts(expected)


def test_the_uri_is_computed_without_a_module_process():
    result = in_process(BASE)
    assert result["uri"] == "postgresql+psycopg2://airflow:%s@db.example.com:5432/airflow" % SECRET
    assert result["changed"] is False


def test_the_password_is_in_the_uri_but_masked_in_the_invocation():
    result = in_process(BASE)
    assert "********" not in result["uri"] and SECRET in result["uri"]
    assert result["invocation"]["module_args"]["password"] == MASK
    assert SECRET not in json.dumps(result["invocation"]) and SECRET not in result["uri_redacted"]


@pytest.mark.parametrize("args", [dict(BASE, host="%s.example.com/x" % SECRET), dict(BASE, port="x" + SECRET),
                                  dict(BASE, query={"a": True}), dict(BASE, unknown=SECRET)],
                         ids=["host", "port", "query", "unknown-option"])
def test_failures_never_contain_the_password(args):
    args = dict(args, password=SECRET)
    result = in_process(args)
    assert result["failed"] is True
    text = json.dumps(result, ensure_ascii=False)
    assert SECRET not in text and uri_utils.encode_component(SECRET) not in text


def test_the_result_carries_none_of_the_arguments_tags():
    """A value that arrived trusted as a template must not leave trusted (a module's JSON result never is)."""
    args = dict((key, TrustedAsTemplate().tag(value)) for key, value in BASE.items())
    assert AnsibleTagHelper.tags(args["username"])
    result = in_process(args)
    for key in ("uri", "uri_redacted", "username", "host", "scheme"):
        assert not AnsibleTagHelper.tags(result[key]), key
        assert type(result[key]) is str  # pylint: disable=unidiomatic-typecheck
    assert not AnsibleTagHelper.tags(result["invocation"]["module_args"]["username"])


def test_an_async_task_runs_the_module():
    result, module_runs = run_action(action, BASE, async_val=30)
    assert len(module_runs) == 1 and module_runs[0]["wrap_async"]
    assert result == MODULE_RESULT


PLAYBOOK = """
- name: Run connection_uri the way the roles do, and once failing without task-level no_log
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Build
      airflow_k8s.cloud.connection_uri:
        username: airflow
        password: "{{ database_password }}"
        host: db.example.com
        database: airflow
      register: built
      no_log: true
    - name: Fail on a bad host, with the password among the options and no task-level no_log
      airflow_k8s.cloud.connection_uri:
        username: airflow
        password: "{{ database_password }}"
        host: "bad host"
        database: airflow
      register: refused
      ignore_errors: true
    - name: Hand the result to the test
      ansible.builtin.copy:
        dest: "{{ result_file }}"
        mode: "0600"
        content: "{{ built | to_json }}"
      no_log: true
      diff: false
"""


@pytest.mark.slow
def test_through_ansible_playbook_no_module_runs_and_no_password_reaches_the_output(tmp_path):
    from ansible_collections.airflow_k8s.cloud.tests.support.playbook import run_playbook  # pylint: disable=import-outside-toplevel

    collections_root = os.path.abspath(os.path.join(os.path.dirname(module.__file__), "..", "..", "..", ".."))
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK)
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    result_file = tmp_path / "result.json"
    run = run_playbook(
        playbook, inventory="localhost,", args=("-c", "local", "--diff", "-vvv"), cwd=tmp_path, timeout=300,
        ansible_playbook=(sys.executable, "-m", "ansible", "playbook"),
        extra_vars={"ansible_python_interpreter": sys.executable, "result_file": str(result_file),
                    "database_password": SECRET},
        env={"ANSIBLE_COLLECTIONS_PATH": os.path.dirname(collections_root), "ANSIBLE_CONFIG": str(config),
             "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local_tmp"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote_tmp")},
    )
    assert run.returncode == 0, run.output[-3000:]
    assert run.output.count("airflow_k8s.cloud.connection_uri: computed in the controller process, no module run") == 2
    assert "AnsiballZ_connection_uri" not in run.output
    assert "is not a valid host name" in run.output and MASK in run.output  # the failure and its masked invocation
    assert SECRET not in run.output
    built = json.loads(result_file.read_text())
    assert built["uri"] == "postgresql+psycopg2://airflow:%s@db.example.com:5432/airflow" % SECRET
