# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example DAGs the dags role ships, in the real Apache Airflow 3.3.

Real components: Apache Airflow 3.3 and its cncf.kubernetes provider from ``.venv-airflow``, run
as a subprocess with a private ``AIRFLOW_HOME``. No database is needed: the DAG files are parsed by
Airflow's own ``DagBag`` (what the dag-processor runs), the DagRun configuration is merged into the
params and validated by ``process_params`` (what the task runner does before a task starts), the
KubernetesPodOperator's templates are rendered by its own ``render_template_fields`` (native
rendering, as the DAG asks) and its pod is built by ``build_pod_request_obj`` (what ``execute``
sends to the cluster). The pod is then validated offline against the Kubernetes schema
(kubernetes-validate, strict). The configuration used is the one documented for users,
``examples/dag_run_conf/kubernetes_pod_from_conf.json``.
"""

import json

import kubernetes_validate
import pytest

from tests.conformance.airflow_harness import REPOSITORY_ROOT, airflow_env, run_airflow_python

pytestmark = [pytest.mark.airflow]

SHIPPED_DAGS = REPOSITORY_ROOT / "roles" / "dags" / "files"
DAG_RUN_CONF = REPOSITORY_ROOT / "examples" / "dag_run_conf" / "kubernetes_pod_from_conf.json"

PROGRAM = r'''
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.param import process_params
from kubernetes.client import ApiClient

folder, conf, bad_conf = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
bag = DagBag(dag_folder=folder)
result = {"import_errors": {path: str(error) for path, error in bag.import_errors.items()},
          "dags": {dag_id: {"fileloc": dag.fileloc, "tasks": sorted(dag.task_ids)} for dag_id, dag in bag.dags.items()}}
dag = bag.dags.get("kubernetes_pod_from_conf")
if dag is not None:
    task = dag.get_task("run")
    result["operator"] = type(task).__module__ + "." + type(task).__name__
    params = process_params(dag, task, conf, suppress_exception=False)
    task.render_template_fields({"params": params})
    result["pod"] = ApiClient().sanitize_for_serialization(task.build_pod_request_obj(dry_run=True))
    try:
        process_params(dag, task, bad_conf, suppress_exception=False)
        result["bad_conf"] = "accepted"
    except Exception as error:  # ParamValidationError
        result["bad_conf"] = type(error).__name__
print(json.dumps(result))
'''


@pytest.fixture(scope="module")
def parsed(airflow_venv, tmp_path_factory):
    """What Airflow makes of the shipped DAG folder and of the documented DagRun configuration."""
    del airflow_venv
    home = tmp_path_factory.mktemp("example-dags-home")
    conf = DAG_RUN_CONF.read_text(encoding="utf-8")
    bad_conf = json.dumps(dict(json.loads(conf), image=3))
    code = "import sys; sys.argv = ['example-dags', %r, %r, %r]\n%s" % (str(SHIPPED_DAGS), conf, bad_conf, PROGRAM)
    return json.loads(conf), run_airflow_python(code, airflow_env(home))


def test_example_dags_import_without_errors(parsed):
    _conf, result = parsed
    assert result["import_errors"] == {}
    assert set(result["dags"]) == {"hello_world", "kubernetes_pod_from_conf"}
    assert result["dags"]["hello_world"]["tasks"] == ["greeting", "say"]
    assert result["dags"]["kubernetes_pod_from_conf"]["tasks"] == ["run"]
    assert result["operator"] == "airflow.providers.cncf.kubernetes.operators.pod.KubernetesPodOperator"
    # Every .py file the role ships defines a DAG Airflow found.
    files = {path.name for path in SHIPPED_DAGS.glob("*.py")}
    assert files == {dag["fileloc"].rsplit("/", 1)[-1] for dag in result["dags"].values()}


def test_pod_runs_the_image_command_and_environment_of_the_dag_run_conf(parsed):
    conf, result = parsed
    pod = result["pod"]
    container = pod["spec"]["containers"][0]
    assert container["image"] == conf["image"]
    assert container["command"] == conf["cmds"]
    assert container["args"] == conf["arguments"]
    assert {item["name"]: item["value"] for item in container["env"]} == conf["env"]
    assert len(container["env"]) == len(conf["env"])
    # The launched pod is restricted-compliant and gets no API token.
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["spec"]["automountServiceAccountToken"] is False
    kubernetes_validate.validate(pod, "1.30.0", strict=True)


def test_a_conf_that_does_not_match_the_params_is_refused(parsed):
    _conf, result = parsed
    assert result["bad_conf"] == "ParamValidationError"
