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


def test_the_secrets_role_without_the_database_role_fails_naming_what_is_missing(tmp_path):
    """The secrets role builds the metadata connection from the database role's facts: alone, it fails
    naming them and what to do, and nothing is written (the sink is never reached)."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY.format(role="secrets"), encoding="utf-8")
    render = tmp_path / "render"
    run = run_playbook(str(playbook), inventory="inventories/local", extra_vars={"sink_render_dir": str(render)}, expect_ok=False)
    assert run.returncode != 0
    output = " ".join(run.output.split())
    assert ("database_host, database_port, database_name, database_username, database_password, database_sslmode, "
            "database_login_format not set: run the airflow_k8s.cloud.database role before the secrets role") in output, run.tail(40)
    assert not render.exists()


def test_the_secrets_role_after_the_database_role_says_what_the_secrets_hold(tmp_path):
    """With the database role before it, the same check passes and says what each Secret holds, never a value."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY.replace("name: airflow_k8s.cloud.{role}", "name: airflow_k8s.cloud.database\n"
                                     "    - name: The secrets\n      ansible.builtin.import_role:\n        name: airflow_k8s.cloud.secrets"),
                        encoding="utf-8")
    run = run_playbook(str(playbook), inventory="inventories/local", extra_vars={"sink_render_dir": str(tmp_path / "render")})
    assert run.returncode == 0, run.tail(40)
    output = " ".join(run.output.split())
    assert "Fernet key: 1 key(s), SHA-256 fingerprints " in output and "(new key generated)." in output, run.tail(40)
    assert ("Metadata connection: postgresql+psycopg2://airflow:***@airflow-postgresql.airflow.svc:5432/airflow?sslmode=disable"
            in output), run.tail(40)
    assert "Admin user: admin (password in Secret airflow-admin-user)." in output, run.tail(40)
