# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the Molecule scenario molecule/emulated with the real Molecule.

Real components: ``molecule test -s emulated`` from the checkout's .venv (default driver on
localhost), the real ``site.yml`` and ``kubernetes.core`` modules, and the Kubernetes API emulator
(``tests/support/k8s_emulator.py``, kmock 0.8 based) that the scenario's create step starts on
127.0.0.1 and its destroy step stops. Converge applies site.yml (local inventory settings,
``sink_mode: apply``), idempotence runs it again and fails on any change, and verify reads the
objects back with ``kubernetes.core.k8s_info`` (objects and key fields, one JWT secret and API
secret key for every component, pod template volumes, the Role's verbs, Secrets unchanged since
the first converge) and runs ``site.yml --check --diff``, which must report changed=0 (no drift).
Then verify edits airflow.cfg in the ConfigMap behind the collection's back (a merge patch by
another field manager), runs ``site.yml --check --diff --tags config``, which must report exactly
that ConfigMap as changed with the edit in its diff, and ``site.yml --tags config``, which must
restore it.

The end of every apply-mode run is checked in the converge output and the emulator's request log:
the wait for every rollout and Job (``airflow_k8s.cloud.k8s_wait``: one list call per kind), the
api-server health probe Job (``airflow_k8s.cloud.k8s_job_run``: created, then removed), and the summary (what
changed, how to reach the UI, which Secret holds the admin password). The emulator marks
workloads ready and Jobs complete as soon as they are written, so the waits and the health probe
pass at once there: this proves the requests and the reporting, not that Airflow is healthy.

The emulator is not a Kubernetes cluster (see its docstring): this proves that the playbook talks
to the API correctly and idempotently, not that a real API server accepts every manifest.
"""

import base64
import json
import os
import re
import subprocess
import urllib.request

import pytest
import yaml

from tests.support import manifests

pytestmark = [pytest.mark.molecule, pytest.mark.emulator, pytest.mark.slow]

TIMEOUT_SECONDS = 1800
# The namespace the local inventory deploys to (the scenario uses its group_vars).
LOCAL_SETTINGS = os.path.join(manifests.REPOSITORY_ROOT, "inventories", "local", "group_vars", "all", "main.yml")


def _molecule(arguments, ephemeral_directory, timeout):
    """Run ``molecule <arguments> -s emulated`` from the repository root; returns the process."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ANSIBLE_", "MOLECULE_", "K8S_AUTH_"))}
    env["PATH"] = manifests.VENV_BIN + os.pathsep + env.get("PATH", "")
    env.update({"ANSIBLE_NOCOLOR": "1", "PY_COLORS": "0", "NO_COLOR": "1", "COLUMNS": "160",
                # Files of this run only (emulator, kubeconfig, inventory), in a private folder.
                "MOLECULE_EPHEMERAL_DIRECTORY": str(ephemeral_directory)})
    return subprocess.run([os.path.join(manifests.VENV_BIN, "molecule")] + arguments
                          + ["--no-command-borders", "-s", "emulated"],
                          cwd=manifests.REPOSITORY_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False, timeout=timeout)


def _excerpt(output, log_path):
    """The failures and the tail of the Molecule output, for an assertion message."""
    lines = output.splitlines()
    failures = [line for line in lines if re.search(r"\b(fatal|failed|FAILED|ERROR)\b", line)]
    return "full output: %s\n--- failure lines ---\n%s\n--- last 150 lines ---\n%s" % (
        log_path, "\n".join(failures[-40:]), "\n".join(lines[-150:]))


def _read_secrets(ephemeral_directory):
    """``{name: {key: decoded value}}`` of the Secrets in the emulator, or None if it is not running.

    Read over plain HTTP from the emulator (its address is in the ready file) so that the test
    knows the real values and can look for them in the output.
    """
    ready_file = ephemeral_directory / "emulator" / "emulator.ready"
    if not ready_file.exists():
        return None
    with open(LOCAL_SETTINGS, encoding="utf-8") as stream:
        namespace = yaml.safe_load(stream)["airflow_namespace"]
    url = "%s/api/v1/namespaces/%s/secrets" % (ready_file.read_text(encoding="utf-8").strip(), namespace)
    with urllib.request.urlopen(url, timeout=30) as response:
        listing = json.loads(response.read())
    return {item["metadata"]["name"]: {key: base64.b64decode(value).decode("utf-8", "replace")
                                       for key, value in (item.get("data") or {}).items()}
            for item in listing["items"]}


@pytest.fixture(scope="module")
def scenario_run(tmp_path_factory):
    """``molecule test`` (emulator kept), the Secrets it created, then ``molecule destroy``."""
    workdir = tmp_path_factory.mktemp("molecule-emulated")
    ephemeral = workdir / "ephemeral"
    log_path = workdir / "molecule.log"
    result = {"ephemeral": ephemeral, "log_path": log_path, "secrets": None, "test": None, "destroy": None}
    try:
        try:
            # --destroy=never: the emulator stays up so that the Secrets can be read afterwards.
            result["test"] = _molecule(["test", "--destroy=never"], ephemeral, TIMEOUT_SECONDS)
            output = result["test"].stdout
        except subprocess.TimeoutExpired as error:
            output = error.stdout if isinstance(error.stdout, str) else (error.stdout or b"").decode("utf-8", "replace")
        log_path.write_text(output, encoding="utf-8")
        result["output"] = output
        result["secrets"] = _read_secrets(ephemeral)
        # What the runs asked the emulator (destroy removes its folder).
        request_log = ephemeral / "emulator" / "requests.jsonl"
        result["requests"] = ([json.loads(line) for line in request_log.read_text(encoding="utf-8").splitlines() if line]
                              if request_log.exists() else [])
    finally:
        # Always stop the emulator the scenario started.
        result["destroy"] = _molecule(["destroy"], ephemeral, 300)
        with open(log_path, "a", encoding="utf-8") as stream:
            stream.write("\n--- molecule destroy ---\n" + result["destroy"].stdout)
    return result


def test_molecule_emulated_scenario_passes(scenario_run):
    output, log_path = scenario_run["output"], scenario_run["log_path"]
    assert scenario_run["test"] is not None, "molecule test -s emulated took more than %d s\n%s" % (
        TIMEOUT_SECONDS, _excerpt(output, log_path))
    assert scenario_run["test"].returncode == 0, "molecule test -s emulated failed:\n%s" % _excerpt(output, log_path)
    # The scenario really ran its steps against a live emulator.
    assert "Kubernetes API emulator serving at http://127.0.0.1:" in output, _excerpt(output, log_path)
    for step in ("create", "converge", "idempotence", "verify"):
        assert re.search(r"emulated\W+%s\W+Executed: Successful" % step, output), \
            "molecule did not run %s successfully:\n%s" % (step, _excerpt(output, log_path))
    assert re.search(r"Applied \d+ objects", output), _excerpt(output, log_path)
    for check in ("Check that every expected object exists",
                  "Check the pod-launcher Role and its binding to the scheduler",
                  "Check that the task pods and every component have the same volumes",
                  "Check that all components share one Secret and key for each shared secret",
                  "Check that the Secrets are those of the first converge",
                  "Check that the check-mode run reports no change",
                  "Check that the drift is reported, with its diff",
                  "Check that the run restored the ConfigMap and said so"):
        assert "TASK [%s]" % check in output, "verify did not run %r:\n%s" % (check, _excerpt(output, log_path))


def _task_output(output, task):
    """The output of every run of the task named ``task`` (role prefix allowed), one string each."""
    return re.findall(r"^TASK \[(?:[\w.]+ : )?%s\] \**\n(.*?)(?=^TASK \[|^PLAY RECAP)" % re.escape(task), output,
                      re.MULTILINE | re.DOTALL)


def test_apply_runs_end_with_the_sink_report_waits_health_check_and_summary(scenario_run):
    """Converge writes in one pass, waits for what it rolled out and probes the api-server; idempotence
    writes the same pass, finds nothing to wait for (the server reported every rollout complete) and
    does not probe; both end with the summary."""
    output, log_path = scenario_run["output"], scenario_run["log_path"]
    with open(LOCAL_SETTINGS, encoding="utf-8") as stream:
        namespace = yaml.safe_load(stream)["airflow_namespace"]
    # converge and idempotence (verify's own site.yml runs are not in the Molecule output).
    applies = _task_output(output, "Apply the objects with server-side apply (field manager sink_field_manager)")
    assert len(applies) == 2, _excerpt(output, log_path)
    assert applies[0].startswith("changed: [localhost]") and applies[1].startswith("ok: [localhost]"), applies
    reports = [" ".join(report.split()) for report in _task_output(output, "Report what the sink wrote")]
    assert len(reports) == 2, _excerpt(output, log_path)
    assert re.search(r"Created or changed: \d+ objects: Namespace %s," % namespace, reports[0]), reports[0]
    assert "Nothing changed: every object was already as described." in reports[1], reports[1]

    # Only the first converge changed workloads: only it waits (the idempotence run skips the wait).
    waits = [run for run in _task_output(output, "Wait for the rollouts and Jobs of this run (one list call per kind and namespace)")
             if run.startswith("ok: [localhost]")]
    assert len(waits) == 1, _excerpt(output, log_path)
    # The wait read each kind with one list call (not a request, or a module run, per object), and the
    # probe Job was started and removed: the emulator's request log says what the runs asked.
    calls = {(request.get("verb"), request.get("path")) for request in scenario_run["requests"]}
    for path in ("/apis/apps/v1/namespaces/%s/deployments" % namespace, "/apis/batch/v1/namespaces/%s/jobs" % namespace):
        assert ("list", path) in calls, sorted(calls)
    probe = "/apis/batch/v1/namespaces/%s/jobs" % namespace
    assert ("create", probe) in calls and ("delete", probe + "/airflow-health-probe") in calls, sorted(calls)
    for task in ("Probe the api-server's health endpoint | http://airflow-api-server.%s.svc:8080/api/v2/monitor/health" % namespace,
                 "Check that the api-server is healthy"):
        runs = _task_output(output, task)
        assert len(runs) == 1 and runs[0].startswith("ok: [localhost]"), (task, runs)
    summaries = [run for run in _task_output(output, "Summary") if run.startswith("ok: [localhost]")]
    assert len(summaries) == 2, _excerpt(output, log_path)
    first, second = (" ".join(summary.split()) for summary in summaries)
    assert ("api-server health: healthy (metadatabase, scheduler, triggerer, dag_processor) at "
            "http://airflow-api-server.%s.svc:8080/api/v2/monitor/health" % namespace) in first, first
    assert "api-server health: not probed: nothing changed and every rollout is complete" in second, second
    for summary in (first, second):
        assert re.search(r"Rollouts and Jobs: [1-9]\d* rollouts ready, [1-9]\d* Jobs complete", summary), summary
        assert ("UI: kubectl -n %s port-forward service/airflow-api-server 8080:8080 and open http://localhost:8080/"
                % namespace) in summary, summary
        assert ("Admin user: name and password in Secret %s/airflow-admin-user (keys username and password)"
                % namespace) in summary, summary


def test_no_secret_value_in_the_output(scenario_run):
    secrets = scenario_run["secrets"]
    if not secrets:
        pytest.skip("the emulator was not running after the scenario (see test_molecule_emulated_scenario_passes)")
    assert {"airflow-fernet-key", "airflow-api-secret-key", "airflow-jwt-secret"} <= set(secrets), sorted(secrets)
    output = scenario_run["output"] + scenario_run["destroy"].stdout
    leaked = []
    for name, data in sorted(secrets.items()):
        for key, value in sorted(data.items()):
            # Short values (user names, "disable") are not secret material.
            if len(value) >= 12 and (value in output or base64.b64encode(value.encode("utf-8")).decode() in output):
                leaked.append("%s/%s" % (name, key))
    assert not leaked, "Secret values appear in the Molecule output (%s): %s" % (scenario_run["log_path"], leaked)


def _processes_mentioning(text):
    """Pids of the running processes whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join("/proc", entry, "cmdline"), "rb") as stream:
                command_line = stream.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in command_line:
            found.append(int(entry))
    return found


def test_destroy_stops_the_emulator(scenario_run):
    destroy = scenario_run["destroy"]
    assert destroy.returncode == 0, "molecule destroy -s emulated failed:\n%s" % _excerpt(
        destroy.stdout, scenario_run["log_path"])
    if scenario_run["secrets"] is not None:
        # The emulator was running before destroy: destroy.yml must have stopped it.
        assert re.search(r"TASK \[Send SIGTERM to the emulator\] \**\nchanged: \[localhost\]", destroy.stdout), \
            destroy.stdout
    # create.yml started it with its files in this run's ephemeral directory.
    assert _processes_mentioning(str(scenario_run["ephemeral"] / "emulator")) == []
