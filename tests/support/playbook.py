# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the tests and the benchmarks run ``ansible-playbook``.

:func:`run_playbook` runs a playbook with the checkout's ``.venv/bin/ansible-playbook`` from the
repository root (so that its ansible.cfg applies and ``airflow_k8s.cloud`` resolves to this
checkout), with no colours, stdin closed, stderr merged into stdout, the command's folder first on
``PATH`` and none of the caller's ``ANSIBLE_*``/``K8S_AUTH_*`` settings (a developer's shell must
not change what a test runs); it returns a :class:`PlaybookRun` (exit code, output, PLAY RECAP per
host).

Extra variables given as dicts are written as JSON to a private file (mode 0600 in a 0700 folder,
removed after the run) and passed as ``-e @file``: secrets in them never appear on a command line,
and Ansible cites a JSON file without quoting its content when a value fails.

A run that takes longer than ``timeout`` is killed with every process it started and raises
:class:`PlaybookTimeout` (an AssertionError) with the tail of its output.

A test that must tell the results of tasks apart (several runs of the same task) runs with
``env=JSON_CALLBACK`` and reads :meth:`PlaybookRun.json_report`: every task's result per host, in
the order the tasks ran, instead of parsing the default callback's text.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(REPOSITORY_ROOT, ".venv", "bin")
ANSIBLE_PLAYBOOK = os.path.join(VENV_BIN, "ansible-playbook")
DEFAULT_TIMEOUT = 1800
# What ``clean_env`` drops from the caller's environment: Ansible and kubernetes.core settings.
CALLER_SETTINGS = ("ANSIBLE_", "K8S_AUTH_")
# The stdout callback of :meth:`PlaybookRun.json_report` (ansible.posix, bundled with the ``ansible`` package).
JSON_CALLBACK = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s*:\s*(?P<counts>(?:[a-z_]+=\d+\s*)+)$", re.MULTILINE)


def parse_recap(output):
    """``{host: {"ok": n, "changed": n, "unreachable": n, "failed": n, ...}}`` of the last PLAY RECAP
    in ``output`` (every counter Ansible printed); ``{}`` when there is none."""
    start = output.rfind("PLAY RECAP")
    if start < 0:
        return {}
    recap = {}
    for match in _RECAP_LINE.finditer(output, start):
        recap[match.group("host")] = {name: int(value) for name, value in
                                      (pair.split("=", 1) for pair in match.group("counts").split())}
    return recap


class PlaybookRun(object):
    """One finished ``ansible-playbook`` run: ``args``, ``returncode``, ``output`` (stdout and stderr
    together) and ``recap`` (:func:`parse_recap`)."""

    def __init__(self, args, returncode, output):
        self.args = args
        self.returncode = returncode
        self.output = output
        self.recap = parse_recap(output)

    @property
    def changed(self):
        """The ``changed`` count of the PLAY RECAP, summed over the hosts."""
        return sum(counts.get("changed", 0) for counts in self.recap.values())

    def changed_tasks(self):
        """Names of the tasks that reported a change (with the changed item, if any)."""
        changed, task = [], None
        for line in self.output.splitlines():
            if line.startswith("TASK ["):
                task = line[len("TASK ["):].rsplit("]", 1)[0]
            elif line.startswith("changed: "):
                changed.append("%s: %s" % (task, line[len("changed: "):]))
        return changed

    def json_report(self):
        """The report of a run with ``env=JSON_CALLBACK``: ``{"plays": [{"play": ..., "tasks": [{"task": {"name": ...},
        "hosts": {host: result}}, ...]}], "stats": {host: counters}}``, tasks in the order they ran. The callback
        prints it as one indented JSON document at the end; what Ansible printed on stderr before it (warnings,
        merged into the output) is skipped. ValueError when the output holds no report (e.g. the playbook did not load)."""
        match = re.search(r"^\{$", self.output, re.MULTILINE)
        if match is None:
            raise ValueError("no JSON report in the output of %s:\n%s" % (" ".join(self.args), self.tail()))
        report, _end = json.JSONDecoder().raw_decode(self.output, match.start())
        return report

    def tail(self, lines=60):
        """The last ``lines`` lines of the output, for an assertion message."""
        return "\n".join(self.output.splitlines()[-lines:])


class PlaybookTimeout(AssertionError):
    """A run killed at its timeout; ``run`` is the :class:`PlaybookRun` of what it printed until then."""

    def __init__(self, run, timeout):
        super().__init__("ansible-playbook did not finish within %s seconds: %s\n%s" % (timeout, " ".join(run.args), run.tail(80)))
        self.run = run
        self.timeout = timeout


def _json_default(value):
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError("%r is not JSON serializable" % (value,))


def _write_private_json(folder, index, variables):
    path = os.path.join(folder, "extra-vars-%d.json" % index)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(variables, stream, default=_json_default)
    return path


def _environment(program, env, clean_env):
    base = {key: value for key, value in os.environ.items() if not (clean_env and key.startswith(CALLER_SETTINGS))}
    base.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                 "PATH": os.path.dirname(program) + os.pathsep + os.environ.get("PATH", "")})
    base.update({key: str(value) for key, value in (env or {}).items()})
    return base


def _descendants(pid):
    """Every process below ``pid`` (from /proc). Ansible's workers start sessions of their own, so
    the process group of ansible-playbook does not hold what its tasks run."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, encoding="utf-8", errors="replace") as stream:
                    parent = int(stream.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _kill_tree(process):
    """SIGKILL ``process`` and everything it started: stopped first (until no new one appears), so
    that nothing forks or is re-parented away between the listing and the kill."""
    stopped = {process.pid}
    _signal(process.pid, signal.SIGSTOP)
    for _round in range(5):
        new = [pid for pid in _descendants(process.pid) if pid not in stopped]
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        stopped.update(new)
    for pid in stopped:
        _signal(pid, signal.SIGKILL)
        _signal(pid, signal.SIGCONT)
    # SIGKILL is delivered when the process is next scheduled: on a loaded machine it can still be
    # listed (and counted as running) a moment later. Wait, bounded, until each one is gone or a zombie.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in stopped if pid != process.pid):
        time.sleep(0.05)


def _alive(pid):
    """Whether ``pid`` still runs (exists and is not a zombie waiting to be reaped)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8", errors="replace") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _signal(pid, number):
    try:
        os.kill(pid, number)
    except (ProcessLookupError, PermissionError):
        pass


def run_playbook(playbook, inventory=None, extra_vars=(), args=(), env=None, clean_env=True, cwd=REPOSITORY_ROOT,
                 expect_ok=False, timeout=DEFAULT_TIMEOUT, ansible_playbook=None):
    """Run ``ansible-playbook <playbook>``; returns a :class:`PlaybookRun`.

    inventory
        passed as ``-i`` (a path, or ``"localhost,"``); ``None``: ansible.cfg's.
    extra_vars
        a dict, or a sequence of dicts and paths of variable files, passed in that order as
        ``-e @file`` (a later one wins); dicts go through a private JSON file. Paths are relative to ``cwd``.
    args
        further arguments after those (``--check``, ``--tags``, ...).
    env
        variables set for the run, on top of the caller's environment (without its ``ANSIBLE_*``
        and ``K8S_AUTH_*`` settings unless ``clean_env`` is false), ``ANSIBLE_NOCOLOR=1`` and ``PATH``.
    expect_ok
        fail (AssertionError with the output's tail) unless the run exits with 0.
    ansible_playbook
        the command to run instead of the checkout's ``.venv/bin/ansible-playbook``, as a
        sequence (``[sys.executable, "-m", "ansible", "playbook"]``).
    """
    program = list(ansible_playbook) if ansible_playbook else [ANSIBLE_PLAYBOOK]
    if isinstance(extra_vars, dict):
        extra_vars = [extra_vars]
    folder = tempfile.mkdtemp(prefix="playbook-vars-")  # mode 0700
    try:
        command = program + [os.fspath(playbook)]
        if inventory is not None:
            command += ["-i", os.fspath(inventory)]
        for index, source in enumerate(extra_vars):
            path = _write_private_json(folder, index, source) if isinstance(source, dict) else os.fspath(source)
            command += ["-e", "@" + path]
        command += [os.fspath(argument) for argument in args]
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            command, cwd=os.fspath(cwd), env=_environment(program[0], env, clean_env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        try:
            output, _unused = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(process)
            output, _unused = process.communicate()
            raise PlaybookTimeout(PlaybookRun(command, process.returncode, output), timeout) from None
        except BaseException:
            _kill_tree(process)
            process.wait()
            raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    run = PlaybookRun(command, process.returncode, output)
    if expect_ok and run.returncode != 0:
        raise AssertionError("ansible-playbook %s failed (exit code %d):\n%s" % (playbook, run.returncode, run.tail(80)))
    return run
