# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workload model's knobs land where Kubernetes reads them, for every component and task pods.

Real components: ``ansible-playbook site.yml -i inventories/local`` in render mode (the project's
ansible-core, the roles, roles/airflow/templates/workload.yml.j2 and the sink), then the rendered
YAML is parsed and validated with ``kubernetes-validate --strict`` (tests/support/manifests.py). One
render sets every knob of ``airflow_pod`` (all Airflow pods), of each component's ``<component>_pod``
and of ``config_task_pod`` (task pods); the local inventory as is serves as the baseline.
"""

import glob
import os

import pytest
import yaml

from tests.support import manifests

pytestmark = pytest.mark.slow

COMPONENTS = {"scheduler": "airflow-scheduler", "api_server": "airflow-api-server",
              "dag_processor": "airflow-dag-processor", "triggerer": "airflow-triggerer"}
ROLE_ARN = "arn:aws:iam::123456789012:role/airflow"


def _pod(role):
    """Knobs of one component: every key of the model, with values that name the component."""
    tag = role.replace("_", "-")
    return {
        "env": [{"name": "TEAM_%s" % role.upper(), "value": tag}],
        "env_from": [{"configMapRef": {"name": "%s-env" % tag}}],
        "volumes": [{"name": "extra-%s" % tag, "emptyDir": {}}],
        "volume_mounts": [{"name": "extra-%s" % tag, "mountPath": "/extra"}],
        "sidecars": [{"name": "sidecar-%s" % tag, "image": "busybox:1.36", "args": ["sleep", "infinity"]}],
        "init_containers": [{"name": "init-%s" % tag, "image": "busybox:1.36", "args": ["true"]}],
        "annotations": {"example.com/owner": tag},
        "labels": {"example.com/team": tag},
        "service_account_annotations": {"example.com/sa": tag},
        "priority_class_name": "prio-%s" % tag,
    }


KNOBS = dict(
    {"%s_pod" % role: _pod(role) for role in list(COMPONENTS) + ["statsd"]},
    airflow_pod={"env": [{"name": "GLOBAL", "value": "yes"}], "annotations": {"example.com/global": "yes"},
                 "service_account_annotations": {"eks.amazonaws.com/role-arn": ROLE_ARN}},
    config_task_pod=dict(_pod("task"), sidecars=[], init_containers=[
        {"name": "proxy", "image": "busybox:1.36", "restartPolicy": "Always", "args": ["sleep", "infinity"]}]),
    api_server_replicas=2,
    airflow_image_pull_secrets=["registry-credentials"],
    airflow_existing_secrets={"jwt_secret": {"name": "jwt-from-vault", "key": "signing-key"},
                              "remote_logging": {"name": "logs-connection-from-vault"}},
    config_remote_logging_enabled=True, config_remote_logging_provider="aws", config_remote_logging_bucket="task-logs",
    config_task_affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["tasks"]}]}]}}},
    config_task_termination_grace_period_seconds=120,
)


def _objects(folder):
    found = []
    for path in sorted(glob.glob(os.path.join(folder, "*", "*.yaml"))):
        with open(path, encoding="utf-8") as handle:
            found.extend(document for document in yaml.safe_load_all(handle) if document)
    return found


def _named(objects, kind):
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("workload")
    base, knobs = str(root / "base"), str(root / "knobs")
    for folder, extra in ((base, None), (knobs, KNOBS)):
        run = manifests.run_playbook("local", folder, extra_vars=extra)
        assert run.returncode == 0, run.tail()
    return {"base": _objects(base), "knobs": _objects(knobs), "knobs_dir": knobs}


def test_every_component_gets_its_knobs_and_the_shared_ones(rendered):
    deployments = _named(rendered["knobs"], "Deployment")
    for role, name in COMPONENTS.items():
        tag = role.replace("_", "-")
        template = deployments[name]["spec"]["template"]
        spec = template["spec"]
        main = spec["containers"][0]
        env = {item["name"]: item for item in main["env"]}
        assert env["TEAM_%s" % role.upper()]["value"] == tag and env["GLOBAL"]["value"] == "yes", name
        assert "AIRFLOW__CORE__FERNET_KEY" in env, "%s lost the shared environment" % name
        assert main["envFrom"] == [{"configMapRef": {"name": "%s-env" % tag}}]
        assert {"name": "extra-%s" % tag, "mountPath": "/extra"} in main["volumeMounts"]
        assert {"dags", "logs", "config", "extra-%s" % tag} <= {volume["name"] for volume in spec["volumes"]}
        assert [c["name"] for c in spec["containers"]][1:] == ["sidecar-%s" % tag]
        assert [c["name"] for c in spec["initContainers"]] == ["wait-for-migrations", "init-%s" % tag]
        assert template["metadata"]["annotations"]["example.com/owner"] == tag
        assert template["metadata"]["annotations"]["example.com/global"] == "yes"
        assert template["metadata"]["labels"]["example.com/team"] == tag
        # The selector labels stay: a knob cannot detach the pods from their Deployment.
        assert deployments[name]["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
        assert spec["priorityClassName"] == "prio-%s" % tag
        assert spec["imagePullSecrets"] == [{"name": "registry-credentials"}]


def test_every_pod_gets_the_image_pull_secrets(rendered):
    """Every pod of the run, the local PostgreSQL and the Jobs included, can pull from the private registry."""
    for obj in rendered["knobs"]:
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            assert obj["spec"]["template"]["spec"].get("imagePullSecrets") == [{"name": "registry-credentials"}], \
                "%s %s has no image pull secret" % (obj["kind"], obj["metadata"]["name"])


def test_statsd_gets_its_own_knobs_but_not_airflows(rendered):
    statsd = _named(rendered["knobs"], "Deployment")["airflow-statsd"]["spec"]["template"]
    names = {item["name"] for item in statsd["spec"]["containers"][0].get("env", [])}
    assert names == {"TEAM_STATSD"}, "airflow_pod must not reach the exporter: %s" % names
    assert statsd["spec"]["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert statsd["metadata"]["annotations"]["example.com/owner"] == "statsd"


def test_service_accounts_carry_workload_identity_annotations(rendered):
    accounts = _named(rendered["knobs"], "ServiceAccount")
    for role, name in dict(COMPONENTS, task="airflow-task").items():
        annotations = accounts[name]["metadata"].get("annotations", {})
        assert annotations.get("eks.amazonaws.com/role-arn") == ROLE_ARN, name
        assert annotations.get("example.com/sa") == role.replace("_", "-"), name
    base_accounts = _named(rendered["base"], "ServiceAccount")
    assert all("annotations" not in account["metadata"] for account in base_accounts.values())


def test_task_pod_template_gets_the_task_knobs(rendered):
    config = _named(rendered["knobs"], "ConfigMap")["airflow-config"]
    pod = yaml.safe_load(config["data"]["pod_template_file.yaml"])
    base = pod["spec"]["containers"][0]
    assert base["name"] == "base"
    assert {"TEAM_TASK", "GLOBAL", "AIRFLOW_HOME"} <= {item["name"] for item in base["env"]}
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in {item["name"] for item in base["env"]}
    assert pod["spec"]["initContainers"][0]["restartPolicy"] == "Always"
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "task"
    assert pod["metadata"]["annotations"]["example.com/owner"] == "task"
    assert pod["spec"]["affinity"] == KNOBS["config_task_affinity"]
    assert pod["spec"]["terminationGracePeriodSeconds"] == 120


def test_replicas_spread_across_nodes_and_zones_only_when_several(rendered):
    deployments = _named(rendered["knobs"], "Deployment")
    spread = deployments["airflow-api-server"]["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {item["topologyKey"] for item in spread} == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    assert all(item["whenUnsatisfiable"] == "ScheduleAnyway" for item in spread), "must still schedule on one node"
    assert "topologySpreadConstraints" not in deployments["airflow-scheduler"]["spec"]["template"]["spec"]
    assert "airflow-api-server" in _named(rendered["knobs"], "PodDisruptionBudget")


def test_probes_cover_the_execution_api_and_cost_little(rendered):
    deployments = _named(rendered["base"], "Deployment")
    api = deployments["airflow-api-server"]["spec"]["template"]["spec"]["containers"][0]
    assert api["startupProbe"]["httpGet"]["path"] == "/execution/health"
    assert api["readinessProbe"]["httpGet"]["path"] == "/execution/health"
    for name in ("airflow-dag-processor", "airflow-triggerer"):
        main = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert "readinessProbe" not in main, "%s has no Service: an exec readiness probe only burns CPU" % name
        # `airflow jobs check` costs up to 5 CPU-seconds a call: at most a tenth of the 500m limit... by far.
        assert 5.0 / main["livenessProbe"]["periodSeconds"] <= 0.05, name


def test_a_secret_you_manage_is_read_not_written(rendered):
    """airflow_existing_secrets: no Secret of ours for that credential, every reader points at yours."""
    secrets = _named(rendered["knobs"], "Secret")
    assert "airflow-jwt-secret" not in secrets and "jwt-from-vault" not in secrets
    assert "airflow-jwt-secret" in _named(rendered["base"], "Secret")
    assert "airflow-remote-logging" not in secrets, "the remote logging connection is yours: it must not be written"
    for name in COMPONENTS.values():
        main = _named(rendered["knobs"], "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
        env = {item["name"]: item for item in main["env"]}
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "jwt-from-vault", "key": "signing-key"}
        remote_logs = env["AIRFLOW_CONN_AIRFLOW_REMOTE_LOGS"]["valueFrom"]["secretKeyRef"]
        assert remote_logs == {"name": "logs-connection-from-vault", "key": "connection"}


def test_knobs_render_valid_manifests(rendered):
    problems = [problem for problem in manifests.validate_schemas(rendered["knobs_dir"])
                if not problem.startswith("statsd/servicemonitor-")]
    assert not problems, "\n".join(problems)
