# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the Molecule scenario molecule/default with the real Molecule.

Real components: ``molecule test -s default`` from the checkout's .venv (delegated driver on
localhost). Its converge renders the default inventory (local) with site.yml, its idempotence
step renders again and fails on any change, and its verify step checks the manifests with
kubernetes-validate --strict and checkov (tests/support/manifests.py). Every inventory is
rendered, re-rendered and validated by test_render.py; this proves the scenario users run.
"""

import pytest

from tests.support.molecule import require_steps, run_molecule

pytestmark = [pytest.mark.molecule, pytest.mark.slow]


def test_molecule_default_scenario_passes(tmp_path):
    process = run_molecule("default", ephemeral_directory=tmp_path / "molecule")
    tail = require_steps(process, "default", tail_lines=80)
    assert "manifests valid for Kubernetes" in process.stdout, tail
