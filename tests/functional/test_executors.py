# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The executor choice (airflow_executor), the Celery workers and broker, their autoscaling and
PgBouncer, as the real playbook renders them.

Real components: ``ansible-playbook site.yml`` from the checkout's .venv in render mode (every role,
the workload model, the sink), ``kubernetes-validate --strict`` for Kubernetes 1.30 and the newest
version it ships, the KEDA ScaledObject against its CRD's own openAPIV3Schema (KEDA 2.10.1, vendored
from npm's @kubernetes-models/keda 0.3.2 in tests/fixtures/keda/, made strict), ``checkov`` from ``.venv-checkov`` with the
waivers of tests/checkov-skips.yaml, and :mod:`configparser` for airflow.cfg. No cluster.

Three renders, shared by every test of the module, two at a time (the CI machine has 2 cores):

- ``celery``: inventories/local, CeleryExecutor, an external broker's Secret, a CPU HPA and the
  NetworkPolicies; rendered twice (the second render must change nothing).
- ``multi``: inventories/azure, CeleryExecutor,KubernetesExecutor, the in-cluster Redis, KEDA, the
  in-cluster PgBouncer with its exporter; rendered twice.
- ``kubernetes``: inventories/azure, KubernetesExecutor (the default) with Azure's built-in PgBouncer;
  Celery settings are set too and must leave no trace.

Then apply mode against ONE Kubernetes API emulator (tests/support/k8s_emulator.py, kmock based):
the same executor settings on inventories/local, celery (with PgBouncer), multi and kubernetes in
turn in one namespace, each run twice (the second must change nothing); the switches must delete
what the switched-off parts created, and leave someone else's object of such a name alone.
"""

import base64
import concurrent.futures
import configparser
import copy
import os
import re

import pytest
import yaml

from tests.functional.test_k8s_emulator import api
from tests.support import manifests

pytestmark = pytest.mark.slow

VARIANTS = {
    "celery": ("local", {"airflow_executor": "CeleryExecutor", "broker_type": "external",
                         "broker_external_secret_name": "managed-redis", "broker_external_secret_key": "url",
                         "workers_hpa_enabled": True, "workers_queues": ["default", "heavy"], "workers_concurrency": 8,
                         "network_policy_enabled": True, "workers_flower_enabled": True,
                         "workers_pod": {"env": [{"name": "TEAM", "value": "workers"}],
                                         "service_account_annotations": {"example.com/sa": "workers"}}}),
    "multi": ("azure", {"airflow_executor": "CeleryExecutor,KubernetesExecutor", "workers_keda_enabled": True,
                        "workers_keda_min_replicas": 0, "pgbouncer_enabled": True, "pgbouncer_metrics_enabled": True,
                        "pgbouncer_default_pool_size": 7}),
    "kubernetes": ("azure", {"pgbouncer_azure_builtin": True, "broker_type": "external",
                             "broker_external_secret_name": "unused", "workers_keda_enabled": True}),
}
TWICE = ("celery", "multi")


class Variant:
    """One render folder, its objects by (kind, name) and its runs."""

    def __init__(self, folder, runs):
        self.folder = folder
        self.runs = runs
        self.objects = {}
        for _path, document in manifests.load_manifests(folder):
            self.objects[(document["kind"], document["metadata"]["name"])] = document

    def names(self, kind):
        return {name for (found, name) in self.objects if found == kind}

    def get(self, kind, name):
        assert (kind, name) in self.objects, "%s %s was not rendered (have %s)" % (kind, name, sorted(self.names(kind)))
        return self.objects[(kind, name)]

    def secret(self, name, key):
        return base64.b64decode(self.get("Secret", name)["data"][key]).decode("utf-8")

    def airflow_cfg(self):
        parser = configparser.ConfigParser()
        parser.read_string(self.get("ConfigMap", "airflow-config")["data"]["airflow.cfg"])
        return parser

    def pod_spec(self, kind, name):
        return self.get(kind, name)["spec"]["template"]["spec"]

    def env(self, kind, name):
        return {item["name"]: item for item in self.pod_spec(kind, name)["containers"][0]["env"]}


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("executors"))
    folders = {name: os.path.join(root, name) for name in VARIANTS}
    runs = {name: {} for name in VARIANTS}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for phase in ("first", "second"):
            futures = {name: pool.submit(manifests.run_playbook, inventory, folders[name], extra_vars=extra)
                       for name, (inventory, extra) in VARIANTS.items()
                       if phase == "first" or (name in TWICE and runs[name]["first"].returncode == 0)}
            for name, future in futures.items():
                runs[name][phase] = future.result()
            if phase == "first":
                for name in VARIANTS:
                    assert runs[name]["first"].returncode == 0, "render %s failed:\n%s" % (name, runs[name]["first"].tail())
                    runs[name]["secrets_after_first"] = manifests.secret_contents(folders[name])
    return {name: Variant(folders[name], runs[name]) for name in VARIANTS}


def test_celery_only_has_no_pod_launcher_and_no_pod_template(variants):
    """CeleryExecutor alone: no pod-launcher Role/RoleBinding, no task pod template (file or mount), no
    API token for the scheduler; airflow.cfg names the executor and has [celery] but no [kubernetes_executor]."""
    celery = variants["celery"]
    assert not celery.names("Role") and not celery.names("RoleBinding")
    config = celery.get("ConfigMap", "airflow-config")["data"]
    # airflow.cfg and the FAB auth manager's webserver_config.py, but no task pod template.
    assert set(config) == {"airflow.cfg", "webserver_config.py"}
    cfg = celery.airflow_cfg()
    assert cfg["core"]["executor"] == "CeleryExecutor"
    assert not cfg.has_section("kubernetes_executor")
    assert cfg["celery"]["worker_concurrency"] == "8"
    assert cfg["logging"]["worker_log_server_port"] == "8793"
    for kind, name in (("Deployment", "airflow-scheduler"), ("StatefulSet", "airflow-worker"), ("Deployment", "airflow-api-server")):
        mounts = {mount["mountPath"] for mount in celery.pod_spec(kind, name)["containers"][0]["volumeMounts"]}
        assert "/opt/airflow/pod_templates/pod_template_file.yaml" not in mounts, name
    assert celery.pod_spec("Deployment", "airflow-scheduler")["automountServiceAccountToken"] is False


def test_kubernetes_only_has_no_broker_and_no_workers(variants):
    """KubernetesExecutor: no Redis, workers, broker or result-backend Secret, no KEDA object, no [celery];
    the pod-launcher Role and the task pod template are there."""
    kubernetes = variants["kubernetes"]
    assert kubernetes.airflow_cfg()["core"]["executor"] == "KubernetesExecutor"
    assert not kubernetes.airflow_cfg().has_section("celery")
    assert not kubernetes.names("StatefulSet") and not kubernetes.names("ScaledObject")
    assert not {"airflow-broker-url", "airflow-result-backend", "airflow-redis-password", "airflow-worker-scaler"} & kubernetes.names("Secret")
    assert "airflow-worker" not in kubernetes.names("ServiceAccount")
    assert "airflow-pod-launcher" in kubernetes.names("Role")
    assert "pod_template_file.yaml" in kubernetes.get("ConfigMap", "airflow-config")["data"]
    assert "AIRFLOW__CELERY__BROKER_URL" not in kubernetes.env("Deployment", "airflow-scheduler")


def test_multi_executor_has_both(variants):
    """CeleryExecutor,KubernetesExecutor: the pod launcher and pod template for KubernetesExecutor tasks,
    the workers, Redis and both Celery Secrets for the rest."""
    multi = variants["multi"]
    cfg = multi.airflow_cfg()
    assert cfg["core"]["executor"] == "CeleryExecutor,KubernetesExecutor"
    assert cfg.has_section("kubernetes_executor") and cfg.has_section("celery")
    assert "airflow-pod-launcher" in multi.names("Role")
    assert "pod_template_file.yaml" in multi.get("ConfigMap", "airflow-config")["data"]
    assert multi.pod_spec("Deployment", "airflow-scheduler")["automountServiceAccountToken"] is True
    assert {"airflow-worker", "airflow-redis"} <= multi.names("StatefulSet")


def test_workers_take_their_queues_and_reach_broker_and_backend_through_secrets(variants):
    """The worker StatefulSet: queues, headless Service for its log server (pod DNS names), a grace
    period for running tasks, broker URL from the external Secret, result backend from ours; the
    scheduler gets the same two; an HPA owns the replicas (no spec.replicas)."""
    celery = variants["celery"]
    worker = celery.get("StatefulSet", "airflow-worker")
    service = celery.get("Service", "airflow-worker")
    assert service["spec"]["clusterIP"] == "None" and worker["spec"]["serviceName"] == "airflow-worker"
    assert service["spec"]["selector"].items() <= worker["spec"]["template"]["metadata"]["labels"].items()
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["celery", "worker", "--queues", "default,heavy"]
    assert {port["name"]: port["containerPort"] for port in container["ports"]} == {"worker-logs": 8793}
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 600
    assert "replicas" not in worker["spec"], "the HPA owns the replicas: a re-apply must not reset them"
    # The workload model's knobs (workers_pod) reach the worker pods and their ServiceAccount.
    assert {"name": "TEAM", "value": "workers"} in container["env"]
    assert celery.get("ServiceAccount", "airflow-worker")["metadata"]["annotations"] == {"example.com/sa": "workers"}
    assert worker["spec"]["template"]["spec"]["serviceAccountName"] == "airflow-worker"
    assert [c["name"] for c in worker["spec"]["template"]["spec"]["initContainers"]] == ["wait-for-migrations"]
    for kind, name in (("StatefulSet", "airflow-worker"), ("Deployment", "airflow-scheduler")):
        env = celery.env(kind, name)
        assert env["AIRFLOW__CELERY__BROKER_URL"]["valueFrom"]["secretKeyRef"] == {"name": "managed-redis", "key": "url"}
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"]["valueFrom"]["secretKeyRef"] == {
            "name": "airflow-result-backend", "key": "connection"}
    assert "AIRFLOW__CELERY__BROKER_URL" not in celery.env("Deployment", "airflow-dag-processor")
    backend = celery.secret("airflow-result-backend", "connection")
    assert backend == "db+" + celery.secret("airflow-metadata", "connection")
    assert not {"airflow-redis-password", "airflow-broker-url"} & celery.names("Secret"), "external broker: no Redis"
    hpa = celery.get("HorizontalPodAutoscaler", "airflow-worker")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "airflow-worker"}
    policies = {policy["metadata"]["name"] for policy in celery.objects.values() if policy["kind"] == "NetworkPolicy"}
    assert {"airflow-worker", "airflow-flower"} <= policies and "airflow-redis" not in policies


def test_flower_has_basic_auth_from_a_generated_secret(variants):
    """workers_flower_enabled: `airflow celery flower` with the broker URL and its basic authentication from the
    Secret the secrets role generates once (kept by the second render, see below), behind a ClusterIP Service;
    nothing of Flower without it."""
    celery = variants["celery"]
    flower = celery.pod_spec("Deployment", "airflow-flower")["containers"][0]
    assert flower["args"] == ["celery", "flower"]
    env = celery.env("Deployment", "airflow-flower")
    assert env["AIRFLOW__CELERY__FLOWER_BASIC_AUTH"]["valueFrom"]["secretKeyRef"] == {"name": "airflow-flower", "key": "basic-auth"}
    assert "AIRFLOW__CELERY__BROKER_URL" in env
    password = celery.secret("airflow-flower", "password")
    assert re.match(r"^[A-Za-z0-9]{32}$", password)
    assert celery.secret("airflow-flower", "basic-auth") == "admin:" + password
    assert celery.get("Service", "airflow-flower")["spec"]["type"] == "ClusterIP"
    assert "airflow-flower" not in variants["multi"].names("Deployment") | variants["multi"].names("Secret")


def test_redis_keda_and_pgbouncer_of_the_multi_variant(variants):
    """In-cluster Redis with its generated password behind the broker URL, the KEDA trigger on the
    metadata database through PgBouncer, and PgBouncer's configuration matching the connection."""
    multi = variants["multi"]
    password = multi.secret("airflow-redis-password", "password")
    assert re.match(r"^[A-Za-z0-9]{64}$", password)
    assert multi.secret("airflow-broker-url", "connection") == "redis://:%s@airflow-redis.airflow.svc:6379/0" % password
    redis = multi.get("StatefulSet", "airflow-redis")
    container = redis["spec"]["template"]["spec"]["containers"][0]
    assert "$(REDIS_PASSWORD)" in container["args"] and password not in str(redis)
    assert redis["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert container["readinessProbe"] and container["livenessProbe"]
    metadata = multi.secret("airflow-metadata", "connection")
    assert "@airflow-pgbouncer.airflow.svc:6543/" in metadata
    assert multi.secret("airflow-result-backend", "connection") == "db+" + metadata
    assert multi.secret("airflow-worker-scaler", "connection") == metadata.replace("postgresql+psycopg2://", "postgresql://")
    scaled = multi.get("ScaledObject", "airflow-worker")
    trigger = scaled["spec"]["triggers"][0]
    assert scaled["spec"]["minReplicaCount"] == 0 and trigger["type"] == "postgresql"
    assert "queue IN ('default')" in trigger["metadata"]["query"] and "/ 16)" in trigger["metadata"]["query"]
    worker_env = multi.env("StatefulSet", "airflow-worker")
    assert worker_env[trigger["metadata"]["connectionFromEnv"]]["valueFrom"]["secretKeyRef"]["name"] == "airflow-worker-scaler"
    ini = multi.secret("airflow-pgbouncer-config", "pgbouncer.ini")
    assert "default_pool_size = 7" in ini and "server_tls_sslmode = require" in ini
    assert multi.secret("airflow-pgbouncer-config", "users.txt").startswith('"airflow" "')
    pgbouncer = multi.pod_spec("Deployment", "airflow-pgbouncer")
    assert [c["name"] for c in pgbouncer["containers"]] == ["pgbouncer", "metrics-exporter"]
    policies = {policy["metadata"]["name"] for policy in multi.objects.values() if policy["kind"] == "NetworkPolicy"}
    assert {"airflow-redis", "airflow-worker", "airflow-pgbouncer"} <= policies


def test_azure_builtin_pgbouncer_is_port_6432(variants):
    """pgbouncer_azure_builtin: the metadata connection goes to the Flexible Server's port 6432, TLS kept."""
    uri = variants["kubernetes"].secret("airflow-metadata", "connection")
    assert re.search(r"@[^/]+:6432/airflow\?sslmode=require$", uri)
    assert "airflow-pgbouncer" not in variants["kubernetes"].names("Deployment")


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_passes_strict_schemas_and_checkov(variants, name):
    """kubernetes-validate --strict (and the KEDA CRD schema) and checkov with only the listed waivers."""
    folder = variants[name].folder
    problems = manifests.validate_schemas(folder)
    assert not problems, "\n".join(problems)
    problems, _used = manifests.run_checkov(folder)
    assert not problems, "\n".join(problems)


def test_keda_schema_is_strict(variants, tmp_path):
    """KEDA's CRD schema refuses what the API server would: an unknown field (in spec and in metadata), a
    trigger without metadata, a count that is not an integer; so the schema check above can fail."""
    scaled = variants["multi"].get("ScaledObject", "airflow-worker")
    breakages = {
        "unknown": lambda broken: broken["spec"].update(maxReplicas=3),
        "unknown_metadata": lambda broken: broken["metadata"].update(owner="me"),
        "no_metadata": lambda broken: broken["spec"]["triggers"][0].pop("metadata"),
        "string_count": lambda broken: broken["spec"].update(minReplicaCount="zero"),
    }
    for breakage, breaks in breakages.items():
        broken = copy.deepcopy(scaled)
        breaks(broken)
        folder = tmp_path / breakage / "workers"
        folder.mkdir(parents=True)
        (folder / "scaledobject-airflow-worker.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
        assert manifests.validate_schemas(str(tmp_path / breakage)), breakage


@pytest.mark.parametrize("name", TWICE)
def test_second_render_changes_nothing_and_prints_no_secret(variants, name):
    """The second render reports changed=0 and keeps every Secret (Redis password included) byte-identical;
    no run prints a secret value."""
    variant = variants[name]
    second = variant.runs["second"]
    assert second.returncode == 0 and second.changed == 0, "\n".join(second.changed_tasks()) or second.tail()
    assert manifests.secret_contents(variant.folder) == variant.runs["secrets_after_first"]
    values = manifests.secret_values(variant.folder)
    for phase in ("first", "second"):
        leaked = sorted(value[:6] + "..." for value in values if value in variant.runs[phase].output)
        assert not leaked, "the %s run printed secret values starting %s" % (phase, leaked)


# Apply mode against ONE Kubernetes API emulator, one namespace, the variants in turn (local inventory):
# each converges (second run changed=0), and each switch retires what the switched-off parts created.
NAMESPACE = "airflow-executors"
CONVERGE = (
    # CeleryExecutor with an external broker, a CPU HPA, Flower, the NetworkPolicies, and PgBouncer.
    ("celery", dict(VARIANTS["celery"][1], pgbouncer_enabled=True)),
    # CeleryExecutor,KubernetesExecutor with the in-cluster Redis, KEDA, PgBouncer with its exporter.
    ("multi", VARIANTS["multi"][1]),
    # KubernetesExecutor (the default); Celery settings are set and leave no trace.
    ("kubernetes", {name: value for name, value in VARIANTS["kubernetes"][1].items() if name != "pgbouncer_azure_builtin"}),
)
# Objects only the earlier variant has: (kind, API path under the namespace, name).
RETIRED = {
    "multi": [("HorizontalPodAutoscaler", "/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers/", "airflow-worker"),
              ("Deployment", "/apis/apps/v1/namespaces/%s/deployments/", "airflow-flower"),
              ("Service", "/api/v1/namespaces/%s/services/", "airflow-flower"),
              ("Secret", "/api/v1/namespaces/%s/secrets/", "airflow-flower")],
    "kubernetes": [("StatefulSet", "/apis/apps/v1/namespaces/%s/statefulsets/", "airflow-worker"),
                   ("StatefulSet", "/apis/apps/v1/namespaces/%s/statefulsets/", "airflow-redis"),
                   ("ScaledObject", "/apis/keda.sh/v1alpha1/namespaces/%s/scaledobjects/", "airflow-worker"),
                   ("Deployment", "/apis/apps/v1/namespaces/%s/deployments/", "airflow-pgbouncer"),
                   ("Secret", "/api/v1/namespaces/%s/secrets/", "airflow-broker-url"),
                   ("Secret", "/api/v1/namespaces/%s/secrets/", "airflow-redis-password"),
                   ("Secret", "/api/v1/namespaces/%s/secrets/", "airflow-worker-scaler")],
}
# Someone else's object with the name of one the multi variant created: must survive the switch.
UNOWNED = ("Service", "/api/v1/namespaces/%s/services/", "airflow-pgbouncer")


def emulator_request(emulator, method, path, body=None):
    """One plain HTTP request to the emulator (not through the collection); the answer's JSON, or None on 404."""
    status, answer = api(emulator, method, path, body)
    if status == 404:
        return None
    assert status < 400, (method, path, status, answer)
    return answer


def flat(output):
    """A run's output with its line wrapping undone (the callback wraps long messages)."""
    return " ".join(output.split())


def sink_report(output):
    """What the sink's report task printed in a run, line wrapping undone."""
    found = re.search(r"^TASK \[(?:[\w.]+ : )?Report what the sink wrote\] \**\n(.*?)(?=^TASK \[|^PLAY RECAP)", output, re.MULTILINE | re.DOTALL)
    return flat(found.group(1)) if found else ""


@pytest.fixture(scope="module")
def converged(tmp_path_factory):
    """The CONVERGE variants applied in turn to one emulator, twice each; before the last, someone else's
    Service replaces one of ours, and a --check --diff run shows what the switch would delete."""
    pytest.importorskip("kmock", reason="kmock (requirements-test.txt) is needed for the Kubernetes API emulator")
    from tests.support.k8s_emulator import EmulatorProcess  # pylint: disable=import-outside-toplevel

    with EmulatorProcess.start(tmp_path_factory.mktemp("emulator"),
                               extra_args=["--resource", "keda.sh/v1alpha1/scaledobjects=ScaledObject"]) as emulator:
        connection = {"sink_mode": "apply", "sink_kubeconfig": emulator.kubeconfig, "sink_context": emulator.context,
                      "airflow_namespace": NAMESPACE}
        runs, present_before, check = {}, {}, None
        for name, settings in CONVERGE:
            settings = dict(settings, **connection)
            if name == "kubernetes":
                kind, path, object_name = UNOWNED
                assert emulator_request(emulator, "DELETE", path % NAMESPACE + object_name) is not None
                theirs = {"apiVersion": "v1", "kind": kind, "metadata": {"name": object_name, "namespace": NAMESPACE},
                          "spec": {"ports": [{"name": "theirs", "port": 5432}]}}
                emulator_request(emulator, "POST", path % NAMESPACE + "?fieldManager=kubectl-create", theirs)
                check = manifests.playbook_runner.run_playbook("site.yml", inventory="inventories/local", extra_vars=settings,
                                                               args=["--check", "--diff"])
            present_before[name] = {(kind, object_name): emulator_request(emulator, "GET", path % NAMESPACE + object_name) is not None
                                    for kind, path, object_name in RETIRED.get(name, [])}
            runs[name] = [manifests.playbook_runner.run_playbook("site.yml", inventory="inventories/local", extra_vars=settings)
                          for _attempt in range(2)]
            if any(run.returncode != 0 for run in runs[name]):
                break
        left = {(kind, object_name): emulator_request(emulator, "GET", path % NAMESPACE + object_name)
                for kind, path, object_name in [UNOWNED] + [item for items in RETIRED.values() for item in items]}
        yield {"runs": runs, "present_before": present_before, "check": check, "left": left,
               "requests": emulator.read_request_log()}


@pytest.mark.emulator
@pytest.mark.parametrize("name", [name for name, _settings in CONVERGE])
def test_variant_converges_against_the_api_emulator(converged, name):
    """site.yml in apply mode against the Kubernetes API emulator (tests/support/k8s_emulator.py, kmock based,
    the KEDA ScaledObject kind registered), variant after variant in one namespace: each run succeeds, the first
    changes objects, the second reports changed=0. An emulator, not a cluster: it proves the requests and their
    idempotence, not that a real API server admits the objects (the render tests above check those schemas)."""
    assert name in converged["runs"], "an earlier variant failed"
    first, second = converged["runs"][name]
    assert first.returncode == 0, first.tail()
    assert first.changed > 0
    assert second.returncode == 0 and second.changed == 0, "\n".join(second.changed_tasks()) or second.tail()


@pytest.mark.emulator
@pytest.mark.parametrize("name", sorted(RETIRED))
def test_switching_off_retires_what_the_switched_off_parts_created(converged, name):
    """Emulator: the objects only the previous variant had (Flower and the HPA when KEDA replaces it; the
    workers, Redis, KEDA, PgBouncer and the Celery Secrets when KubernetesExecutor replaces Celery) existed
    before the switch and are gone after it; the sink's report names them."""
    assert name in converged["runs"], "an earlier variant failed"
    assert all(converged["present_before"][name].values()), converged["present_before"][name]
    for kind, _path, object_name in RETIRED[name]:
        assert converged["left"][(kind, object_name)] is None, "%s %s was not deleted" % (kind, object_name)
        assert "%s %s/%s" % (kind, NAMESPACE, object_name) in sink_report(converged["runs"][name][0].output)
    deleted = {record.get("path", "").split("?")[0] for record in converged["requests"] if record.get("method") == "DELETE"}
    assert "/apis/apps/v1/namespaces/%s/statefulsets/airflow-worker" % NAMESPACE in deleted


@pytest.mark.emulator
def test_someone_elses_object_of_a_retired_name_is_left_alone_and_check_mode_names_the_deletions(converged):
    """Emulator: a Service made by someone else (no ownership labels, field manager kubectl-create) with the name
    of PgBouncer's survives the switch to KubernetesExecutor, with a warning; the --check --diff run before the
    switch named what would be deleted and deleted nothing."""
    kind, _path, object_name = UNOWNED
    theirs = converged["left"][(kind, object_name)]
    assert theirs is not None and theirs["spec"]["ports"][0]["name"] == "theirs"
    assert "airflow-k8s.cloud/environment" not in (theirs["metadata"].get("labels") or {})
    first = converged["runs"]["kubernetes"][0]
    report = sink_report(first.output)
    assert "Left alone (no longer described, but not owned by this collection): Service %s/airflow-pgbouncer (it lacks the label" % NAMESPACE \
        in report, report
    check = converged["check"]
    assert check is not None and check.returncode == 0, check.tail() if check else "no check run"
    report = sink_report(check.output)
    assert re.search(r"Would delete \(no component describes them any more\): [^']*StatefulSet %s/airflow-worker" % NAMESPACE, report), report
    assert all(converged["present_before"]["kubernetes"].values()), "the check run deleted something"
