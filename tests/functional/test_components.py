# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Airflow components as rendered by the real playbook.

Real component: ``ansible-playbook site.yml -i inventories/local`` (the project's ansible-core, the
collection's roles and the sink in render mode), run as a subprocess into temporary folders. The
tests parse the YAML the sink wrote, and airflow.cfg with :mod:`configparser` (the parser Airflow's
own is built on, interpolation included), and check that the pieces fit together: the task pod
template and every component mount the same volumes, every component signs with the same Secrets,
the execution API URL and the StatsD target are the rendered Services, PodDisruptionBudgets appear
only for replicas > 1, Job names follow their spec, and a second run changes nothing.

Four renders, two at a time (the machine has two cores): the local inventory as is (then once more
into the same folder, for idempotence), a variant with other replicas, Service type, Ingress, base
URL and NetworkPolicies, and a variant that differs only in the image tag.
"""

import concurrent.futures
import configparser
import glob
import hashlib
import json
import os
import re
import subprocess
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.playbook import ANSIBLE_PLAYBOOK, run_playbook

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Deployments and Jobs that run the Airflow image (the statsd exporter does not).
AIRFLOW_WORKLOADS = {
    "airflow-scheduler", "airflow-api-server", "airflow-dag-processor", "airflow-triggerer",
}
VARIANT_VARS = {
    "scheduler_replicas": 2,
    "api_server_service_type": "LoadBalancer",
    "api_server_load_balancer_source_ranges": ["203.0.113.0/24"],
    "api_server_ingress_enabled": True,
    "api_server_ingress_class_name": "nginx",
    "api_server_ingress_host": "airflow.example.com",
    "api_server_ingress_tls_secret": "airflow-tls",
    "config_api_base_url": "https://airflow.example.com/airflow/",
    "network_policy_enabled": True,
    # On by default on aws and azure; the local inventory turns it on here.
    "network_policy_block_instance_metadata": True,
    "network_policy_prometheus_sources": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
    # Several api-servers share the FAB login rate limiter's counts in Redis.
    "api_server_replicas": 2,
    "config_fab_rate_limit_storage_uri": "redis://:RateLimitSentinel-4b1d@redis.example:6379/0",
    # A team's own webserver_config.py (here: the variable; it reads the rate limiter's storage the same way).
    "config_webserver_config": ('# variant webserver_config.py\nimport os\n'
                                'RATELIMIT_STORAGE_URI = os.environ.get("AIRFLOW_K8S_RATELIMIT_STORAGE_URI") or "memory://"\n'),
}
JOB_NAME = re.compile(r"^airflow-(migrations|admin-user)-[0-9a-f]{8}$")
# Several api-servers without a shared rate limiter storage: the run warns.
TAG_VARS = {"airflow_image_tag": "3.3.1", "api_server_replicas": 2}

pytestmark = pytest.mark.slow


class Render:
    """One finished run of site.yml: its output folder, exit code, output and manifests."""

    def __init__(self, folder, run):
        self.folder = folder
        self.returncode = run.returncode
        self.output = run.output
        self.recap = run.recap

    def check(self):
        assert self.returncode == 0, "site.yml failed:\n" + self.output[-6000:]
        return self

    @property
    def changed(self):
        assert "localhost" in self.recap, "no PLAY RECAP in the output:\n" + self.output[-3000:]
        return self.recap["localhost"]["changed"]

    def objects(self):
        """Every rendered object (Secrets included; their content is never printed)."""
        found = []
        for path in sorted(glob.glob(os.path.join(self.folder, "*", "*.yaml"))):
            with open(path, encoding="utf-8") as handle:
                found.extend(document for document in yaml.safe_load_all(handle) if document)
        return found

    def kind(self, kind):
        return {obj["metadata"]["name"]: obj for obj in self.objects() if obj["kind"] == kind}

    def one(self, kind, name):
        objects = self.kind(kind)
        assert name in objects, "%s %s was not rendered (have: %s)" % (kind, name, sorted(objects))
        return objects[name]

    def config_map(self):
        return self.one("ConfigMap", "airflow-config")

    def airflow_cfg(self):
        parser = configparser.ConfigParser()
        parser.read_string(self.config_map()["data"]["airflow.cfg"])
        return parser

    def pod_template(self):
        return yaml.safe_load(self.config_map()["data"]["pod_template_file.yaml"])

    def airflow_pod_specs(self):
        """name -> pod spec of every Deployment and Job that runs the Airflow image."""
        specs = {name: obj["spec"]["template"]["spec"] for name, obj in self.kind("Deployment").items()
                 if name in AIRFLOW_WORKLOADS}
        specs.update({name: obj["spec"]["template"]["spec"] for name, obj in self.jobs().items()})
        return specs

    def jobs(self):
        """The migrations role's Jobs, by name (<prefix>-<job>-<hash of the spec>)."""
        return {name: obj for name, obj in self.kind("Job").items() if JOB_NAME.match(name)}


def _render(folder, extra_vars):
    run = run_playbook("site.yml", inventory="inventories/local", extra_vars=dict({"sink_render_dir": folder}, **(extra_vars or {})))
    return Render(folder, run)


def _run_together(runs):
    """Run every (folder, extra_vars) at once, wait for all; return their Renders."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = [pool.submit(_render, folder, extra_vars) for folder, extra_vars in runs]
        return [future.result() for future in futures]


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    if not os.path.exists(ANSIBLE_PLAYBOOK):
        pytest.skip("the project virtualenv is missing: run `make setup-test`")
    root = tmp_path_factory.mktemp("components")
    base, variant, tag = (str(root / name) for name in ("base", "variant", "tag"))
    first, variant_run = _run_together([(base, None), (variant, VARIANT_VARS)])
    second, tag_run = _run_together([(base, None), (tag, TAG_VARS)])
    return {"first": first.check(), "second": second.check(), "variant": variant_run.check(),
            "tag": tag_run.check()}


def _containers(pod_spec):
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


def _env(container):
    return {item["name"]: item for item in container.get("env", [])}


def test_pod_template_is_a_kubernetes_executor_template(renders):
    render = renders["first"]
    template = render.pod_template()
    cfg = render.airflow_cfg()
    assert template["kind"] == "Pod"
    spec = template["spec"]
    assert [container["name"] for container in spec["containers"]] == ["base"]
    base = spec["containers"][0]
    assert base["image"] == "apache/airflow:3.3.2"
    assert (cfg["kubernetes_executor"]["worker_container_repository"] + ":"
            + cfg["kubernetes_executor"]["worker_container_tag"]) == base["image"]
    assert spec["restartPolicy"] == "Never"
    assert spec["serviceAccountName"] == "airflow-task"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 50000
    assert base["securityContext"]["allowPrivilegeEscalation"] is False
    assert base["resources"]["requests"] and base["resources"]["limits"]
    # Task pods talk to Airflow through the execution API only: no database, no signing secrets.
    assert not [item for item in base.get("env", []) if "valueFrom" in item]
    assert cfg["kubernetes_executor"]["pod_template_file"] == "/opt/airflow/pod_templates/pod_template_file.yaml"
    mounted = {mount["mountPath"]: mount.get("subPath") for mount in base["volumeMounts"]}
    assert mounted[cfg["kubernetes_executor"]["pod_template_file"]] == "pod_template_file.yaml"


def test_every_airflow_pod_mounts_what_task_pods_mount(renders):
    render = renders["first"]
    template = render.pod_template()["spec"]
    base_mounts = template["containers"][0]["volumeMounts"]
    specs = render.airflow_pod_specs()
    assert AIRFLOW_WORKLOADS <= set(specs)
    assert len(render.jobs()) == 2
    # Beyond what every pod mounts, only the FAB auth manager's webserver_config.py, and only where FAB reads it.
    webserver_config = {"name": "config", "mountPath": render.airflow_cfg()["fab"]["config_file"],
                        "subPath": "webserver_config.py", "readOnly": True}
    for name, spec in specs.items():
        assert spec["volumes"] == template["volumes"], name
        for container in _containers(spec):
            where = "%s/%s" % (name, container["name"])
            if container["name"] in ("api-server", "admin-user"):
                assert container["volumeMounts"] == base_mounts + [webserver_config], where
            else:
                assert container["volumeMounts"] == base_mounts, where
    # The volumes are the claims and the ConfigMap that the other roles render.
    claims = {volume["persistentVolumeClaim"]["claimName"] for volume in template["volumes"]
              if "persistentVolumeClaim" in volume}
    assert claims == {"airflow-dags", "airflow-logs"}
    assert {"airflow-config"} == {volume["configMap"]["name"] for volume in template["volumes"] if "configMap" in volume}


def test_every_component_signs_with_the_same_secrets(renders):
    render = renders["first"]
    secrets = render.kind("Secret")
    wanted = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY",
              "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    seen = {name: set() for name in wanted}
    for workload, spec in render.airflow_pod_specs().items():
        for container in _containers(spec):
            env = _env(container)
            for name in wanted:
                assert name in env, "%s/%s lacks %s" % (workload, container["name"], name)
                assert "value" not in env[name], "%s is a literal in %s" % (name, workload)
                reference = env[name]["valueFrom"]["secretKeyRef"]
                seen[name].add((reference["name"], reference["key"]))
    for name, references in seen.items():
        assert len(references) == 1, "%s comes from different Secrets: %s" % (name, references)
        secret_name, key = next(iter(references))
        assert secret_name in secrets, "%s refers to Secret %s, which is not rendered" % (name, secret_name)
        assert key in secrets[secret_name]["data"], "Secret %s has no key %s" % (secret_name, key)


def test_airflow_cfg_wires_the_deployment(renders):
    cfg = renders["first"].airflow_cfg()
    assert cfg["core"]["executor"] == "KubernetesExecutor"
    assert cfg["core"]["auth_manager"] == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    assert cfg["core"]["dags_folder"] == "/opt/airflow/dags"
    assert cfg.getboolean("core", "load_examples") is False
    assert cfg["logging"]["base_log_folder"] == "/opt/airflow/logs"
    assert cfg["kubernetes_executor"]["namespace"] == "airflow"
    assert cfg.getboolean("kubernetes_executor", "multi_namespace_mode") is False
    assert cfg.getboolean("kubernetes_executor", "delete_worker_pods") is True
    assert cfg.getboolean("api", "expose_config") is False
    assert cfg.getboolean("scheduler", "enable_health_check") is True
    # Secrets come from the environment, never from the ConfigMap.
    for section, option in (("core", "fernet_key"), ("database", "sql_alchemy_conn"),
                            ("api", "secret_key"), ("api_auth", "jwt_secret")):
        assert not cfg.has_option(section, option), "%s.%s is in the ConfigMap" % (section, option)


def test_execution_api_url_is_the_api_server_service(renders):
    for render in (renders["first"], renders["variant"]):
        cfg = render.airflow_cfg()
        url = urlsplit(cfg["core"]["execution_api_server_url"])
        service = render.one("Service", "airflow-api-server")
        deployment = render.one("Deployment", "airflow-api-server")
        pod = deployment["spec"]["template"]
        assert url.scheme == "http"
        assert url.hostname == "%s.%s.svc.cluster.local" % (service["metadata"]["name"], service["metadata"]["namespace"])
        service_port = next(port for port in service["spec"]["ports"] if port["port"] == url.port)
        container = pod["spec"]["containers"][0]
        container_ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert container_ports[service_port["targetPort"]] == int(cfg["api"].get("port", "8080")) == 8080
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        base_path = urlsplit(cfg["api"]["base_url"]).path.rstrip("/") if cfg.has_option("api", "base_url") else ""
        assert url.path == base_path + "/execution/"
        # The probes ask the public health endpoint under the same path.
        assert container["livenessProbe"]["httpGet"]["path"] == base_path + "/api/v2/monitor/health"
        assert container["readinessProbe"]["httpGet"]["port"] == service_port["targetPort"]


def test_statsd_target_is_the_statsd_service(renders):
    render = renders["first"]
    cfg = render.airflow_cfg()
    service = render.one("Service", "airflow-statsd")
    deployment = render.one("Deployment", "airflow-statsd")
    pod = deployment["spec"]["template"]
    assert cfg.getboolean("metrics", "statsd_on") is True
    assert cfg["metrics"]["statsd_host"] == "airflow-statsd.airflow.svc.cluster.local"
    ports = {port["name"]: port for port in service["spec"]["ports"]}
    assert ports["statsd-udp"]["protocol"] == "UDP"
    assert ports["statsd-udp"]["port"] == cfg.getint("metrics", "statsd_port")
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    container = pod["spec"]["containers"][0]
    container_ports = {port["name"]: port for port in container["ports"]}
    assert container_ports["statsd-udp"]["containerPort"] == cfg.getint("metrics", "statsd_port")
    assert container_ports["statsd-udp"]["protocol"] == "UDP"
    annotations = service["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == ports["metrics"]["port"] == container_ports["metrics"]["containerPort"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/metrics"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    mappings = render.one("ConfigMap", "airflow-statsd-mappings")
    rules = yaml.safe_load(mappings["data"]["mappings.yml"])["mappings"]
    assert {"match": "*.scheduler_heartbeat", "name": "airflow_scheduler_heartbeat"} in rules


def test_components_are_complete_deployments(renders):
    render = renders["first"]
    # The sink's checksum of the ConfigMap's content (module_utils/manifests.content_checksum), computed here again.
    content = {"binaryData": {}, "data": render.config_map()["data"], "stringData": {}}
    checksum = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()).hexdigest()
    for name in AIRFLOW_WORKLOADS:
        deployment = render.one("Deployment", name)
        selector = deployment["spec"]["selector"]["matchLabels"]
        pod = deployment["spec"]["template"]
        assert selector["app.kubernetes.io/component"] == name[len("airflow-"):]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert deployment["metadata"]["labels"]["app.kubernetes.io/component"] == selector["app.kubernetes.io/component"]
        assert pod["metadata"]["annotations"]["checksum.airflow-k8s.cloud/configmap-airflow-config"] == checksum
        spec = pod["spec"]
        assert spec["serviceAccountName"] == name
        assert [container["name"] for container in spec["initContainers"]] == ["wait-for-migrations"]
        container = spec["containers"][0]
        # The dag-processor and triggerer serve no traffic: no readiness probe (workload.yml.j2).
        probes = ("startupProbe", "livenessProbe") + (("readinessProbe",) if name in ("airflow-scheduler", "airflow-api-server") else ())
        for probe in probes:
            assert probe in container, "%s has no %s" % (name, probe)
        # No Service sends the dag-processor or the triggerer traffic: no readiness probe (workload model).
        assert ("readinessProbe" in container) == (name in ("airflow-scheduler", "airflow-api-server")), name
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        assert deployment["spec"]["replicas"] == 1
    probes = {name: render.one("Deployment", name)["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
              for name in AIRFLOW_WORKLOADS}
    assert probes["airflow-scheduler"]["httpGet"]["path"] == "/health"
    assert probes["airflow-dag-processor"]["exec"]["command"][-3:] == ["--job-type", "DagProcessorJob", "--local"]
    assert probes["airflow-triggerer"]["exec"]["command"][-3:] == ["--job-type", "TriggererJob", "--local"]
    # A changed configuration rolls the components.
    assert (renders["variant"].one("Deployment", "airflow-scheduler")["spec"]["template"]["metadata"]["annotations"]
            != render.one("Deployment", "airflow-scheduler")["spec"]["template"]["metadata"]["annotations"])


def test_disruption_budgets_only_for_several_replicas(renders):
    assert renders["first"].kind("PodDisruptionBudget") == {}
    budgets = renders["variant"].kind("PodDisruptionBudget")
    assert sorted(budgets) == ["airflow-api-server", "airflow-scheduler"]
    assert renders["variant"].one("Deployment", "airflow-scheduler")["spec"]["replicas"] == 2
    pod_labels = renders["variant"].one("Deployment", "airflow-scheduler")["spec"]["template"]["metadata"]["labels"]
    assert budgets["airflow-scheduler"]["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_job_names_follow_the_job_spec(renders):
    first = sorted(renders["first"].jobs())
    assert sorted(renders["second"].jobs()) == first
    assert [re.sub(r"-[0-9a-f]{8}$", "", name) for name in first] == ["airflow-admin-user", "airflow-migrations"]
    tag = sorted(renders["tag"].jobs())
    assert [re.sub(r"-[0-9a-f]{8}$", "", name) for name in tag] == ["airflow-admin-user", "airflow-migrations"]
    assert not set(first) & set(tag), "a new image must make new Jobs (a Job's pod template is immutable)"
    for job in renders["first"].jobs().values():
        assert "ttlSecondsAfterFinished" not in job["spec"]
        assert job["spec"]["backoffLimit"] >= 0 and job["spec"]["activeDeadlineSeconds"] > 0
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_migration_jobs(renders):
    jobs = {re.sub(r"-[0-9a-f]{8}$", "", name): job["spec"]["template"]["spec"]
            for name, job in renders["first"].jobs().items()}
    assert jobs["airflow-migrations"]["containers"][0]["args"] == ["airflow", "db", "migrate"]
    admin = jobs["airflow-admin-user"]
    assert [container["name"] for container in admin["initContainers"]] == ["wait-for-migrations"]
    container = admin["containers"][0]
    env = _env(container)
    assert env["AIRFLOW_ADMIN_USERNAME"]["valueFrom"]["secretKeyRef"] == {"name": "airflow-admin-user", "key": "username"}
    assert env["AIRFLOW_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "airflow-admin-user", "key": "password"}
    secret = renders["first"].one("Secret", "airflow-admin-user")
    assert {"username", "password"} <= set(secret["data"])
    # The password is read from the environment by the program, never put on the command line.
    assert not any("$(" in arg for arg in container["args"])
    assert "os.environ[\"AIRFLOW_ADMIN_PASSWORD\"]" in container["args"][-1]


def test_api_server_service_options(renders):
    first, variant = renders["first"], renders["variant"]
    assert first.one("Service", "airflow-api-server")["spec"]["type"] == "ClusterIP"
    assert first.kind("Ingress") == {}
    assert "--proxy-headers" not in first.one("Deployment", "airflow-api-server")["spec"]["template"]["spec"]["containers"][0]["args"]
    service = variant.one("Service", "airflow-api-server")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    ingress = variant.one("Ingress", "airflow-api-server")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["airflow.example.com"], "secretName": "airflow-tls"}]
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "airflow.example.com"
    path = rule["http"]["paths"][0]
    assert path["path"] == "/airflow/"
    assert path["backend"]["service"] == {"name": "airflow-api-server", "port": {"name": "api"}}
    assert "--proxy-headers" in variant.one("Deployment", "airflow-api-server")["spec"]["template"]["spec"]["containers"][0]["args"]


def test_fab_rate_limiter_storage_for_several_api_servers(renders):
    """With more than one api-server, FAB's login rate limiter needs a shared store: the Redis URI reaches the
    api-server from its Secret (never the ConfigMap or the run output); without one, the run warns."""
    import base64  # pylint: disable=import-outside-toplevel

    uri = VARIANT_VARS["config_fab_rate_limit_storage_uri"]
    variant = renders["variant"]
    container = variant.one("Deployment", "airflow-api-server")["spec"]["template"]["spec"]["containers"][0]
    reference = _env(container)["AIRFLOW_K8S_RATELIMIT_STORAGE_URI"]["valueFrom"]["secretKeyRef"]
    secret = variant.one("Secret", reference["name"])
    assert base64.b64decode(secret["data"][reference["key"]]).decode() == uri
    assert variant.config_map()["data"]["webserver_config.py"] == VARIANT_VARS["config_webserver_config"]
    assert 'os.environ.get("AIRFLOW_K8S_RATELIMIT_STORAGE_URI")' in renders["first"].config_map()["data"]["webserver_config.py"]
    assert uri not in json.dumps(variant.config_map()) and "RateLimitSentinel" not in variant.output
    for name in ("first", "variant"):
        assert "login rate limiter" not in renders[name].output, name
    warning = re.sub(r"\s+", " ", renders["tag"].output)
    assert "api_server_replicas is 2 (config_api_workers 1) with the FAB auth manager and no config_fab_rate_limit_storage_uri" in warning
    tag_container = renders["tag"].one("Deployment", "airflow-api-server")["spec"]["template"]["spec"]["containers"][0]
    assert "AIRFLOW_K8S_RATELIMIT_STORAGE_URI" not in _env(tag_container)


def _own_network_policies(render):
    """The network_policy role's policies (the database role renders one of its own)."""
    return {name: policy for name, policy in render.kind("NetworkPolicy").items()
            if policy["metadata"]["labels"].get("app.kubernetes.io/component") == "network-policy"}


def test_network_policies(renders):
    assert _own_network_policies(renders["first"]) == {}
    render = renders["variant"]
    policies = _own_network_policies(render)
    assert sorted(policies) == ["airflow-api-server", "airflow-default-deny-ingress", "airflow-deny-instance-metadata", "airflow-statsd"]
    # Tasks cannot reach the node's credentials at the instance metadata endpoint; everything else stays open.
    metadata = policies["airflow-deny-instance-metadata"]["spec"]
    assert metadata["policyTypes"] == ["Egress"]
    assert metadata["podSelector"] == policies["airflow-default-deny-ingress"]["spec"]["podSelector"]
    blocks = [peer["ipBlock"] for rule in metadata["egress"] for peer in rule["to"] if "ipBlock" in peer]
    assert {(block["cidr"], tuple(block["except"])) for block in blocks} == {
        ("0.0.0.0/0", ("169.254.169.254/32",)), ("::/0", ("fd00:ec2::254/128",))}
    assert {"namespaceSelector": {}} in [peer for rule in metadata["egress"] for peer in rule["to"]]
    deny = policies["airflow-default-deny-ingress"]["spec"]
    assert deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    # The default deny covers every Airflow pod: components, Jobs, statsd and task pods.
    selector = deny["podSelector"]["matchLabels"].items()
    pods = [render.one("Deployment", name)["spec"]["template"]["metadata"]["labels"]
            for name in sorted(AIRFLOW_WORKLOADS | {"airflow-statsd"})]
    pods += [job["spec"]["template"]["metadata"]["labels"] for job in render.jobs().values()]
    pods.append(render.pod_template()["metadata"]["labels"])
    assert len(pods) == 8
    for labels in pods:
        assert selector <= labels.items(), labels
    api = policies["airflow-api-server"]["spec"]
    api_pod = render.one("Deployment", "airflow-api-server")["spec"]["template"]["metadata"]["labels"]
    assert api["podSelector"]["matchLabels"].items() <= api_pod.items()
    assert {(port["port"], port["protocol"]) for rule in api["ingress"] for port in rule["ports"]} == {(8080, "TCP")}
    statsd = policies["airflow-statsd"]["spec"]
    statsd_pod = render.one("Deployment", "airflow-statsd")["spec"]["template"]["metadata"]["labels"]
    assert statsd["podSelector"]["matchLabels"].items() <= statsd_pod.items()
    rules = {(rule["ports"][0]["port"], rule["ports"][0]["protocol"]): rule for rule in statsd["ingress"]}
    task_labels = render.pod_template()["metadata"]["labels"].items()
    assert rules[(9125, "UDP")]["from"][0]["podSelector"]["matchLabels"].items() <= task_labels
    assert rules[(9102, "TCP")]["from"] == VARIANT_VARS["network_policy_prometheus_sources"]


def test_second_render_changes_nothing(renders):
    assert renders["first"].changed > 0
    assert renders["second"].changed == 0, renders["second"].output[-4000:]


AIRFLOW_VENV = os.path.join(REPO_ROOT, ".venv-airflow")


@pytest.mark.airflow
def test_admin_user_job_program_with_real_airflow(renders, tmp_path):
    """Run the admin-user Job's program, as rendered, in the real Airflow 3.3 (SQLite metadata DB).

    Its environment is the Job's: literal values from the Job, secretKeyRefs resolved from the
    Secrets the secrets role rendered. It must create the user, succeed again when the user exists,
    and never print the password.
    """
    if not os.path.exists(os.path.join(AIRFLOW_VENV, ".conformance-ready")):
        pytest.skip(".venv-airflow is not built (tests/conformance/setup_airflow_venv.sh)")
    import base64  # pylint: disable=import-outside-toplevel

    render = renders["first"]
    secrets = render.kind("Secret")
    job = next(job for name, job in render.jobs().items() if name.startswith("airflow-admin-user-"))
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {"PATH": os.path.join(AIRFLOW_VENV, "bin") + os.pathsep + os.environ["PATH"], "HOME": str(tmp_path)}
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            reference = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = base64.b64decode(secrets[reference["name"]]["data"][reference["key"]]).decode()
    (tmp_path / "airflow.cfg").write_text(render.config_map()["data"]["airflow.cfg"], encoding="utf-8")
    env.update({
        "AIRFLOW_HOME": str(tmp_path), "AIRFLOW_CONFIG": str(tmp_path / "airflow.cfg"),
        # Local stand-ins for the in-cluster database, shares and StatsD exporter.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite:///%s" % (tmp_path / "airflow.db"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(tmp_path / "logs"),
        "AIRFLOW__METRICS__STATSD_ON": "False",
    })
    password = env["AIRFLOW_ADMIN_PASSWORD"]
    assert password and env["AIRFLOW_ADMIN_USERNAME"]

    def run(*command):
        result = subprocess.run(list(command), cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=900, check=False)
        output = result.stdout + result.stderr
        assert password not in output, "the admin password was printed"
        assert result.returncode == 0, "%s failed:\n%s" % (command[:3], output[-4000:])
        return result.stdout

    run(os.path.join(AIRFLOW_VENV, "bin", "airflow"), "db", "migrate")
    program = container["args"][-1]
    assert container["args"][:2] == ["python", "-c"]
    assert 'created with role "Admin"' in run(os.path.join(AIRFLOW_VENV, "bin", "python"), "-c", program)
    assert "already exists" in run(os.path.join(AIRFLOW_VENV, "bin", "python"), "-c", program)
    listing = run(os.path.join(AIRFLOW_VENV, "bin", "airflow"), "users", "list", "--output", "json")
    # Log lines may precede the JSON document; it starts at a line that opens the array.
    users = json.loads(listing[re.search(r"^\[\s*[{\]]", listing, re.MULTILINE).start():])
    assert [user["username"] for user in users] == [env["AIRFLOW_ADMIN_USERNAME"]]
