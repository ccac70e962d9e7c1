# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each component role works on its own: a play with the airflow role (shared settings and the
preflight), that one role and the sink.

Real components: ``ansible-playbook`` on ``inventories/local`` with a generated three-step play
(``import_role`` of the airflow role, of one role, of the sink role in render mode), then the
rendered YAML is parsed and validated with ``kubernetes-validate --strict`` (tests/support/manifests.py).
A change to one role is checked in seconds, without a whole site.yml run; and a role that silently
needs another one (a fact only another role sets) fails here.
"""

import glob
import os

import pytest
import yaml

from tests.support import manifests
from tests.support.playbook import run_playbook

pytestmark = pytest.mark.slow

PLAY = """---
- name: One role on its own
  hosts: airflow
  gather_facts: false
  tasks:
    - name: Shared settings and the preflight
      ansible.builtin.import_role:
        name: airflow_k8s.cloud.airflow
    - name: The role
      ansible.builtin.import_role:
        name: airflow_k8s.cloud.{role}
    - name: Write its objects
      ansible.builtin.import_role:
        name: airflow_k8s.cloud.sink
"""

# role -> (kind, name) of the objects it must render, and nothing else.
ROLES = {
    "scheduler": {("Deployment", "airflow-scheduler")},
    "triggerer": {("Deployment", "airflow-triggerer")},
    "dag_processor": {("Deployment", "airflow-dag-processor")},
    "api_server": {("Deployment", "airflow-api-server"), ("Service", "airflow-api-server")},
    "statsd": {("Deployment", "airflow-statsd"), ("Service", "airflow-statsd"), ("ConfigMap", "airflow-statsd-mappings")},
}


@pytest.fixture(scope="module", params=sorted(ROLES))
def alone(request, tmp_path_factory):
    role = request.param
    folder = tmp_path_factory.mktemp(role)
    playbook = folder / "play.yml"
    playbook.write_text(PLAY.format(role=role), encoding="utf-8")
    render = str(folder / "render")
    run = run_playbook(str(playbook), inventory="inventories/local", extra_vars={"sink_render_dir": render})
    return role, render, run


def test_the_role_renders_its_objects_alone(alone):
    role, render, run = alone
    assert run.returncode == 0, "%s alone failed:\n%s" % (role, run.tail(60))
    objects = []
    for path in glob.glob(os.path.join(render, "*", "*.yaml")):
        assert os.path.basename(os.path.dirname(path)) == role, "%s wrote into another role's folder: %s" % (role, path)
        with open(path, encoding="utf-8") as handle:
            objects.extend(document for document in yaml.safe_load_all(handle) if document)
    assert {(obj["kind"], obj["metadata"]["name"]) for obj in objects} == ROLES[role]
    problems = manifests.validate_schemas(render)
    assert not problems, "\n".join(problems)


def test_a_second_run_changes_nothing(alone):
    role, render, _run = alone
    again = run_playbook(os.path.join(os.path.dirname(render), "play.yml"), inventory="inventories/local",
                         extra_vars={"sink_render_dir": render})
    assert again.returncode == 0 and again.changed == 0, "%s alone is not idempotent:\n%s" % (role, again.tail(40))
