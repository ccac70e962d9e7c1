# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a Molecule scenario of molecule/ with the checkout's real Molecule, as a user would.

:func:`run_molecule` runs ``molecule <command> -s <scenario>`` from the repository root with the
checkout's .venv first on PATH, no colours, and none of the caller's ``ANSIBLE_*``/``MOLECULE_*``
settings, time budget or the cloud credentials named in ``drop_prefixes``; the scenario's files go to a
private ephemeral directory when one is given. It waits :func:`scenario_timeout` seconds unless
told otherwise. :func:`require_steps` fails with the output's tail when the run failed or did not
run a step.
"""

import os
import subprocess

import yaml

from tests.support import manifests

# A scenario's time budget, in seconds, in its molecule.yml (ansible.env): how long run_molecule
# waits for it, and how long the servers its create step starts live (molecule/aws/create.yml).
TIMEOUT_VARIABLE = "AIRFLOW_K8S_SCENARIO_TIMEOUT"
# The wait for scenarios without a budget of their own.
DEFAULT_TIMEOUT = 3600


def scenario_settings(scenario):
    """molecule/<scenario>/molecule.yml, parsed."""
    with open(os.path.join(manifests.REPOSITORY_ROOT, "molecule", scenario, "molecule.yml"), encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def scenario_timeout(scenario):
    """Seconds :func:`run_molecule` waits for ``scenario``: its budget, else :data:`DEFAULT_TIMEOUT`."""
    environment = (scenario_settings(scenario).get("ansible") or {}).get("env") or {}
    return int(environment.get(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT))


def run_molecule(scenario, command="test", ephemeral_directory=None, drop_prefixes=(), timeout=None, extra_args=()):
    """The finished ``subprocess.CompletedProcess`` (stdout and stderr together, text)."""
    blocked = ("ANSIBLE_", "MOLECULE_", TIMEOUT_VARIABLE) + tuple(drop_prefixes)
    env = {key: value for key, value in os.environ.items() if not key.startswith(blocked)}
    env["PATH"] = manifests.VENV_BIN + os.pathsep + env.get("PATH", "")
    env.update({"ANSIBLE_NOCOLOR": "1", "PY_COLORS": "0", "NO_COLOR": "1", "COLUMNS": "160"})
    if ephemeral_directory:
        os.makedirs(str(ephemeral_directory), mode=0o700, exist_ok=True)
        env["MOLECULE_EPHEMERAL_DIRECTORY"] = str(ephemeral_directory)
    return subprocess.run([os.path.join(manifests.VENV_BIN, "molecule"), command] + list(extra_args) + ["-s", scenario],
                          cwd=manifests.REPOSITORY_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False,
                          timeout=scenario_timeout(scenario) if timeout is None else timeout)


def require_steps(process, scenario, steps=("converge", "idempotence", "verify"), tail_lines=120):
    """Assert that the run passed and really ran ``steps`` (not an empty sequence); returns the tail."""
    tail = "\n".join(process.stdout.splitlines()[-tail_lines:])
    assert process.returncode == 0, "molecule test -s %s failed:\n%s" % (scenario, tail)
    for step in steps:
        assert step in process.stdout, "molecule did not run %s:\n%s" % (step, tail)
    return tail
