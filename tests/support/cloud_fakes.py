# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canned answers of the cloud modules for the argument-spec shims (tests/support/module_calls.py).

Each responder gets the validated parameters and returns a result shaped like the module's RETURN
documentation (the keys the roles read: ``aks[0].kube_config``, ``storageaccounts[0]
.primary_endpoints.file.connectionstring``, ``servers[0].fully_qualified_domain_name``,
``resources[...]`` of the google.cloud info modules, ...). Writing modules remember what they
"created" in ``<state dir>/resources.json``, so the same call again reports ``changed: false`` and
a different one ``changed: true``; check mode stores nothing. ``<state dir>/scenario.json``
(written by the test) holds what a real cloud would already have: the AKS kubeconfig, the GKE
cluster, the outbound IPs. This is a fake cloud for checking calls, not a model of Azure or GCP.
"""

import base64
import fcntl
import hashlib
import json
import os

# Options that are credentials or module plumbing, not part of a resource.
_NOT_RESOURCE = {
    "ad_user", "adfs_authority_url", "api_profile", "auth_source", "cert_validation_mode", "client_id",
    "cloud_environment", "disable_instance_discovery", "password", "profile", "secret", "subscription_id", "tenant",
    "thumbprint", "x509_certificate_path", "log_mode", "log_path", "auth_kind", "service_account_email",
    "service_account_file", "service_account_contents", "scopes", "env_type", "access_token", "append_tags",
}
# Options that name a resource (its identity in the store).
_IDENTITY = ("project", "resource_group", "server_name", "account_name", "zone", "instance", "name",
             "managed_resource_id", "url", "resource_name")
FAKE_ACCOUNT_KEY = base64.b64encode(b"fake-azure-storage-account-key-for-tests-only").decode()


def _load(path, default):
    if os.path.exists(path):
        with open(path) as stream:
            return json.load(stream)
    return default


def _identity(fqcn, params):
    parts = [fqcn]
    for key in _IDENTITY:
        value = params.get(key)
        if isinstance(value, dict):
            value = value.get("name")
        if value not in (None, ""):
            parts.append("%s=%s" % (key, value))
    return "|".join(parts)


def _desired(params):
    wanted = {key: value for key, value in params.items() if key not in _NOT_RESOURCE and value is not None}
    # Secrets are compared by digest, never stored.
    for key in ("administrator_login_password", "password"):
        if params.get(key):
            wanted[key] = hashlib.sha256(params[key].encode()).hexdigest()
    return wanted


def _store_write(state_dir, fqcn, params, check_mode):
    """Generic create/update/delete: returns (changed, stored resource or None)."""
    path = os.path.join(state_dir, "resources.json")
    with open(os.path.join(state_dir, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        resources = _load(path, {})
        key = _identity(fqcn, params)
        current = resources.get(key)
        if params.get("state", "present") == "absent":
            changed = current is not None
            if changed and not check_mode:
                del resources[key]
            new = None
        else:
            new = _desired(params)
            changed = current != new
            if changed and not check_mode:
                resources[key] = new
        if not check_mode:
            with open(path, "w") as stream:
                json.dump(resources, stream, indent=1, sort_keys=True)
    return changed, new


def stored(state_dir, fqcn):
    """Resources a module "created": list of their stored parameters."""
    resources = _load(os.path.join(state_dir, "resources.json"), {})
    return [value for key, value in sorted(resources.items()) if key.split("|")[0] == fqcn]


# --- azure ----------------------------------------------------------------------------------------

def _aks_info(params, scenario, _state_dir, _check_mode):
    cluster = scenario.get("aks", {})
    if params.get("name") != cluster.get("name"):
        return {"changed": False, "aks": [], "available_versions": []}
    item = {
        "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/%s/providers/"
              "Microsoft.ContainerService/managedClusters/%s" % (params.get("resource_group"), cluster["name"]),
        "name": cluster["name"], "location": "westeurope",
        "properties": {"networkProfile": {"loadBalancerProfile": {"effectiveOutboundIPs": [
            {"id": ip_id} for ip_id in cluster.get("outbound_ip_ids", [])]}}},
    }
    if params.get("show_kubeconfig"):
        item["kube_config"] = [cluster["kubeconfig"]]
    return {"changed": False, "aks": [item], "available_versions": []}


def _public_ip_info(params, scenario, _state_dir, _check_mode):
    address = scenario.get("public_ips", {}).get(params.get("name"))
    items = [{"name": params["name"], "ip_address": address, "version": "ipv4"}] if address else []
    return {"changed": False, "publicipaddresses": items}


def _storage_account_info(params, _scenario, state_dir, _check_mode):
    accounts = [account for account in stored(state_dir, "azure.azcollection.azure_rm_storageaccount")
                if account["name"] == params.get("name")]
    items = []
    for account in accounts:
        endpoint = "https://%s.file.core.windows.net/" % account["name"]
        item = {"name": account["name"], "kind": account.get("kind"), "https_only": account.get("https_only"),
                "tags": account.get("tags") or {},
                "primary_endpoints": {"file": {"endpoint": endpoint}}}
        if params.get("show_connection_string"):
            item["primary_endpoints"]["file"]["connectionstring"] = (
                "DefaultEndpointsProtocol=https;EndpointSuffix=core.windows.net;AccountName=%s;AccountKey=%s;FileEndpoint=%s"
                % (account["name"], FAKE_ACCOUNT_KEY, endpoint))
        items.append(item)
    return {"changed": False, "storageaccounts": items}


def _flexible_server(params, _scenario, state_dir, check_mode):
    changed, new = _store_write(state_dir, "azure.azcollection.azure_rm_postgresqlflexibleserver", params, check_mode)
    state = {}
    if new:
        state = {"name": params["name"], "fully_qualified_domain_name": "%s.postgres.database.azure.com" % params["name"],
                 "version": params.get("version"), "resource_group": params.get("resource_group")}
    return {"changed": changed, "state": state}


def _flexible_server_info(params, _scenario, state_dir, _check_mode):
    servers = []
    for server in stored(state_dir, "azure.azcollection.azure_rm_postgresqlflexibleserver"):
        if server["name"] == params.get("name"):
            servers.append({
                "id": "/subscriptions/x/resourceGroups/%s/providers/Microsoft.DBforPostgreSQL/flexibleServers/%s"
                      % (server["resource_group"], server["name"]),
                "name": server["name"], "resource_group": server["resource_group"],
                "fully_qualified_domain_name": "%s.postgres.database.azure.com" % server["name"],
                "version": server.get("version"), "sku": server.get("sku"), "storage": server.get("storage"),
                "backup": server.get("backup"), "high_availability": server.get("high_availability"),
                "network": server.get("network") or {"public_network_access": "Enabled"}, "state": "Ready",
                "tags": server.get("tags"),
            })
    return {"changed": False, "servers": servers}


def _flexible_configuration_info(params, scenario, _state_dir, _check_mode):
    settings = scenario.get("flexible_server_configuration", {"require_secure_transport": "on"})
    names = [params["name"]] if params.get("name") else sorted(settings)
    return {"changed": False, "settings": [{"name": name, "value": settings[name], "source": "system-default"}
                                           for name in names if name in settings]}


# --- gcp ------------------------------------------------------------------------------------------

def _gke_cluster_info(params, scenario, _state_dir, _check_mode):
    cluster = scenario.get("gke", {})
    items = []
    if cluster and params.get("location") == cluster.get("location"):
        items.append({
            "name": cluster["name"], "location": cluster["location"], "endpoint": cluster.get("endpoint", "203.0.113.10"),
            "masterAuth": {"clusterCaCertificate": base64.b64encode(b"fake CA").decode()},
            "network": "default", "networkConfig": {"network": "projects/%s/global/networks/default" % params.get("project")},
            "privateClusterConfig": {"privateEndpoint": "10.0.0.2"},
        })
    return {"changed": False, "resources": items}


def _filestore_instance(params, _scenario, state_dir, check_mode):
    changed, new = _store_write(state_dir, "google.cloud.gcp_filestore_instance", params, check_mode)
    result = {"changed": changed}
    if new:
        result.update(_filestore_resource(new, state_dir))
    return result


def _filestore_resource(instance, state_dir):
    names = sorted(item["name"] for item in stored(state_dir, "google.cloud.gcp_filestore_instance"))
    index = names.index(instance["name"]) if instance["name"] in names else len(names)
    return {"name": "projects/%s/locations/%s/instances/%s" % (instance.get("project"), instance["zone"], instance["name"]),
            "tier": instance["tier"], "fileShares": [{"name": share["name"], "capacityGb": share["capacity_gb"]}
                                                     for share in instance["file_shares"]],
            "networks": [{"network": network["network"], "modes": network["modes"], "ipAddresses": ["10.20.0.%d" % (2 + 8 * index)]}
                         for network in instance["networks"]],
            "labels": instance.get("labels"), "state": "READY"}


def _filestore_instance_info(params, _scenario, state_dir, _check_mode):
    items = [_filestore_resource(instance, state_dir) for instance in stored(state_dir, "google.cloud.gcp_filestore_instance")
             if instance["zone"] == params.get("zone")]
    return {"changed": False, "resources": items}


def _sql_instance(params, _scenario, state_dir, check_mode):
    changed, new = _store_write(state_dir, "google.cloud.gcp_sql_instance", params, check_mode)
    result = {"changed": changed}
    if new:
        result.update(_sql_resource(new))
    return result


def _sql_resource(instance):
    ip_configuration = (instance.get("settings") or {}).get("ip_configuration") or {}
    addresses = [{"type": "PRIVATE", "ipAddress": "10.30.0.3"}] if ip_configuration.get("private_network") else []
    if ip_configuration.get("ipv4_enabled"):
        addresses.append({"type": "PRIMARY", "ipAddress": "198.51.100.7"})
    return {"name": instance["name"], "databaseVersion": instance.get("database_version"), "region": instance.get("region"),
            "ipAddresses": addresses, "state": "RUNNABLE",
            "settings": {"tier": (instance.get("settings") or {}).get("tier"),
                         "userLabels": (instance.get("settings") or {}).get("user_labels") or {},
                         "ipConfiguration": {"privateNetwork": ip_configuration.get("private_network"),
                                             "ipv4Enabled": ip_configuration.get("ipv4_enabled"),
                                             "requireSsl": ip_configuration.get("require_ssl"),
                                             "authorizedNetworks": [{"value": network.get("value")} for network in
                                                                    ip_configuration.get("authorized_networks") or []]}}}


def _sql_instance_info(_params, _scenario, state_dir, _check_mode):
    return {"changed": False, "resources": [_sql_resource(instance) for instance in stored(state_dir, "google.cloud.gcp_sql_instance")]}


def _generic_write(fqcn):
    def respond(params, _scenario, state_dir, check_mode):
        changed, new = _store_write(state_dir, fqcn, params, check_mode)
        result = {"changed": changed}
        if new:
            result["state"] = {key: value for key, value in new.items() if key not in ("password", "administrator_login_password")}
        return result
    return respond


RESPONDERS = {
    "azure.azcollection.azure_rm_aks_info": _aks_info,
    "azure.azcollection.azure_rm_publicipaddress_info": _public_ip_info,
    "azure.azcollection.azure_rm_storageaccount": _generic_write("azure.azcollection.azure_rm_storageaccount"),
    "azure.azcollection.azure_rm_storageshare": _generic_write("azure.azcollection.azure_rm_storageshare"),
    "azure.azcollection.azure_rm_storageaccount_info": _storage_account_info,
    "azure.azcollection.azure_rm_postgresqlflexibleserver": _flexible_server,
    "azure.azcollection.azure_rm_postgresqlflexibleserver_info": _flexible_server_info,
    "azure.azcollection.azure_rm_postgresqlflexibledatabase": _generic_write("azure.azcollection.azure_rm_postgresqlflexibledatabase"),
    "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule": _generic_write("azure.azcollection.azure_rm_postgresqlflexiblefirewallrule"),
    "azure.azcollection.azure_rm_postgresqlflexibleconfiguration_info": _flexible_configuration_info,
    "azure.azcollection.azure_rm_resource": _generic_write("azure.azcollection.azure_rm_resource"),
    "azure.azcollection.azure_rm_lock": _generic_write("azure.azcollection.azure_rm_lock"),
    "google.cloud.gcp_container_cluster_info": _gke_cluster_info,
    "google.cloud.gcp_filestore_instance": _filestore_instance,
    "google.cloud.gcp_filestore_instance_info": _filestore_instance_info,
    "google.cloud.gcp_sql_instance": _sql_instance,
    "google.cloud.gcp_sql_instance_info": _sql_instance_info,
    "google.cloud.gcp_sql_database": _generic_write("google.cloud.gcp_sql_database"),
    "google.cloud.gcp_sql_user": _generic_write("google.cloud.gcp_sql_user"),
}


def respond(fqcn, params, check_mode, state_dir):
    """The canned result of one validated call."""
    scenario = _load(os.path.join(state_dir, "scenario.json"), {})
    return RESPONDERS[fqcn](params, scenario, state_dir, check_mode)
