# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every call the roles make to an Azure or GCP collection module, checked against that module's
REAL argument spec; and the facts each platform hands the Airflow layer, checked to be complete
and of the same shape.

Real components: ``ansible-playbook`` with the real ``site.yml`` and roles on
``inventories/azure`` and ``inventories/gcp`` in apply mode against the Kubernetes API emulator
(``tests/support/k8s_emulator.py``, kmock); the real argument specs of the installed
azure.azcollection and google.cloud modules, enforced by a real ``AnsibleModule`` inside shims
(``tests/support/module_calls.py``) that replace only those two collections, first on the
collections path; the collection's own ``gke_filestore_csi_driver``, ``cloud_sql_instance_protection`` and ``gcp_iam_policy_binding``
modules, unmodified, talking HTTP to ``tests/support/fake_gke.py``, ``tests/support/fake_cloud_sql.py`` and
``tests/support/fake_gcp_iam.py`` (which serves the IAM policy of a Google service account only once the
shimmed ``gcp_iam_service_account`` has created it). There is no Azure or GCP: the shims answer with canned
results (``tests/support/cloud_fakes.py``). This proves the calls are well-formed and the
provider paths hand over complete facts; it does not prove what Azure or GCP would do with them.
The local inventory (render mode) is checked against the same contract
(``tests/support/cloud_contract.py``).
"""

import concurrent.futures
import json
import os
import stat

import pytest
import yaml

from tests.support import cloud_contract, cloud_fakes, manifests, module_calls
from tests.support.fake_cloud_sql import FakeCloudSql
from tests.support.fake_gcp_iam import FakeGcpIam
from tests.support.fake_gke import FakeGke
from tests.support.playbook import run_playbook

pytestmark = [pytest.mark.slow, pytest.mark.emulator]

CONTRACT_PLAYBOOK = os.path.join("tests", "functional", "playbooks", "cloud_contract.yml")
GCP_TOKEN = "ya29.fake-token-for-tests"
GCP_PROJECT = "example-project"

# Modules each platform must call on a first run (a subset check: more calls are fine).
EXPECTED_MODULES = {
    "azure": {
        "azure.azcollection.azure_rm_aks_info", "azure.azcollection.azure_rm_publicipaddress_info",
        "azure.azcollection.azure_rm_postgresqlflexibleserver", "azure.azcollection.azure_rm_postgresqlflexibleserver_info",
        "azure.azcollection.azure_rm_postgresqlflexibleconfiguration_info",
        "azure.azcollection.azure_rm_postgresqlflexibledatabase", "azure.azcollection.azure_rm_lock",
        "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule", "azure.azcollection.azure_rm_storageaccount",
        "azure.azcollection.azure_rm_storageshare", "azure.azcollection.azure_rm_storageaccount_info",
        # The Airflow pods' managed identity and its federated credentials (generic ARM calls).
        "azure.azcollection.azure_rm_resource_info", "azure.azcollection.azure_rm_resource",
    },
    "gcp": {
        "google.cloud.gcp_container_cluster_info", "google.cloud.gcp_sql_instance", "google.cloud.gcp_sql_database",
        "google.cloud.gcp_sql_user", "google.cloud.gcp_sql_instance_info", "google.cloud.gcp_filestore_instance",
        "google.cloud.gcp_filestore_instance_info", "google.cloud.gcp_iam_service_account",
    },
}
DRIVERS = {"azure": "azure_files", "gcp": "filestore", "local": "host_path"}


def inventory_vars(platform):
    """The plain values of inventories/<platform>/group_vars/all/*.yml (names the scenario needs)."""
    folder = os.path.join(manifests.REPOSITORY_ROOT, "inventories", platform, "group_vars", "all")
    values = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as stream:
            values.update(yaml.safe_load(stream) or {})
    return values


@pytest.fixture(scope="module")
def shadow_root(tmp_path_factory):
    """The shim collections for every module the fake cloud knows."""
    return module_calls.build_shadow_collections(str(tmp_path_factory.mktemp("shadow")), sorted(cloud_fakes.RESPONDERS))


def _create_csi_driver(emulator, name):
    import kubernetes  # pylint: disable=import-outside-toplevel

    client = kubernetes.config.new_client_from_config(config_file=emulator.kubeconfig)
    api = kubernetes.client.StorageV1Api(client)
    if name not in [item.metadata.name for item in api.list_csi_driver().items]:
        api.create_csi_driver({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": name},
                               "spec": {"attachRequired": False}})


def _list_objects(emulator, namespace, kind):
    import kubernetes  # pylint: disable=import-outside-toplevel

    client = kubernetes.config.new_client_from_config(config_file=emulator.kubeconfig)
    core = kubernetes.client.CoreV1Api(client)
    if kind == "Job":
        items = kubernetes.client.BatchV1Api(client).list_namespaced_job(namespace).items
        return [client.sanitize_for_serialization(item) for item in items]
    if kind == "Namespace":
        return [client.sanitize_for_serialization(item) for item in core.list_namespace().items if item.metadata.name == namespace]
    if kind == "PersistentVolume":
        items = core.list_persistent_volume().items
        return [client.sanitize_for_serialization(item) for item in items if item.metadata.name.startswith(namespace + "-")]
    return [client.sanitize_for_serialization(item) for item in core.list_namespaced_secret(namespace).items]


class CloudRun(object):
    """One platform's runs: workdir, the PlaybookRuns, the logged calls and the contract facts."""

    def __init__(self, platform, workdir):
        self.platform = platform
        self.workdir = workdir
        self.state_dir = os.path.join(workdir, "cloud")
        self.call_log = os.path.join(workdir, "calls.jsonl")
        self.namespace = "cloud-%s" % platform
        self.runs = []
        os.makedirs(self.state_dir)

    def contract(self, index):
        with open(os.path.join(self.workdir, "contract-%d.json" % index)) as stream:
            return json.load(stream)


def _run(cloud, shadow_root, emulator, env, extra, arguments=()):
    index = len(cloud.runs)
    extra_vars = {
        "airflow_namespace": cloud.namespace,
        "cloud_contract_file": os.path.join(cloud.workdir, "contract-%d.json" % index),
        "cluster_access_azure_kubeconfig_path": os.path.join(cloud.workdir, "kube", "aks.kubeconfig"),
        "cluster_access_gcp_kubeconfig_path": os.path.join(cloud.workdir, "kube", "gke.kubeconfig"),
    }
    extra_vars.update(extra)
    run_env = module_calls.shim_environment(shadow_root, cloud.state_dir, cloud.call_log)
    run_env.update(env)
    with open(cloud.call_log, "a") as stream:
        stream.write(json.dumps({"run": index}) + "\n")
    # <wrapper of site.yml> -i inventories/<platform>: the inventory as committed (not
    # manifests.run_playbook, which adds the no-cloud overrides), plus the test's extra vars.
    cloud.runs.append(run_playbook(CONTRACT_PLAYBOOK, inventory=os.path.join("inventories", cloud.platform),
                                   extra_vars=extra_vars, args=arguments, env=run_env))
    return cloud.runs[-1]


def _calls_of_run(cloud, index):
    calls, current = [], None
    for entry in module_calls.read_calls(cloud.call_log):
        if "run" in entry:
            current = entry["run"]
        elif current == index:
            calls.append(entry)
    return calls


AZURE_ENV = {"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000", "AZURE_CLIENT_ID": "fake-client",
             "AZURE_SECRET": "fake-secret-value", "AZURE_TENANT": "fake-tenant",
             # kubelogin's spn login reads the service principal's secret from here (never from the kubeconfig).
             "AZURE_CLIENT_SECRET": "fake-secret-value"}
AKS_OUTBOUND_IP_ID = "/subscriptions/0000/resourceGroups/MC_rg_aks/providers/Microsoft.Network/publicIPAddresses/aks-outbound-1"
AKS_SUBNET_ID = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-airflow-example/providers/"
                 "Microsoft.Network/virtualNetworks/vnet-airflow-example/subnets/snet-aks-nodes")
# Public access: the inventory's private access (delegated subnet + private DNS zone) turned off,
# so that the firewall path runs. tests for the committed private access: test_azure_private_access_*.
AZURE_WI_CLIENT_ID = "0b5c1e4f-8a3d-4f2e-9c7b-6d5e4f3a2b1c"
AZURE_PUBLIC_ACCESS = {"database_azure_delegated_subnet_id": "", "database_azure_private_dns_zone_id": ""}
AKS_OIDC_ISSUER = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/5f2a3b4c-0d1e-4f60-8a9b-1c2d3e4f5a6b/"
# Every Airflow ServiceAccount (roles/airflow airflow_service_account_names, prefix "airflow"): the
# default list of cluster_access_workload_identity_service_accounts.
AIRFLOW_SERVICE_ACCOUNTS = ["airflow-scheduler", "airflow-api-server", "airflow-dag-processor", "airflow-triggerer",
                            "airflow-migrations", "airflow-housekeeping", "airflow-pod-cleanup", "airflow-worker", "airflow-task"]


def _firewall_rule(values, name, address):
    return {"resource_group": values["database_azure_resource_group"], "server_name": values["database_azure_server_name"],
            "name": name, "start_ip_address": address, "end_ip_address": address}


def _stale_rule_name(values):
    return "aks-%s-20-50-100-99" % values["cluster_access_azure_cluster_name"]


def _converge_azure(cloud, emulator, shadow_root):
    values = inventory_vars("azure")
    with open(emulator.kubeconfig) as stream:
        kubeconfig = stream.read()
    with open(os.path.join(cloud.state_dir, "scenario.json"), "w") as stream:
        json.dump({"aks": {"name": values["cluster_access_azure_cluster_name"], "kubeconfig": kubeconfig,
                           "outbound_ip_ids": [AKS_OUTBOUND_IP_ID], "subnet_id": AKS_SUBNET_ID, "aad": True,
                           "workload_identity": True, "oidc_issuer_url": AKS_OIDC_ISSUER},
                   "public_ips": {"aks-outbound-1": "20.50.100.7"}}, stream)
    # Before the run the server has a rule someone added by hand, and one this collection made
    # for an outbound address the cluster no longer has.
    firewall = "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule"
    cloud_fakes.seed(cloud.state_dir, firewall, _firewall_rule(values, "office", "198.51.100.20"))
    cloud_fakes.seed(cloud.state_dir, firewall, _firewall_rule(values, _stale_rule_name(values), "20.50.100.99"))
    _create_csi_driver(emulator, "file.csi.azure.com")
    for dummy_attempt in range(2):
        # No sink_kubeconfig: the sink uses the kubeconfig cluster_access wrote from the AKS answer.
        if _run(cloud, shadow_root, emulator, AZURE_ENV, AZURE_PUBLIC_ACCESS).returncode != 0:
            break
    return cloud


def _converge_gcp(cloud, emulator, shadow_root):
    values = inventory_vars("gcp")
    with open(os.path.join(cloud.state_dir, "scenario.json"), "w") as stream:
        json.dump({"gke": {"name": values["cluster_access_gcp_cluster_name"], "location": values["cluster_access_gcp_location"],
                           "endpoint": "203.0.113.10", "workload_pool": GCP_PROJECT + ".svc.id.goog"}}, stream)
    _create_csi_driver(emulator, "filestore.csi.storage.gke.io")
    env = {"GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": GCP_TOKEN, "GCP_PROJECT": GCP_PROJECT}
    with FakeGke(token=GCP_TOKEN) as gke, FakeCloudSql(token=GCP_TOKEN) as sql, \
            FakeGcpIam(token=GCP_TOKEN, account_source=cloud_fakes.created_service_account_project(cloud.state_dir)) as iam:
        gke.add_cluster(GCP_PROJECT, values["cluster_access_gcp_location"], values["cluster_access_gcp_cluster_name"])
        # The shimmed gcp_sql_instance creates nothing in the fake: the instance is there, unprotected,
        # and demanding client certificates, as an earlier release created it (requireSsl true).
        sql.add_instance(GCP_PROJECT, values["database_gcp_instance_name"], deletion_protection=False,
                         ssl_mode="TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
        for dummy_attempt in range(2):
            # The GKE kubeconfig authenticates with gke-gcloud-auth-plugin, which the emulator cannot
            # serve: the sink is pointed at the emulator, the written kubeconfig is checked as a file.
            # gcp verifies the server: the CA comes from the instance's serverCaCert (cloud_fakes.server_ca).
            overrides = {"csi_driver_gcp_api_endpoint": gke.url, "sink_kubeconfig": emulator.kubeconfig,
                         "database_gcp_api_endpoint": sql.url, "cluster_access_gcp_iam_api_endpoint": iam.url,
                         "database_tls_mode": "verify-full"}
            if _run(cloud, shadow_root, emulator, env, overrides).returncode != 0:
                break
        cloud.gke_requests = list(gke.requests)
        cloud.sql_requests = list(sql.requests)
        cloud.sql_ssl_mode = sql.ssl[(GCP_PROJECT, values["database_gcp_instance_name"])]
        cloud.iam_requests = list(iam.requests)
        cloud.iam_policies = dict(iam.policies)
    return cloud


@pytest.fixture(scope="module")
def converged(k8s_emulator, shadow_root, tmp_path_factory):
    """Both clouds converged twice, side by side (the CI machine has 2 cores); {platform: CloudRun}."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {platform: pool.submit(converge, CloudRun(platform, str(tmp_path_factory.mktemp(platform))),
                                         k8s_emulator, shadow_root)
                   for platform, converge in (("azure", _converge_azure), ("gcp", _converge_gcp))}
        return {platform: future.result() for platform, future in futures.items()}


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """inventories/local rendered through the same wrapper, for the contract comparison."""
    workdir = str(tmp_path_factory.mktemp("local"))
    run = manifests.run_playbook("local", os.path.join(workdir, "render"), playbook=CONTRACT_PLAYBOOK,
                                 extra_vars={"cloud_contract_file": os.path.join(workdir, "contract.json")})
    assert run.returncode == 0, run.tail()
    with open(os.path.join(workdir, "contract.json")) as stream:
        contract = json.load(stream)
    volumes = [document for _path, document in manifests.load_manifests(os.path.join(workdir, "render"))
               if document["kind"] == "PersistentVolume"]
    return contract, volumes


@pytest.fixture(params=["azure", "gcp"])
def cloud(request, converged):
    return converged[request.param]


def test_site_yml_converges_and_a_second_run_changes_nothing(cloud):
    first = cloud.runs[0]
    assert first.returncode == 0, "site.yml -i inventories/%s failed:\n%s" % (cloud.platform, first.tail())
    second = cloud.runs[1]
    assert second.returncode == 0, second.tail()
    # The wrapper's own "Write the facts" task writes a new file per run; nothing else may change.
    changed = [task for task in second.changed_tasks() if not task.startswith("Write the facts")]
    assert not changed, "second run changed: %s" % changed


def test_every_cloud_call_passes_the_real_argument_spec(cloud):
    calls = module_calls.read_calls(cloud.call_log)
    made = [entry for entry in calls if "module" in entry]
    assert made, "no cloud module was called"
    invalid = [entry for entry in made if not entry["valid"]]
    assert not invalid, invalid
    called = {entry["module"] for entry in _calls_of_run(cloud, 0)}
    assert EXPECTED_MODULES[cloud.platform] <= called, sorted(EXPECTED_MODULES[cloud.platform] - called)


def test_no_secret_reaches_the_call_log_or_the_output(cloud):
    with open(cloud.call_log) as stream:
        log = stream.read()
    secrets = [cloud_fakes.FAKE_ACCOUNT_KEY, "fake-secret-value", GCP_TOKEN]
    for run in cloud.runs:
        for secret in secrets:
            assert secret not in run.output
    for secret in secrets:
        assert secret not in log
    for entry in module_calls.read_calls(cloud.call_log):
        for key in ("administrator_login_password", "password"):
            assert (entry.get("params") or {}).get(key) in (None, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "********"), entry


def test_nothing_is_opened_to_the_whole_internet(cloud):
    for entry in module_calls.read_calls(cloud.call_log):
        params = entry.get("params") or {}
        assert params.get("start_ip_address") not in ("0.0.0.0",), entry
        networks = (((params.get("settings") or {}).get("ip_configuration") or {}).get("authorized_networks") or [])
        assert "0.0.0.0/0" not in [network.get("value") for network in networks], entry


def test_kubeconfig_is_private(cloud):
    path = cloud.contract(0)["cluster_access_kubeconfig"]
    assert path and os.path.exists(path), cloud.contract(0)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    with open(path) as stream:
        config = yaml.safe_load(stream)
    assert config["clusters"] and config["users"] and config["current-context"]


def test_facts_for_the_airflow_layer_are_complete_and_of_the_same_shape(cloud, local):
    contract = cloud.contract(0)
    assert not cloud_contract.database_problems(contract["database"], cloud.platform)
    local_contract, local_volumes = local
    assert not cloud_contract.database_problems(local_contract["database"], "local")
    assert cloud_contract.shape(contract["database"]) == cloud_contract.shape(local_contract["database"])
    assert contract["fileshare"]["fileshare_storage_driver"] == DRIVERS[cloud.platform]
    assert contract["database"]["database_sslmode"] == {"azure": "require", "gcp": "verify-full"}[cloud.platform]
    assert not cloud_contract.volume_problems(local_volumes, "host_path")


def test_the_volumes_use_what_the_fileshare_role_provisioned(cloud, k8s_emulator):
    volumes = _list_objects(k8s_emulator, cloud.namespace, "PersistentVolume")
    problems = cloud_contract.volume_problems(volumes, DRIVERS[cloud.platform])
    assert not problems, problems
    values = inventory_vars(cloud.platform)
    if cloud.platform == "azure":
        handles = sorted(volume["spec"]["csi"]["volumeHandle"] for volume in volumes)
        assert handles == sorted("%s#%s#%s" % (values["fileshare_azure_resource_group"], values["fileshare_azure_account_name"],
                                               values["fileshare_azure_%s_share_name" % share]) for share in ("dags", "logs"))
        secrets = {item["metadata"]["name"]: item for item in _list_objects(k8s_emulator, cloud.namespace, "Secret")}
        key_secret = [item for name, item in secrets.items() if "azurestorageaccountkey" in (item.get("data") or {})]
        assert len(key_secret) == 1
        import base64  # pylint: disable=import-outside-toplevel
        assert base64.b64decode(key_secret[0]["data"]["azurestorageaccountkey"]).decode() == cloud_fakes.FAKE_ACCOUNT_KEY
    else:
        # One Filestore instance (the fake answers its address, 10.20.0.2), both volumes folders of its share.
        share = values["fileshare_filestore_share"]
        assert sorted((volume["spec"]["nfs"]["server"], volume["spec"]["nfs"]["path"]) for volume in volumes) == [
            ("10.20.0.2", "/%s/dags" % share), ("10.20.0.2", "/%s/logs" % share)]
        assert any(path.endswith(":setAddons") for _method, path, _body in cloud.gke_requests)
        # Deletion protection turned on once (the second run finds it on and sends nothing).
        assert [body["settings"]["deletionProtectionEnabled"] for method, _path, body in cloud.sql_requests
                if method == "PATCH"] == [True], cloud.sql_requests


def test_gcp_one_filestore_instance_holds_both_shares(converged):
    """fileshare_filestore_one_instance (the default): one gcp_filestore_instance call per run, for one
    instance with one file share, in the module's real argument spec; the instance the fake holds is it."""
    cloud = converged["gcp"]
    values = inventory_vars("gcp")
    for index in (0, 1):
        calls = _calls(cloud, index, "google.cloud.gcp_filestore_instance")
        assert [(call["params"]["name"], [share["name"] for share in call["params"]["file_shares"]]) for call in calls] == [
            (values["fileshare_filestore_instance"], [values["fileshare_filestore_share"]])], calls
        assert all(call["valid"] for call in calls)
    [instance] = cloud_fakes.stored(cloud.state_dir, "google.cloud.gcp_filestore_instance")
    assert instance["file_shares"] == [{"name": values["fileshare_filestore_share"], "capacity_gb": values["fileshare_filestore_capacity_gb"]}]


def test_gcp_share_setup_job_makes_the_folders_the_airflow_users(converged, k8s_emulator):
    """Filestore sends no export options (gcp_filestore_instance has none), so the share's root is
    root's: a Job, alone in a baseline namespace, creates the folders and hands them to 50000:0, as
    root with only CHOWN and FOWNER. Read back from the Kubernetes API emulator after the apply."""
    cloud = converged["gcp"]
    values = inventory_vars("gcp")
    setup = cloud.namespace + "-share-setup"
    [namespace] = _list_objects(k8s_emulator, setup, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    [job] = _list_objects(k8s_emulator, setup, "Job")
    assert job["metadata"]["name"].startswith("airflow-share-setup-")
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 0 and pod["automountServiceAccountToken"] is False
    [container] = pod["containers"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN", "FOWNER"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["command"][-2:] == ["/shares/share-0/dags", "/shares/share-0/logs"]
    assert "chown 50000:0" in container["command"][2] and "chmod u+rwX,g+rwX" in container["command"][2]
    assert [volume["nfs"] for volume in pod["volumes"]] == [{"server": "10.20.0.2", "path": "/" + values["fileshare_filestore_share"]}]
    assert [mount["mountPath"] for mount in container["volumeMounts"]] == ["/shares/share-0"]
    # The Airflow namespace has none: its restricted Pod Security would refuse it.
    assert not [item for item in _list_objects(k8s_emulator, cloud.namespace, "Job") if "share-setup" in item["metadata"]["name"]]


def test_azure_password_change_is_pushed_to_the_existing_server(converged, k8s_emulator, shadow_root):
    """azure_rm_postgresqlflexibleserver ignores a new password on an existing server: the role must
    push it with the generic ARM call (PATCH administratorLoginPassword), keep it in the Secret, and
    not send it again on the next run. Only the database role runs (--tags database)."""
    import base64  # pylint: disable=import-outside-toplevel

    cloud = converged["azure"]
    assert all(run.returncode == 0 for run in cloud.runs), cloud.runs[-1].tail()
    patches = [call for call in _calls_of_run(cloud, 1) if call.get("module") == "azure.azcollection.azure_rm_resource"
               and (call.get("params") or {}).get("method") == "PATCH"]
    assert not patches, "an unchanged password was sent again: %s" % patches
    new_password = "Changed-In-Inventory-%s" % os.urandom(6).hex()
    for password in (new_password, new_password):  # the change, then the same value again
        run = _run(cloud, shadow_root, k8s_emulator, AZURE_ENV, dict(AZURE_PUBLIC_ACCESS, database_azure_administrator_password=password),
                   arguments=["--tags", "cluster_access,database"])
        assert run.returncode == 0, run.tail()
        assert new_password not in run.output
    change, repeat = len(cloud.runs) - 2, len(cloud.runs) - 1

    def pushed(index):
        return [call for call in _calls_of_run(cloud, index) if call.get("module") == "azure.azcollection.azure_rm_resource"
                and (call.get("params") or {}).get("method") == "PATCH"]
    sent = pushed(change)
    assert len(sent) == 1 and sent[0]["valid"], sent
    assert sent[0]["params"]["resource_type"] == "flexibleServers"
    assert sent[0]["params"]["body"]["properties"]["administratorLoginPassword"] == new_password
    assert not pushed(repeat), "the password is pushed again although it did not change"
    stored = {item["metadata"]["name"]: item for item in _list_objects(k8s_emulator, cloud.namespace, "Secret")}
    credentials = [item for item in stored.values() if item["metadata"]["name"].endswith("-database-credentials")]
    assert len(credentials) == 1
    assert base64.b64decode(credentials[0]["data"]["password"]).decode() == new_password


def test_azure_builtin_pgbouncer_is_turned_on_once(converged, k8s_emulator, shadow_root):
    """pgbouncer_azure_builtin on a managed Flexible Server: the database role reads pgbouncer.enabled
    (azure_rm_postgresqlflexibleconfiguration_info, answered from the SDK's Configuration model: false, Azure's
    default) and sets it to true with the generic ARM call (azure_rm_resource PUT of the configurations
    sub-resource, valid for the module's real argument spec); the next run reads true and sends nothing. The
    converge runs without it never touched the parameter. Only cluster_access and database run (--tags)."""
    cloud = converged["azure"]
    assert all(run.returncode == 0 for run in cloud.runs), cloud.runs[-1].tail()

    def parameter_writes(index):
        return [call for call in _calls(cloud, index, "azure.azcollection.azure_rm_resource")
                if any(sub.get("type") == "configurations" for sub in (call.get("params") or {}).get("subresource") or [])]
    assert not parameter_writes(0) and not parameter_writes(1), "the converge runs changed a server parameter (TLS is on)"
    for _attempt in range(2):
        run = _run(cloud, shadow_root, k8s_emulator, AZURE_ENV, dict(AZURE_PUBLIC_ACCESS, pgbouncer_azure_builtin=True),
                   arguments=["--tags", "cluster_access,database"])
        assert run.returncode == 0, run.tail()
    first, second = len(cloud.runs) - 2, len(cloud.runs) - 1
    sent = parameter_writes(first)
    assert len(sent) == 1 and sent[0]["valid"], sent
    params = sent[0]["params"]
    assert (params["resource_type"], params["subresource"], params["body"]["properties"]["value"], params.get("method", "PUT")) == (
        "flexibleServers", [{"type": "configurations", "name": "pgbouncer.enabled"}], "true", "PUT")
    reads = [call["params"]["name"] for call in _calls(cloud, first, "azure.azcollection.azure_rm_postgresqlflexibleconfiguration_info")]
    assert sorted(reads) == ["pgbouncer.enabled", "require_secure_transport"]
    assert not parameter_writes(second), "pgbouncer.enabled was set again although the server has it on"
    # Nothing changed but the test wrapper's own contract file (a new path per run).
    changed = [task for task in cloud.runs[second].changed_tasks() if not task.startswith("Write the facts")]
    assert not changed, changed


# --- azure: network path, storage network rules, Entra ID kubeconfig, private access ---------------

def _calls(cloud, index, fqcn):
    return [call for call in _calls_of_run(cloud, index) if call.get("module") == fqcn]


def test_azure_firewall_allows_the_outbound_ips_read_from_the_aks_answer(converged):
    """azure_rm_aks_info answers ManagedCluster.as_dict() (network_profile.load_balancer_profile
    .effective_outbound_i_ps): the outbound public IP it names is resolved and gets its rule."""
    cloud = converged["azure"]
    assert cloud.runs[0].returncode == 0, cloud.runs[0].tail()
    lookups = _calls(cloud, 0, "azure.azcollection.azure_rm_publicipaddress_info")
    assert [(call["params"]["resource_group"], call["params"]["name"]) for call in lookups] == [("MC_rg_aks", "aks-outbound-1")]
    values = inventory_vars("azure")
    created = [call["params"] for call in _calls(cloud, 0, "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule")
               if call["params"]["state"] == "present"]
    assert [(rule["name"], rule["start_ip_address"], rule["end_ip_address"]) for rule in created] == [
        ("aks-%s-20-50-100-7" % values["cluster_access_azure_cluster_name"], "20.50.100.7", "20.50.100.7")]


def test_azure_firewall_removes_only_its_own_rules_for_gone_addresses(converged):
    """The server had a hand-made rule (office) and one of ours for an address the cluster no longer
    has: ours is deleted, the other is never touched, and the second run deletes nothing."""
    cloud = converged["azure"]
    values = inventory_vars("azure")
    deleted = [call["params"]["name"] for call in _calls(cloud, 0, "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule")
               if call["params"]["state"] == "absent"]
    assert deleted == [_stale_rule_name(values)]
    assert not [call for call in _calls(cloud, 1, "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule")
                if call["params"]["state"] == "absent"]
    remaining = sorted(rule["name"] for rule in cloud_fakes.stored(cloud.state_dir, "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule"))
    assert remaining == sorted(["office", "aks-%s-20-50-100-7" % values["cluster_access_azure_cluster_name"]])


def test_azure_storage_account_denies_networks_other_than_the_aks_subnet(converged):
    cloud = converged["azure"]
    [account] = [call["params"] for call in _calls(cloud, 0, "azure.azcollection.azure_rm_storageaccount")]
    acls = account["network_acls"]
    assert acls["default_action"] == "Deny" and acls["bypass"] == "AzureServices"
    assert acls["virtual_network_rules"] == [{"id": AKS_SUBNET_ID, "action": "Allow"}]
    assert not acls["ip_rules"]


@pytest.fixture(scope="module")
def azure_private(converged, k8s_emulator, shadow_root, tmp_path_factory):
    """inventories/azure as committed (private access), on a cluster with Entra ID integration whose
    user kubeconfig is the one AKS hands out (kubelogin, devicecode); cluster_access and database only.
    The written kubeconfig needs kubelogin, which is not here: the sink reads the emulator instead."""
    cloud = CloudRun("azure", str(tmp_path_factory.mktemp("azure-private")))
    values = inventory_vars("azure")
    with open(os.path.join(cloud.state_dir, "scenario.json"), "w") as stream:
        json.dump({"aks": {"name": values["cluster_access_azure_cluster_name"], "kubeconfig": cloud_fakes.aks_user_kubeconfig(),
                           "outbound_ip_ids": [AKS_OUTBOUND_IP_ID], "subnet_id": AKS_SUBNET_ID, "aad": True,
                           "workload_identity": True, "oidc_issuer_url": "https://westeurope.oic.prod-aks.azure.com/t/c/"},
                   "public_ips": {"aks-outbound-1": "20.50.100.7"}}, stream)
    run = _run(cloud, shadow_root, k8s_emulator, AZURE_ENV,
               {"sink_kubeconfig": k8s_emulator.kubeconfig, "cluster_access_azure_workload_identity_client_id": AZURE_WI_CLIENT_ID,
                "cluster_access_azure_workload_identity_manage": False},
               arguments=["--tags", "cluster_access,database"])
    return cloud, run


def test_azure_private_access_is_the_inventory_default(azure_private):
    cloud, run = azure_private
    assert run.returncode == 0, run.tail()
    values = inventory_vars("azure")
    [server] = [call["params"] for call in _calls(cloud, 0, "azure.azcollection.azure_rm_postgresqlflexibleserver")]
    assert server["network"] == {"delegated_subnet_resource_id": values["database_azure_delegated_subnet_id"],
                                 "private_dns_zone_arm_resource_id": values["database_azure_private_dns_zone_id"],
                                 "public_network_access": "Disabled"}
    assert not _calls(cloud, 0, "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule")
    assert not _calls(cloud, 0, "azure.azcollection.azure_rm_publicipaddress_info")


def test_azure_entra_id_kubeconfig_logs_in_without_a_person(azure_private):
    """AKS's user kubeconfig of an Entra ID cluster runs `kubelogin --login devicecode`; the written
    one uses the service principal (spn) of the run, with its secret left in the environment."""
    cloud, run = azure_private
    assert run.returncode == 0, run.tail()
    path = os.path.join(cloud.workdir, "kube", "aks.kubeconfig")  # cluster_access_azure_kubeconfig_path of _run
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as stream:
        text = stream.read()
    [user] = yaml.safe_load(text)["users"]
    exec_config = user["user"]["exec"]
    args = exec_config["args"]
    assert args[args.index("--login") + 1] == "spn" and "devicecode" not in args
    assert args[args.index("--client-id") + 1] == AZURE_ENV["AZURE_CLIENT_ID"]
    assert args[args.index("--tenant-id") + 1] == AZURE_ENV["AZURE_TENANT"]
    assert exec_config["interactiveMode"] == "Never"
    assert AZURE_ENV["AZURE_CLIENT_SECRET"] not in text and AZURE_ENV["AZURE_CLIENT_SECRET"] not in run.output


# --- workload identity: facts of the cloud outputs contract -----------------------------------------

def test_workload_identity_facts_are_empty_dicts_without_an_identity(local):
    """Part of the contract on every platform: the rbac and component roles read them."""
    local_contract, _volumes = local
    assert local_contract["cluster_access"] == {"cluster_access_service_account_annotations": {}, "cluster_access_pod_labels": {}}


def test_azure_workload_identity_of_your_own_is_handed_to_the_airflow_layer(azure_private):
    """The AKS answer (ManagedCluster.as_dict()) says workload identity and the OIDC issuer are on; the
    identity is the inventory's (cluster_access_azure_workload_identity_manage off): nothing is created."""
    cloud, run = azure_private
    assert run.returncode == 0, run.tail()
    assert cloud.contract(0)["cluster_access"] == {
        "cluster_access_service_account_annotations": {"azure.workload.identity/client-id": AZURE_WI_CLIENT_ID},
        "cluster_access_pod_labels": {"azure.workload.identity/use": "true"}}
    assert not [call for call in _calls(cloud, 0, "azure.azcollection.azure_rm_resource")
                if call["params"].get("provider") == "ManagedIdentity"]


@pytest.mark.parametrize("pool, succeeds", [("example-project.svc.id.goog", True), (None, False)],
                         ids=["workload-identity-on", "workload-identity-off"])
def test_gcp_workload_identity_needs_it_on_the_cluster(converged, k8s_emulator, shadow_root, tmp_path, pool, succeeds):
    """GKE answers workloadIdentityConfig.workloadPool only when Workload Identity is on: the Google
    service account is handed over then, and the run stops naming the variable otherwise."""
    values = inventory_vars("gcp")
    cloud = CloudRun("gcp", str(tmp_path))
    gke = {"name": values["cluster_access_gcp_cluster_name"], "location": values["cluster_access_gcp_location"]}
    if pool:
        gke["workload_pool"] = pool
    with open(os.path.join(cloud.state_dir, "scenario.json"), "w") as stream:
        json.dump({"gke": gke}, stream)
    account = "airflow-pods@%s.iam.gserviceaccount.com" % GCP_PROJECT
    env = {"GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": GCP_TOKEN, "GCP_PROJECT": GCP_PROJECT}
    run = _run(cloud, shadow_root, k8s_emulator, env,
               {"sink_kubeconfig": k8s_emulator.kubeconfig, "cluster_access_gcp_workload_identity_service_account": account,
                "cluster_access_gcp_workload_identity_manage": False, "database_gcp_instance_name": ""},
               arguments=["--tags", "cluster_access"])
    if succeeds:
        assert run.returncode == 0, run.tail()
        assert cloud.contract(0)["cluster_access"] == {
            "cluster_access_service_account_annotations": {"iam.gke.io/gcp-service-account": account},
            "cluster_access_pod_labels": {}}
    else:
        assert run.returncode != 0
        assert "cluster_access_gcp_workload_identity_service_account" in run.output[run.output.find("fatal:"):]


# --- workload identity: the identity the cloud role creates for the Airflow pods ---------------------

# cluster_access_gcp_workload_identity_account_id's default, airflow-<namespace>, in GCP_PROJECT.
GCP_WI_ACCOUNT = "airflow-cloud-gcp@%s.iam.gserviceaccount.com" % GCP_PROJECT
WI_USER = "roles/iam.workloadIdentityUser"


def _msi_calls(cloud, index):
    return [call["params"] for call in _calls(cloud, index, "azure.azcollection.azure_rm_resource")
            if call["params"].get("provider") == "ManagedIdentity"]


def _expected_identity(cloud):
    """(ServiceAccount annotations, pod labels) the created identity must give."""
    if cloud.platform == "gcp":
        return {"iam.gke.io/gcp-service-account": GCP_WI_ACCOUNT}, {}
    [identity] = [params for params in _msi_calls(cloud, 0) if not params["subresource"]]
    # The client id Azure assigned: the fake's answer (Identity(...).serialize() of azure-mgmt-msi).
    client_id = cloud_fakes.managed_identity(identity)["properties"]["clientId"]
    return {"azure.workload.identity/client-id": client_id}, {"azure.workload.identity/use": "true"}


def _cluster_objects(emulator, namespace):
    import kubernetes  # pylint: disable=import-outside-toplevel

    client = kubernetes.config.new_client_from_config(config_file=emulator.kubeconfig)
    core, apps, batch = kubernetes.client.CoreV1Api(client), kubernetes.client.AppsV1Api(client), kubernetes.client.BatchV1Api(client)
    serialize = client.sanitize_for_serialization
    return {"ServiceAccount": [serialize(item) for item in core.list_namespaced_service_account(namespace).items],
            "Deployment": [serialize(item) for item in apps.list_namespaced_deployment(namespace).items],
            "CronJob": [serialize(item) for item in batch.list_namespaced_cron_job(namespace).items],
            "ConfigMap": [serialize(item) for item in core.list_namespaced_config_map(namespace).items]}


def test_the_created_identity_is_handed_to_the_airflow_layer(cloud):
    """inventories/gcp and inventories/azure create the pods' identity (…_workload_identity_manage: true):
    the contract facts name it, on the first run and unchanged on the second."""
    assert all(run.returncode == 0 for run in cloud.runs[:2]), cloud.runs[-1].tail()
    annotations, labels = _expected_identity(cloud)
    for index in (0, 1):
        assert cloud.contract(index)["cluster_access"] == {"cluster_access_service_account_annotations": annotations,
                                                           "cluster_access_pod_labels": labels}


def test_gcp_creates_the_google_service_account_and_binds_each_airflow_service_account(converged):
    """google.cloud.gcp_iam_service_account creates the account; gcp_iam_policy_binding grants
    roles/iam.workloadIdentityUser to serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>] of every
    Airflow ServiceAccount, through fake_gcp_iam (which knows the account only once the shim created it).
    The second run reads the policy and writes nothing."""
    cloud = converged["gcp"]
    assert all(run.returncode == 0 for run in cloud.runs[:2]), cloud.runs[-1].tail()
    [account] = [call["params"] for call in _calls(cloud, 0, "google.cloud.gcp_iam_service_account")]
    assert (account["name"], account["project"], account["state"]) == (GCP_WI_ACCOUNT, GCP_PROJECT, "present")
    assert cloud.namespace in account["display_name"]
    members = [member for binding in cloud.iam_policies[("sa", GCP_WI_ACCOUNT)]["bindings"] if binding["role"] == WI_USER
               for member in binding["members"]]
    assert members == ["serviceAccount:%s.svc.id.goog[%s/%s]" % (GCP_PROJECT, cloud.namespace, name) for name in AIRFLOW_SERVICE_ACCOUNTS]
    writes = [(method, path) for method, path, _body in cloud.iam_requests if path.split("?")[0].endswith(":setIamPolicy")]
    assert writes == [("POST", "/v1/projects/%s/serviceAccounts/%s:setIamPolicy" % (GCP_PROJECT, GCP_WI_ACCOUNT))], cloud.iam_requests
    reads = [path for _method, path, _body in cloud.iam_requests if ":getIamPolicy" in path]
    assert len(reads) == 2  # one per run
    # Remote logging is off in the inventory: no bucket policy is touched.
    assert not [path for _method, path, _body in cloud.iam_requests if path.startswith("/storage/")]


def test_azure_creates_the_managed_identity_and_a_federated_credential_per_service_account(converged):
    """The identity (generic ARM PUT, idempotency on) comes first, then one federated credential per Airflow
    ServiceAccount: issuer = the OIDC issuer of the AKS answer (ManagedCluster.as_dict()), subject
    system:serviceaccount:<namespace>:<ksa>, audience api://AzureADTokenExchange. Second run: the same
    calls, nothing changed (the module's idempotency GET finds everything in place)."""
    cloud = converged["azure"]
    assert all(run.returncode == 0 for run in cloud.runs[:2]), cloud.runs[-1].tail()
    values = inventory_vars("azure")
    calls = _msi_calls(cloud, 0)
    identity, credentials = calls[0], calls[1:]
    assert not identity["subresource"]
    assert (identity["resource_group"], identity["resource_type"], identity["resource_name"]) == (
        values["cluster_access_azure_resource_group"], "userAssignedIdentities",
        "id-airflow-%s-%s" % (values["cluster_access_azure_cluster_name"], cloud.namespace))
    assert identity["body"]["location"] == "westeurope" and identity["idempotency"] and identity["api_version"] == "2023-01-31"
    assert identity["body"]["tags"]["airflow-k8s.cloud/managed-by"] == "airflow_k8s.cloud"
    assert all(params["resource_name"] == identity["resource_name"] and params["idempotency"] for params in credentials)
    assert [(params["subresource"], params["body"]) for params in credentials] == [
        ([{"type": "federatedIdentityCredentials", "name": "%s-%s" % (cloud.namespace, name)}],
         {"properties": {"issuer": AKS_OIDC_ISSUER, "subject": "system:serviceaccount:%s:%s" % (cloud.namespace, name),
                         "audiences": ["api://AzureADTokenExchange"]}})
        for name in AIRFLOW_SERVICE_ACCOUNTS]
    assert _msi_calls(cloud, 1) == calls
    assert len([item for item in cloud_fakes.stored(cloud.state_dir, "azure.azcollection.azure_rm_resource")
                if item.get("provider") == "ManagedIdentity"]) == 1 + len(AIRFLOW_SERVICE_ACCOUNTS)


def test_the_service_accounts_and_pods_carry_the_identity(cloud, k8s_emulator):
    """What the sink applied to the API emulator: every Airflow ServiceAccount has the identity's
    annotation; on azure every pod (Deployments, CronJobs, the task pod template) has the label the AKS
    workload identity webhook selects on, and on gcp none has it."""
    assert all(run.returncode == 0 for run in cloud.runs[:2]), cloud.runs[-1].tail()
    annotations, labels = _expected_identity(cloud)
    objects = _cluster_objects(k8s_emulator, cloud.namespace)
    accounts = {item["metadata"]["name"]: item["metadata"].get("annotations") or {} for item in objects["ServiceAccount"]}
    assert {"airflow-scheduler", "airflow-api-server", "airflow-dag-processor", "airflow-triggerer", "airflow-task"} <= set(accounts)
    assert set(accounts) <= set(AIRFLOW_SERVICE_ACCOUNTS) | {"default"}
    for name, found in accounts.items():
        if name != "default":
            assert annotations.items() <= found.items(), (name, found)
    templates = [item["spec"]["template"]["metadata"] for item in objects["Deployment"]]
    templates += [item["spec"]["jobTemplate"]["spec"]["template"]["metadata"] for item in objects["CronJob"]]
    [config] = [item for item in objects["ConfigMap"] if "pod_template_file.yaml" in (item.get("data") or {})]
    templates.append(yaml.safe_load(config["data"]["pod_template_file.yaml"])["metadata"])
    assert len(templates) >= 6
    for metadata in templates:
        if labels:
            assert labels.items() <= (metadata.get("labels") or {}).items(), metadata
        else:
            assert "azure.workload.identity/use" not in (metadata.get("labels") or {}), metadata


def test_gcp_remote_log_bucket_is_granted_to_the_created_account(k8s_emulator, shadow_root, tmp_path):
    """Remote logging to GCS on: the created Google service account gets roles/storage.objectAdmin on the log
    bucket (Cloud Storage IAM through fake_gcp_iam), next to the bucket's existing bindings, once."""
    values = inventory_vars("gcp")
    cloud = CloudRun("gcp", str(tmp_path))
    with open(os.path.join(cloud.state_dir, "scenario.json"), "w") as stream:
        json.dump({"gke": {"name": values["cluster_access_gcp_cluster_name"], "location": values["cluster_access_gcp_location"],
                           "workload_pool": GCP_PROJECT + ".svc.id.goog"}}, stream)
    env = {"GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": GCP_TOKEN, "GCP_PROJECT": GCP_PROJECT}
    owners = {"role": "roles/storage.legacyBucketOwner", "members": ["projectOwner:%s" % GCP_PROJECT]}
    with FakeGcpIam(token=GCP_TOKEN, account_source=cloud_fakes.created_service_account_project(cloud.state_dir)) as iam:
        iam.add_bucket("airflow-task-logs", bindings=[owners])
        extra = {"sink_kubeconfig": k8s_emulator.kubeconfig, "database_gcp_instance_name": "",
                 "cluster_access_gcp_iam_api_endpoint": iam.url, "cluster_access_gcp_storage_api_endpoint": iam.url,
                 "config_remote_logging_enabled": True, "config_remote_logging_provider": "gcp",
                 "config_remote_logging_bucket": "airflow-task-logs"}
        for _attempt in range(2):
            run = _run(cloud, shadow_root, k8s_emulator, env, extra, arguments=["--tags", "cluster_access"])
            assert run.returncode == 0, run.tail()
        account = "airflow-%s@%s.iam.gserviceaccount.com" % (cloud.namespace, GCP_PROJECT)
        assert iam.members("bucket", "airflow-task-logs", "roles/storage.objectAdmin") == ["serviceAccount:" + account]
        assert owners in iam.policies[("bucket", "airflow-task-logs")]["bindings"]
        assert [method for method, path, _body in iam.requests if path.startswith("/storage/")] == ["GET", "PUT", "GET"]
    assert not [task for task in cloud.runs[1].changed_tasks() if not task.startswith("Write the facts")]


def test_azure_remote_log_storage_is_granted_to_the_created_identity(k8s_emulator, shadow_root, tmp_path):
    """Remote logging to Blob Storage on, with the log container's resource id: the created identity's principal
    (principalId of the ARM answer) gets Storage Blob Data Contributor there (azure_rm_roleassignment), once."""
    values = inventory_vars("azure")
    cloud = CloudRun("azure", str(tmp_path))
    with open(k8s_emulator.kubeconfig) as stream:
        scenario = {"aks": {"name": values["cluster_access_azure_cluster_name"], "kubeconfig": stream.read(),
                            "outbound_ip_ids": [AKS_OUTBOUND_IP_ID], "subnet_id": AKS_SUBNET_ID,
                            "workload_identity": True, "oidc_issuer_url": AKS_OIDC_ISSUER},
                    "public_ips": {"aks-outbound-1": "20.50.100.7"}}
    with open(os.path.join(cloud.state_dir, "scenario.json"), "w") as stream:
        json.dump(scenario, stream)
    subscription = "11111111-2222-3333-4444-555555555555"
    scope = ("/subscriptions/%s/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/airflowlogs/"
             "blobServices/default/containers/airflow-logs" % subscription)
    extra = dict(AZURE_PUBLIC_ACCESS, sink_kubeconfig=k8s_emulator.kubeconfig, config_remote_logging_enabled=True,
                 config_remote_logging_provider="azure", config_remote_logging_bucket="airflow-logs",
                 cluster_access_azure_workload_identity_log_scope=scope)
    for _attempt in range(2):
        run = _run(cloud, shadow_root, k8s_emulator, AZURE_ENV, extra, arguments=["--tags", "cluster_access"])
        assert run.returncode == 0, run.tail()
    [identity] = [params for params in _msi_calls(cloud, 0) if not params["subresource"]]
    principal = cloud_fakes.managed_identity(identity)["properties"]["principalId"]
    for index in (0, 1):
        [assignment] = [call["params"] for call in _calls(cloud, index, "azure.azcollection.azure_rm_roleassignment")]
        assert assignment == dict(assignment, assignee_object_id=principal, scope=scope, state="present",
                                  role_definition_id="/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/"
                                                     "ba92f5b4-2d11-453d-a403-e96b0029c9fe" % subscription)
    assert len(cloud_fakes.stored(cloud.state_dir, "azure.azcollection.azure_rm_roleassignment")) == 1
    assert not [task for task in cloud.runs[1].changed_tasks() if not task.startswith("Write the facts")]


@pytest.mark.parametrize("platform", ["azure", "gcp"])
def test_no_identity_is_created_for_a_cluster_that_cannot_use_it(platform, k8s_emulator, shadow_root, tmp_path):
    """A cluster without Workload Identity (GKE: no workloadIdentityConfig; AKS: workload identity and the
    OIDC issuer off) stops the run naming the variable, before the identity is created."""
    values = inventory_vars(platform)
    cloud = CloudRun(platform, str(tmp_path))
    if platform == "gcp":
        scenario = {"gke": {"name": values["cluster_access_gcp_cluster_name"], "location": values["cluster_access_gcp_location"]}}
        env = {"GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": GCP_TOKEN, "GCP_PROJECT": GCP_PROJECT}
        extra = {"database_gcp_instance_name": ""}
        variable, creating = "cluster_access_gcp_workload_identity_manage", "google.cloud.gcp_iam_service_account"
    else:
        with open(k8s_emulator.kubeconfig) as stream:
            scenario = {"aks": {"name": values["cluster_access_azure_cluster_name"], "kubeconfig": stream.read(),
                                "outbound_ip_ids": [AKS_OUTBOUND_IP_ID], "subnet_id": AKS_SUBNET_ID}}
        env, extra = AZURE_ENV, dict(AZURE_PUBLIC_ACCESS)
        variable, creating = "cluster_access_azure_workload_identity_manage", "azure.azcollection.azure_rm_resource"
    with open(os.path.join(cloud.state_dir, "scenario.json"), "w") as stream:
        json.dump(scenario, stream)
    extra["sink_kubeconfig"] = k8s_emulator.kubeconfig
    run = _run(cloud, shadow_root, k8s_emulator, env, extra, arguments=["--tags", "cluster_access"])
    assert run.returncode != 0
    assert variable in run.output[run.output.find("fatal:"):]
    assert not _calls(cloud, 0, creating)
    assert not [call for call in _calls_of_run(cloud, 0) if not call["valid"]]


# --- gcp: Cloud SQL TLS -----------------------------------------------------------------------------

def test_gcp_cloud_sql_requires_tls_without_client_certificates(converged):
    """requireSsl=true makes Cloud SQL demand client certificates, which Airflow (sslmode=require, no
    certificate) cannot present: the instance is created without require_ssl and switched to sslMode
    ENCRYPTED_ONLY through the Cloud SQL Admin API (fake_cloud_sql), once."""
    cloud = converged["gcp"]
    assert all(run.returncode == 0 for run in cloud.runs), cloud.runs[-1].tail()
    for call in _calls(cloud, 0, "google.cloud.gcp_sql_instance"):
        assert call["params"]["settings"]["ip_configuration"].get("require_ssl") is not True, call
    patches = [body for method, _path, body in cloud.sql_requests if method == "PATCH"]
    ssl_patches = [body["settings"]["ipConfiguration"] for body in patches if "ipConfiguration" in body["settings"]]
    assert ssl_patches == [{"sslMode": "ENCRYPTED_ONLY", "requireSsl": False}], patches
    assert cloud.sql_ssl_mode == "ENCRYPTED_ONLY"


def test_gcp_verify_full_uses_the_instance_server_ca(converged, k8s_emulator):
    """database_tls_mode verify-full on gcp: the CA is the instance's serverCaCert as
    google.cloud.gcp_sql_instance_info returns it (the fake answers in the API's SslCert shape with a real
    certificate), handed over in the contract, written to the ConfigMap every Airflow pod mounts, and named
    by the metadata connection as its sslrootcert."""
    import base64  # pylint: disable=import-outside-toplevel
    import kubernetes  # pylint: disable=import-outside-toplevel
    from urllib.parse import parse_qsl, urlsplit  # pylint: disable=import-outside-toplevel

    cloud = converged["gcp"]
    assert all(run.returncode == 0 for run in cloud.runs), cloud.runs[-1].tail()
    expected = cloud_fakes.server_ca(cloud.state_dir, inventory_vars("gcp")["database_gcp_instance_name"])["cert"]
    contract = cloud.contract(0)["database"]
    assert contract["database_sslmode"] == "verify-full"
    assert contract["database_tls_ca"].strip() == expected.strip()
    client = kubernetes.config.new_client_from_config(config_file=k8s_emulator.kubeconfig)
    core = kubernetes.client.CoreV1Api(client)
    prefix = "airflow"
    config_map = core.read_namespaced_config_map(prefix + "-database-ca", cloud.namespace)
    assert config_map.data["ca.pem"].strip() == expected.strip()
    secret = core.read_namespaced_secret(prefix + "-metadata", cloud.namespace)
    query = dict(parse_qsl(urlsplit(base64.b64decode(secret.data["connection"]).decode()).query))
    assert query == {"sslmode": "verify-full", "sslrootcert": "/etc/airflow/database-ca/ca.pem"}


# --- the harness itself can fail ------------------------------------------------------------------

@pytest.mark.parametrize("fqcn, args, expected", [
    ("azure.azcollection.azure_rm_storageaccount",
     {"resource_group": "rg", "name": "acct", "kind": "StorageV3"}, "kind"),
    ("azure.azcollection.azure_rm_storageaccount",
     {"resource_group": "rg", "name": "acct", "https_onyl": True}, "https_onyl"),
    ("azure.azcollection.azure_rm_postgresqlflexiblefirewallrule",
     {"resource_group": "rg", "name": "rule", "start_ip_address": "1.2.3.4"}, "server_name"),
    ("azure.azcollection.azure_rm_lock", {"name": "lock", "resource_group": "rg", "state": "present"}, "level"),
    ("google.cloud.gcp_filestore_instance",
     {"auth_kind": "accesstoken", "name": "x", "tier": "BASIC_HDD", "zone": "z", "networks": [{"network": "default", "modes": ["MODE_IPV4"]}],
      "file_shares": [{"name": "dags", "capacity_gb": "a lot"}]}, "capacity_gb"),
    ("google.cloud.gcp_sql_user", {"name": "u", "host": "", "instance": {"name": "i"}}, "auth_kind"),
], ids=["invalid-choice", "typo", "missing-required", "required-if", "wrong-type-in-suboption", "missing-env-credential"])
def test_a_wrong_argument_fails_in_the_shim(tmp_path, shadow_root, fqcn, args, expected, monkeypatch):
    monkeypatch.delenv("GCP_AUTH_KIND", raising=False)
    call_log = str(tmp_path / "calls.jsonl")
    os.makedirs(str(tmp_path / "cloud"))
    returncode, result = module_calls.run_shim(fqcn, args, shadow_root, str(tmp_path / "cloud"), call_log)
    assert returncode != 0 and result.get("failed"), result
    assert expected in result["msg"], result["msg"]
    assert [entry["valid"] for entry in module_calls.read_calls(call_log)] == [False]


def test_a_right_argument_passes_in_the_shim(tmp_path, shadow_root):
    call_log = str(tmp_path / "calls.jsonl")
    os.makedirs(str(tmp_path / "cloud"))
    args = {"resource_group": "rg", "name": "acct", "kind": "StorageV2", "https_only": True, "minimum_tls_version": "TLS1_2",
            "secret": "do-not-log-me"}
    returncode, result = module_calls.run_shim("azure.azcollection.azure_rm_storageaccount", args, shadow_root,
                                               str(tmp_path / "cloud"), call_log)
    assert returncode == 0 and result["changed"], result
    [entry] = module_calls.read_calls(call_log)
    assert entry["valid"] and entry["params"]["kind"] == "StorageV2"
    assert "do-not-log-me" not in json.dumps(entry)
    returncode, result = module_calls.run_shim("azure.azcollection.azure_rm_storageaccount", args, shadow_root,
                                               str(tmp_path / "cloud"), call_log)
    assert returncode == 0 and not result["changed"], result


# --- destroy keeping the database, then deploy again -----------------------------------------------

GCP_ENV = {"GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": GCP_TOKEN, "GCP_PROJECT": GCP_PROJECT}


def _stored_database_password(emulator, cloud):
    """The password in the credentials Secret of the namespace, or None when the Secret is gone."""
    import base64  # pylint: disable=import-outside-toplevel

    secrets = [item for item in _list_objects(emulator, cloud.namespace, "Secret")
               if item["metadata"]["name"].endswith("-database-credentials")]
    return base64.b64decode(secrets[0]["data"]["password"]).decode() if secrets else None


def _digest(password):
    import hashlib  # pylint: disable=import-outside-toplevel

    return hashlib.sha256(password.encode()).hexdigest()


@pytest.fixture(scope="module")
def redeployed(converged, k8s_emulator, shadow_root):
    """On each cloud: playbooks/destroy.yml with its defaults (the database is KEPT; the namespace, and
    with it the only copy of the password, is deleted), then site.yml twice. {platform: facts}.

    The server's password is the fakes' state: the Flexible Server's is what
    azure_rm_postgresqlflexibleserver sent when it created the server, changed only by an ARM PATCH
    (cloud_fakes; the real module ignores the password of an existing server); the Cloud SQL login's
    is what fake_cloud_sql holds (users.update), seeded with the password the first deploy set."""
    results = {}
    for platform, cloud in converged.items():
        assert all(run.returncode == 0 for run in cloud.runs), cloud.runs[-1].tail()
        before = _stored_database_password(k8s_emulator, cloud)
        facts = {"before": before}
        values = inventory_vars(platform)
        with FakeCloudSql(token=GCP_TOKEN) as sql, FakeGke(token=GCP_TOKEN) as gke, \
                FakeGcpIam(token=GCP_TOKEN, account_source=cloud_fakes.created_service_account_project(cloud.state_dir)) as iam:
            if platform == "azure":
                facts["server_before"] = cloud_fakes.server_password_digest(cloud.state_dir, values["database_azure_server_name"])
                env, deploy_extra = AZURE_ENV, dict(AZURE_PUBLIC_ACCESS)
                destroy_extra = {}
            else:
                gke.add_cluster(GCP_PROJECT, values["cluster_access_gcp_location"], values["cluster_access_gcp_cluster_name"])
                sql.add_instance(GCP_PROJECT, values["database_gcp_instance_name"], deletion_protection=True, ssl_mode="ENCRYPTED_ONLY")
                sql.add_user(GCP_PROJECT, values["database_gcp_instance_name"], values["database_gcp_username"], password=before)
                facts["server_before"] = [user["password"] for user in cloud_fakes.stored(cloud.state_dir, "google.cloud.gcp_sql_user")]
                env = GCP_ENV
                # As the converge ran (_converge_gcp): the fake IAM API, and verify-full with the instance's CA.
                deploy_extra = {"csi_driver_gcp_api_endpoint": gke.url, "sink_kubeconfig": k8s_emulator.kubeconfig,
                                "database_gcp_api_endpoint": sql.url, "cluster_access_gcp_iam_api_endpoint": iam.url,
                                "database_tls_mode": "verify-full"}
                destroy_extra = {"database_gcp_api_endpoint": sql.url}
            destroy_env = module_calls.shim_environment(shadow_root, cloud.state_dir, cloud.call_log)
            destroy_env.update(env)
            with open(cloud.call_log, "a") as stream:
                stream.write(json.dumps({"run": "destroy-keep"}) + "\n")
            facts["destroy"] = run_playbook(
                os.path.join("playbooks", "destroy.yml"), inventory=os.path.join("inventories", platform), env=destroy_env,
                extra_vars=dict(destroy_extra, airflow_namespace=cloud.namespace, sink_kubeconfig=k8s_emulator.kubeconfig,
                                destroy_confirm=platform,
                                cluster_access_azure_kubeconfig_path=os.path.join(cloud.workdir, "kube", "aks.kubeconfig"),
                                cluster_access_gcp_kubeconfig_path=os.path.join(cloud.workdir, "kube", "gke.kubeconfig")))
            facts["after_destroy"] = _stored_database_password(k8s_emulator, cloud)
            facts["first"] = len(cloud.runs)
            for dummy_run in range(2):
                _run(cloud, shadow_root, k8s_emulator, env, deploy_extra)
            facts["after"] = _stored_database_password(k8s_emulator, cloud)
            if platform == "azure":
                facts["server_after"] = cloud_fakes.server_password_digest(cloud.state_dir, values["database_azure_server_name"])
            else:
                facts["user_after"] = [user["password"] for user in cloud_fakes.stored(cloud.state_dir, "google.cloud.gcp_sql_user")]
                facts["server_after"] = sql.passwords[(GCP_PROJECT, values["database_gcp_instance_name"], values["database_gcp_username"], "")]
                facts["sql_requests"] = list(sql.requests)
        results[platform] = facts
    return results


def _password_pushes(cloud, index):
    if cloud.platform == "azure":
        return [call for call in _calls_of_run(cloud, index) if call.get("module") == "azure.azcollection.azure_rm_resource"
                and (call.get("params") or {}).get("method") == "PATCH"]
    return []


@pytest.mark.parametrize("platform", ["azure", "gcp"])
def test_a_redeploy_after_destroy_sets_its_password_on_the_kept_database(platform, redeployed, converged):
    """destroy.yml keeps the database and deletes the namespace that held the only copy of the
    password: the next deploy must not leave the server with a password nobody knows. It sets the
    password it stores on the existing server (Azure: ARM PATCH administratorLoginPassword; GCP:
    Cloud SQL users.update through cloud_sql_user_password), once: the run after it pushes nothing.
    Real: ansible-playbook, site.yml, destroy.yml, the roles, the Kubernetes API emulator (kmock);
    fakes: the argument-spec shims (cloud_fakes) and fake_cloud_sql / fake_gke."""
    cloud, facts = converged[platform], redeployed[platform]
    assert facts["destroy"].returncode == 0, facts["destroy"].tail()
    assert facts["before"] and facts["after_destroy"] is None, "the destroy must have deleted the credentials Secret"
    first, second = cloud.runs[facts["first"]], cloud.runs[facts["first"] + 1]
    assert first.returncode == 0, first.tail()
    assert second.returncode == 0, second.tail()
    assert facts["after"], "the redeploy stored no password"
    assert facts["after"] not in first.output + second.output
    if platform == "azure":
        assert facts["server_before"] == _digest(facts["before"])
        assert facts["server_after"] == _digest(facts["after"]), "the Flexible Server kept a password the Secret does not hold"
        [push] = _password_pushes(cloud, facts["first"])
        assert push["valid"] and push["params"]["resource_type"] == "flexibleServers"
        assert not _password_pushes(cloud, facts["first"] + 1), "the password is pushed again on the next run"
    else:
        # gcp_sql_user set the first password when it created the login, and ignores the new one.
        assert facts["server_before"] == facts["user_after"] == [_digest(facts["before"])]
        assert facts["server_after"] == facts["after"], "the Cloud SQL login kept a password the Secret does not hold"
        puts = [request for request in facts["sql_requests"] if request[0] == "PUT"]
        assert len(puts) == 1 and "/users" in puts[0][1], facts["sql_requests"]
    changed = [task for task in second.changed_tasks() if not task.startswith("Write the facts")]
    assert not changed, "the run after the redeploy changed: %s" % changed


# --- destroy ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def destroyed(converged, k8s_emulator, shadow_root):
    """playbooks/destroy.yml on both clouds (without the final backup), after every other test."""
    envs = {"azure": AZURE_ENV,
            "gcp": {"GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": GCP_TOKEN, "GCP_PROJECT": GCP_PROJECT}}
    results = {}
    for platform, cloud in converged.items():
        env = module_calls.shim_environment(shadow_root, cloud.state_dir, cloud.call_log)
        env.update(envs[platform])
        extra = {"airflow_namespace": cloud.namespace, "sink_kubeconfig": k8s_emulator.kubeconfig,
                 "destroy_confirm": platform, "destroy_final_snapshot": False,
                 "cluster_access_azure_kubeconfig_path": os.path.join(cloud.workdir, "kube", "aks.kubeconfig"),
                 "cluster_access_gcp_kubeconfig_path": os.path.join(cloud.workdir, "kube", "gke.kubeconfig")}
        with open(cloud.call_log, "a") as stream:
            stream.write(json.dumps({"run": "destroy"}) + "\n")
        # Only the GCP destroy calls the Cloud SQL Admin API; the instance is as the converge left it: protected.
        with FakeCloudSql(token=GCP_TOKEN) as sql:
            sql.add_instance(GCP_PROJECT, inventory_vars("gcp")["database_gcp_instance_name"], deletion_protection=True)
            if platform == "gcp":
                extra["database_gcp_api_endpoint"] = sql.url
            results[platform] = run_playbook(os.path.join("playbooks", "destroy.yml"), inventory=os.path.join("inventories", platform),
                                             extra_vars=extra, env=env)
            cloud.destroy_sql_requests = list(sql.requests)
    return results


@pytest.mark.parametrize("platform", ["azure", "gcp"])
def test_destroy_removes_only_what_was_created_with_valid_calls(platform, destroyed, converged):
    run = destroyed[platform]
    cloud = converged[platform]
    assert run.returncode == 0, run.tail()
    calls = _calls_of_run(cloud, "destroy")
    assert calls and all(entry["valid"] for entry in calls), [entry for entry in calls if not entry["valid"]]
    deleting = {entry["module"] for entry in calls if (entry.get("params") or {}).get("state") == "absent"}
    if platform == "azure":
        assert {"azure.azcollection.azure_rm_lock", "azure.azcollection.azure_rm_postgresqlflexibleserver",
                "azure.azcollection.azure_rm_storageaccount"} <= deleting, deleting
        remaining = [fqcn for fqcn in ("azure.azcollection.azure_rm_postgresqlflexibleserver",
                                       "azure.azcollection.azure_rm_storageaccount", "azure.azcollection.azure_rm_lock")
                     if cloud_fakes.stored(cloud.state_dir, fqcn)]
    else:
        assert {"google.cloud.gcp_filestore_instance", "google.cloud.gcp_sql_instance"} <= deleting, deleting
        # Deletion protection is turned off before the instance is deleted.
        assert [body for method, _path, body in cloud.destroy_sql_requests if method == "PATCH"] == [
            {"settings": {"deletionProtectionEnabled": False}}], cloud.destroy_sql_requests
        remaining = [fqcn for fqcn in ("google.cloud.gcp_filestore_instance", "google.cloud.gcp_sql_instance")
                     if cloud_fakes.stored(cloud.state_dir, fqcn)]
    assert not remaining, remaining
