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

import os
import subprocess

import pytest

from tests.support import manifests

pytestmark = [pytest.mark.molecule, pytest.mark.slow]


def test_molecule_aws_scenario_passes():
    pytest.importorskip("moto", reason="moto[server] is needed (requirements-test.txt)")
    env = dict(os.environ)
    env["PATH"] = manifests.VENV_BIN + os.pathsep + env.get("PATH", "")
    env.update({"ANSIBLE_NOCOLOR": "1", "PY_COLORS": "0", "NO_COLOR": "1"})
    # The scenario brings its own fake credentials; never the caller's real ones.
    for name in list(env):
        if name.startswith("AWS_"):
            del env[name]
    process = subprocess.run([os.path.join(manifests.VENV_BIN, "molecule"), "test", "-s", "aws"],
                             cwd=manifests.REPOSITORY_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, check=False)
    tail = "\n".join(process.stdout.splitlines()[-120:])
    assert process.returncode == 0, "molecule test -s aws failed:\n%s" % tail
    for step in ("converge", "idempotence", "verify"):
        assert step in process.stdout, "molecule did not run %s:\n%s" % (step, tail)
    # verify ran destroy.yml to the end (its last check names the cluster's leftovers).
    assert "Check that the cluster has none of them" in process.stdout, tail
