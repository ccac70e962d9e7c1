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
collections path; the collection's own ``gke_filestore_csi_driver`` and ``cloud_sql_instance_protection`` modules,
unmodified, talking HTTP to ``tests/support/fake_gke.py`` and ``tests/support/fake_cloud_sql.py``. There is no Azure or GCP: the shims answer with canned
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
    },
    "gcp": {
        "google.cloud.gcp_container_cluster_info", "google.cloud.gcp_sql_instance", "google.cloud.gcp_sql_database",
        "google.cloud.gcp_sql_user", "google.cloud.gcp_sql_instance_info", "google.cloud.gcp_filestore_instance",
        "google.cloud.gcp_filestore_instance_info",
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


def _converge_azure(cloud, emulator, shadow_root):
    values = inventory_vars("azure")
    with open(emulator.kubeconfig) as stream:
        kubeconfig = stream.read()
    outbound = "/subscriptions/0000/resourceGroups/MC_rg_aks/providers/Microsoft.Network/publicIPAddresses/aks-outbound-1"
    with open(os.path.join(cloud.state_dir, "scenario.json"), "w") as stream:
        json.dump({"aks": {"name": values["cluster_access_azure_cluster_name"], "kubeconfig": kubeconfig,
                           "outbound_ip_ids": [outbound]},
                   "public_ips": {"aks-outbound-1": "20.50.100.7"}}, stream)
    _create_csi_driver(emulator, "file.csi.azure.com")
    env = {"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000", "AZURE_CLIENT_ID": "fake-client",
           "AZURE_SECRET": "fake-secret-value", "AZURE_TENANT": "fake-tenant"}
    for dummy_attempt in range(2):
        # No sink_kubeconfig: the sink uses the kubeconfig cluster_access wrote from the AKS answer.
        if _run(cloud, shadow_root, emulator, env, {}).returncode != 0:
            break
    return cloud


def _converge_gcp(cloud, emulator, shadow_root):
    values = inventory_vars("gcp")
    with open(os.path.join(cloud.state_dir, "scenario.json"), "w") as stream:
        json.dump({"gke": {"name": values["cluster_access_gcp_cluster_name"], "location": values["cluster_access_gcp_location"],
                           "endpoint": "203.0.113.10"}}, stream)
    _create_csi_driver(emulator, "filestore.csi.storage.gke.io")
    env = {"GCP_AUTH_KIND": "accesstoken", "GCP_ACCESS_TOKEN": GCP_TOKEN, "GCP_PROJECT": GCP_PROJECT}
    with FakeGke(token=GCP_TOKEN) as gke, FakeCloudSql(token=GCP_TOKEN) as sql:
        gke.add_cluster(GCP_PROJECT, values["cluster_access_gcp_location"], values["cluster_access_gcp_cluster_name"])
        # The shimmed gcp_sql_instance creates nothing in the fake: the instance is there, unprotected.
        sql.add_instance(GCP_PROJECT, values["database_gcp_instance_name"], deletion_protection=False)
        for dummy_attempt in range(2):
            # The GKE kubeconfig authenticates with gke-gcloud-auth-plugin, which the emulator cannot
            # serve: the sink is pointed at the emulator, the written kubeconfig is checked as a file.
            overrides = {"csi_driver_gcp_api_endpoint": gke.url, "sink_kubeconfig": emulator.kubeconfig,
                         "database_gcp_api_endpoint": sql.url}
            if _run(cloud, shadow_root, emulator, env, overrides).returncode != 0:
                break
        cloud.gke_requests = list(gke.requests)
        cloud.sql_requests = list(sql.requests)
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
    assert contract["database"]["database_sslmode"] == "require"
    assert not cloud_contract.volume_problems(local_volumes, "host_path")


def test_the_volumes_use_what_the_fileshare_role_provisioned(cloud, k8s_emulator):
    volumes = _list_objects(k8s_emulator, cloud.namespace, "PersistentVolume")
    problems = cloud_contract.volume_problems(volumes, DRIVERS[cloud.platform])
    assert not problems, problems
    handles = sorted(volume["spec"]["csi"]["volumeHandle"] for volume in volumes)
    values = inventory_vars(cloud.platform)
    if cloud.platform == "azure":
        assert handles == sorted("%s#%s#%s" % (values["fileshare_azure_resource_group"], values["fileshare_azure_account_name"],
                                               values["fileshare_azure_%s_share_name" % share]) for share in ("dags", "logs"))
        secrets = {item["metadata"]["name"]: item for item in _list_objects(k8s_emulator, cloud.namespace, "Secret")}
        key_secret = [item for name, item in secrets.items() if "azurestorageaccountkey" in (item.get("data") or {})]
        assert len(key_secret) == 1
        import base64  # pylint: disable=import-outside-toplevel
        assert base64.b64decode(key_secret[0]["data"]["azurestorageaccountkey"]).decode() == cloud_fakes.FAKE_ACCOUNT_KEY
    else:
        ips = sorted(volume["spec"]["csi"]["volumeAttributes"]["ip"] for volume in volumes)
        assert ips == ["10.20.0.10", "10.20.0.2"]
        assert any(path.endswith(":setAddons") for _method, path, _body in cloud.gke_requests)
        # Deletion protection turned on once (the second run finds it on and sends nothing).
        assert [body for method, _path, body in cloud.sql_requests if method == "PATCH"] == [
            {"settings": {"deletionProtectionEnabled": True}}], cloud.sql_requests


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
    env = {"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000", "AZURE_CLIENT_ID": "fake-client",
           "AZURE_SECRET": "fake-secret-value", "AZURE_TENANT": "fake-tenant"}
    for password in (new_password, new_password):  # the change, then the same value again
        run = _run(cloud, shadow_root, k8s_emulator, env, {"database_azure_administrator_password": password},
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


# --- destroy ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def destroyed(converged, k8s_emulator, shadow_root):
    """playbooks/destroy.yml on both clouds (without the final backup), after every other test."""
    envs = {"azure": {"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000", "AZURE_CLIENT_ID": "fake-client",
                      "AZURE_SECRET": "fake-secret-value", "AZURE_TENANT": "fake-tenant"},
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
