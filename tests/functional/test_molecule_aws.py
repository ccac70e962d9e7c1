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
cluster only) and the Airflow objects are wired to them, a ``--check --diff`` run right after finds
no drift, destroy.yml refuses without confirmation and otherwise removes everything of the
environment but the final snapshot, and site.yml then deploys it again: the whole cycle. Not
proven: the behaviour of real AWS services or a real EKS cluster.
"""

import os
import sys

import pytest
import yaml

from tests.support import molecule
from tests.support.molecule import require_steps, run_molecule
from tests.support.playbook import REPOSITORY_ROOT, run_playbook

CREATE = os.path.join(REPOSITORY_ROOT, "molecule", "aws", "create.yml")
# create.yml's first play's vars, then its lifetime as Ansible evaluates it.
LIFETIME_PLAYBOOK = """\
- name: Evaluate the lifetime of the scenario's servers
  hosts: localhost
  gather_facts: false
  vars_files:
    - create_vars.yml
  tasks:
    - name: Hand it to the test
      ansible.builtin.copy:
        content: "{{ create_lifetime | int }}"
        dest: "{{ lifetime_file }}"
        mode: "0600"
"""


def test_the_servers_outlive_the_wait_for_the_scenario(tmp_path):
    """create.yml's servers stop by themselves after ``create_lifetime`` seconds; run_molecule waits up
    to scenario_timeout("aws") for the scenario. Servers that die first fail a slow run on a loaded
    machine. The lifetime is evaluated by Ansible with the environment molecule.yml gives create.yml."""
    wait = molecule.scenario_timeout("aws")
    with open(CREATE, encoding="utf-8") as stream:
        servers_play = yaml.safe_load(stream)[0]
    start = [task for task in servers_play["tasks"] if task["name"] == "Start the servers in the background"]
    assert [task["async"] for task in start] == ["{{ create_lifetime }}"]
    (tmp_path / "create_vars.yml").write_text(yaml.safe_dump(servers_play["vars"]), encoding="utf-8")
    (tmp_path / "lifetime.yml").write_text(LIFETIME_PLAYBOOK, encoding="utf-8")
    scenario_env = molecule.scenario_settings("aws")["ansible"]["env"]
    run = run_playbook(tmp_path / "lifetime.yml", inventory="localhost,", expect_ok=True,
                       env={molecule.TIMEOUT_VARIABLE: scenario_env[molecule.TIMEOUT_VARIABLE]},
                       extra_vars={"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                   "lifetime_file": str(tmp_path / "lifetime")})
    lifetime = int((tmp_path / "lifetime").read_text(encoding="utf-8"))
    assert lifetime >= wait, "the servers die after %d s, but Molecule may run for %d s:\n%s" % (lifetime, wait, run.tail())


@pytest.mark.molecule
@pytest.mark.slow
def test_molecule_aws_scenario_passes(tmp_path):
    pytest.importorskip("moto", reason="moto[server] is needed (requirements-test.txt)")
    # The scenario brings its own fake credentials; never the caller's real ones.
    process = run_molecule("aws", ephemeral_directory=tmp_path / "molecule", drop_prefixes=("AWS_",))
    tail = require_steps(process, "aws")
    # verify ran the drift check, destroy.yml to the end (a check names the cluster's leftovers),
    # and the deployment again (its last check).
    for check in ("Check that the check run found no drift and would change nothing",
                  "Check that the cluster has none of them", "Check that the environment is deployed again"):
        assert "TASK [%s" % check in process.stdout, tail
    assert process.stdout.index("no drift and would change nothing") < process.stdout.index("Check that the cluster has none of them") \
        < process.stdout.index("Check that the environment is deployed again"), tail
