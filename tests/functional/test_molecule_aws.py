# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the Molecule scenario molecule/aws with the real Molecule.

Real components: ``molecule test -s aws`` from the checkout's .venv (delegated driver on
localhost), running the real ``site.yml -i inventories/aws`` and ``playbooks/destroy.yml`` with the
real amazon.aws/community.aws modules and boto3, and kubernetes.core with the real kubernetes client.
Emulated: AWS by moto in server mode (tests/support/moto_server.py, moto plus the APIs it lacks)
and the Kubernetes API by tests/support/k8s_emulator.py. What it proves: the AWS variant converges
end to end, a second run changes nothing, the resources have the properties the roles promise
(encryption, deletion protection, TLS parameter, mount targets, security group rules from the
cluster only) and the Airflow objects are wired to them, and destroy.yml refuses without
confirmation and otherwise removes everything of the environment but the final snapshot. Not
proven: the behaviour of real AWS services or a real EKS cluster.
"""

import pytest

from tests.support.molecule import require_steps, run_molecule

pytestmark = [pytest.mark.molecule, pytest.mark.slow]


def test_molecule_aws_scenario_passes(tmp_path):
    pytest.importorskip("moto", reason="moto[server] is needed (requirements-test.txt)")
    # The scenario brings its own fake credentials; never the caller's real ones.
    process = run_molecule("aws", ephemeral_directory=tmp_path / "molecule", drop_prefixes=("AWS_",))
    tail = require_steps(process, "aws")
    # verify ran destroy.yml to the end (its last check names the cluster's leftovers).
    assert "Check that the cluster has none of them" in process.stdout, tail
