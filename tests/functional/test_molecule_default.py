# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the Molecule scenario molecule/default with the real Molecule.

Real components: ``molecule test -s default`` from the checkout's .venv (delegated driver on
localhost). Its converge renders the default inventory (local) with site.yml, its idempotence
step renders again and fails on any change, and its verify step checks the manifests with
kubernetes-validate --strict and checkov (tests/support/manifests.py). Every inventory is
rendered, re-rendered and validated by test_render.py; this proves the scenario users run.
"""

import os
import subprocess

import pytest

from tests.support import manifests

pytestmark = [pytest.mark.molecule, pytest.mark.slow]


def test_molecule_default_scenario_passes():
    env = dict(os.environ)
    env["PATH"] = manifests.VENV_BIN + os.pathsep + env.get("PATH", "")
    env.update({"ANSIBLE_NOCOLOR": "1", "PY_COLORS": "0", "NO_COLOR": "1"})
    process = subprocess.run([os.path.join(manifests.VENV_BIN, "molecule"), "test", "-s", "default"],
                             cwd=manifests.REPOSITORY_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, check=False)
    tail = "\n".join(process.stdout.splitlines()[-80:])
    assert process.returncode == 0, "molecule test -s default failed:\n%s" % tail
    # The scenario really ran its steps (not an empty sequence).
    for step in ("converge", "idempotence", "verify"):
        assert step in process.stdout, "molecule did not run %s:\n%s" % (step, tail)
    assert "manifests valid for Kubernetes" in process.stdout, tail
