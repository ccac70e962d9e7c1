# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test suite's one ``ansible-playbook`` runner (``tests/support/playbook.py``), with real runs.

Real components: the checkout's ``.venv/bin/ansible-playbook`` on small playbooks written here.
What it must guarantee: extra variables reach the play with their types and never the command
line, their private file is gone after the run, the caller's Ansible settings do not leak in,
the recap is read per host, the JSON callback's report gives each task's result in order, a failed run can fail the test with its tail, and a run past its
timeout is killed together with what its tasks started.
"""

import json
import os
import stat
import sys
import uuid

import pytest

from tests.support import playbook
from tests.support.playbook import PlaybookTimeout, parse_recap, run_playbook

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}

RECAP_OUTPUT = """\
PLAY RECAP *********************************************************************
localhost                  : ok=3    changed=1    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0
[WARNING]: a warning from stderr, between the hosts
other                      : ok=1    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_recap_is_read_per_host_from_the_last_play_recap():
    earlier = RECAP_OUTPUT.replace("changed=1", "changed=7")
    recap = parse_recap(earlier + "\nPLAY [again]\n" + RECAP_OUTPUT)
    assert recap == {"localhost": {"ok": 3, "changed": 1, "unreachable": 0, "failed": 0, "skipped": 2, "rescued": 0, "ignored": 0},
                     "other": {"ok": 1, "changed": 0, "unreachable": 1, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0}}
    run = playbook.PlaybookRun(["ansible-playbook"], 0, RECAP_OUTPUT)
    assert run.changed == 1
    assert parse_recap("no recap at all") == {}


def test_extra_vars_file_is_private(tmp_path):
    folder = tmp_path / "vars"
    folder.mkdir(mode=0o700)
    path = playbook._write_private_json(str(folder), 0, {"secret": "value"})  # pylint: disable=protected-access
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, encoding="utf-8") as stream:
        assert json.load(stream) == {"secret": "value"}


def test_extra_vars_reach_the_play_but_not_the_command_line(tmp_path, monkeypatch):
    secret = "not-on-the-command-line-%s" % uuid.uuid4().hex
    monkeypatch.setenv("ANSIBLE_RUNNER_TEST_LEAK", "from the caller")
    play = _write(tmp_path, "play.yml", """\
- name: Hand what the play sees to the test
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write it
      ansible.builtin.copy:
        content: >-
          {{ {'secret': secret, 'number': number, 'flag': flag, 'later': later,
              'leaked': lookup('ansible.builtin.env', 'ANSIBLE_RUNNER_TEST_LEAK'),
              'given': lookup('ansible.builtin.env', 'ANSIBLE_RUNNER_TEST_GIVEN')} | to_json }}
        dest: "{{ result_file }}"
        mode: "0600"
      changed_when: true
""")
    result_file = tmp_path / "result.json"
    run = run_playbook(play, inventory="localhost,", expect_ok=True, env={"ANSIBLE_RUNNER_TEST_GIVEN": "by the test"},
                       extra_vars=[LOCAL, {"secret": secret, "number": 3, "flag": True, "later": "first",
                                           "result_file": str(result_file)}, {"later": "second"}])
    assert json.loads(result_file.read_text(encoding="utf-8")) == {
        "secret": secret, "number": 3, "flag": True, "later": "second", "leaked": "", "given": "by the test"}
    assert secret not in " ".join(run.args)
    files = [argument[1:] for argument in run.args if argument.startswith("@")]
    assert len(files) == 3 and not any(os.path.exists(path) for path in files)
    assert run.returncode == 0 and run.recap["localhost"]["changed"] == 1 and run.changed == 1


def test_expect_ok_fails_with_the_tail_of_the_output(tmp_path):
    play = _write(tmp_path, "fail.yml", """\
- name: Fail
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Fail with a message
      ansible.builtin.fail:
        msg: the message of the failed task
""")
    run = run_playbook(play, inventory="localhost,", extra_vars=LOCAL)
    assert run.returncode != 0 and run.recap["localhost"]["failed"] == 1
    with pytest.raises(AssertionError, match="the message of the failed task"):
        run_playbook(play, inventory="localhost,", extra_vars=LOCAL, expect_ok=True)


def test_the_json_report_gives_each_task_result_in_order(tmp_path):
    """Three runs of the same task with different values (the case test_role_validation relies on), a
    warning on stderr before the report (a host pattern that matches nothing), and an ignored failure
    between ok results."""
    play = _write(tmp_path, "same-task.yml", """\
- name: The same task three times
  hosts: localhost:no_such_host
  gather_facts: false
  tasks:
    - name: Check the value
      ansible.builtin.assert:
        that: [value != 'bad']
        fail_msg: "refused {{ value }}"
        success_msg: "accepted {{ value }}"
      vars:
        value: "{{ item }}"
      loop: [good]
    - name: Check the value
      ansible.builtin.assert:
        that: [value != 'bad']
        fail_msg: "refused {{ value }}"
      vars:
        value: bad
      ignore_errors: true
    - name: Check the value
      ansible.builtin.assert:
        that: [value != 'bad']
        success_msg: "accepted {{ value }}"
      vars:
        value: fine
""")
    run = run_playbook(play, inventory="localhost,", extra_vars=LOCAL, env=playbook.JSON_CALLBACK, expect_ok=True)
    assert "[WARNING]" in run.output.split("\n{\n", 1)[0], "no warning before the report: the test would not show it is skipped"
    tasks = [task for play_report in run.json_report()["plays"] for task in play_report["tasks"]]
    assert [task["task"]["name"] for task in tasks] == ["Check the value"] * 3
    results = [task["hosts"]["localhost"] for task in tasks]
    assert results[0]["results"][0]["msg"] == "accepted good"
    assert results[1]["failed"] is True and results[1]["msg"] == "refused bad"
    assert not results[2].get("failed") and results[2]["msg"] == "accepted fine"
    assert run.json_report()["stats"]["localhost"]["ignored"] == 1
    with pytest.raises(ValueError, match="no JSON report"):
        playbook.PlaybookRun(["ansible-playbook"], 0, RECAP_OUTPUT).json_report()


def _running(marker):
    """Pids of the processes whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as stream:
                    if marker.encode() in stream.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_a_run_past_its_timeout_is_killed_with_what_it_started(tmp_path):
    marker = "%d.%d" % (600, uuid.uuid4().int % 1000)  # a sleep of its own, found by its argument
    play = _write(tmp_path, "slow.yml", """\
- name: Take too long
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Sleep
      ansible.builtin.command: sleep %s
      changed_when: false
""" % marker)
    with pytest.raises(PlaybookTimeout) as raised:
        run_playbook(play, inventory="localhost,", extra_vars=LOCAL, timeout=5)
    assert isinstance(raised.value, AssertionError)
    assert raised.value.run.returncode != 0 and "TASK [Sleep]" in raised.value.run.output
    assert not _running("sleep\0" + marker)
