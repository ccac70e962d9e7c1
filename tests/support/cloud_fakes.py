# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canned answers of the cloud modules for the argument-spec shims (tests/support/module_calls.py).

Each responder gets the validated parameters and returns a result in the module's real shape:
the Azure info answers are built from the model classes of the Azure SDK versions azure.azcollection
pins and converted as each module converts them (``as_dict()`` for azure_rm_aks_info, so
``aks[0].network_profile.load_balancer_profile.effective_outbound_i_ps``; the module's own field
list for the others); the google.cloud info modules return the REST API's JSON (camelCase
``resources[...]``), and so do these fakes. Writing modules remember what they
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
    # azure_rm_resource: a sub-resource (a server parameter) is a resource of its own.
    for sub in params.get("subresource") or []:
        parts.append("%s=%s" % (sub.get("type"), sub.get("name")))
    return "|".join(parts)


def _desired(params):
    wanted = {key: value for key, value in params.items() if key not in _NOT_RESOURCE and value is not None}
    # Secrets are compared by digest, never stored.
    for key in ("administrator_login_password", "password"):
        if params.get(key):
            wanted[key] = hashlib.sha256(params[key].encode()).hexdigest()
    return wanted


def _store_write(state_dir, fqcn, params, check_mode, kept=()):
    """Generic create/update/delete: returns (changed, stored resource or None). ``kept``: options an
    existing resource keeps whatever the call says (the real module ignores them once it exists)."""
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
            for option in kept if current is not None else ():
                new.pop(option, None)
                if option in current:
                    new[option] = current[option]
            changed = current != new
            if changed and not check_mode:
                resources[key] = new
        if not check_mode:
            with open(path, "w") as stream:
                json.dump(resources, stream, indent=1, sort_keys=True)
    return changed, new


def seed(state_dir, fqcn, params):
    """A resource that exists before the run (made by someone else, or by an earlier release)."""
    _store_write(state_dir, fqcn, dict(params, state="present"), check_mode=False)


def stored(state_dir, fqcn):
    """Resources a module "created": list of their stored parameters."""
    resources = _load(os.path.join(state_dir, "resources.json"), {})
    return [value for key, value in sorted(resources.items()) if key.split("|")[0] == fqcn]


# --- azure ----------------------------------------------------------------------------------------
# Every Azure answer is built from the model classes of the SDK versions azure.azcollection pins
# (requirements-test.txt), then converted exactly as the module converts it: ``as_dict()`` for
# azure_rm_aks_info (``serialize_obj``), the module's own ``format_item`` / ``pip_to_dict`` field
# lists for the others. So the keys are the SDK's snake_case attribute names
# (``network_profile.load_balancer_profile.effective_outbound_i_ps``), never REST camelCase.

AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"  # the AKS AAD server application (same in every tenant)
AKS_AAD_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"  # the Azure Kubernetes Service AAD client
AKS_TENANT = "72f988bf-0000-0000-0000-000000000000"
_AKS_USER_KUBECONFIG = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: %(server_url)s
  name: aks-airflow-example
contexts:
- context:
    cluster: aks-airflow-example
    user: clusterUser_rg-airflow-example_aks-airflow-example
  name: aks-airflow-example
current-context: aks-airflow-example
kind: Config
preferences: {}
users:
- name: clusterUser_rg-airflow-example_aks-airflow-example
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - %(server)s
      - --client-id
      - %(client)s
      - --tenant-id
      - %(tenant)s
      - --login
      - devicecode
      command: kubelogin
      env: null
      installHint: |2

        kubelogin is not installed which is required to connect to AAD enabled cluster.

        To learn more, please go to https://aka.ms/aks/kubelogin
      provideClusterInfo: false
"""


def aks_user_kubeconfig(server="https://aks-airflow-dns-0a1b2c3d.hcp.westeurope.azmk8s.io:443"):
    """The user kubeconfig AKS hands out (listClusterUserCredentials, `az aks get-credentials`) for a
    cluster with AKS-managed Entra ID integration: a kubelogin exec user with ``--login devicecode``."""
    return _AKS_USER_KUBECONFIG % {"server_url": server, "server": AKS_AAD_SERVER_ID, "client": AKS_AAD_CLIENT_ID,
                                   "tenant": AKS_TENANT}


def _with_readonly(model, **values):
    """Set attributes the SDK marks read-only (the service fills them; ``__init__`` ignores them)."""
    for key, value in values.items():
        setattr(model, key, value)
    return model


def aks_cluster(resource_group, cluster):
    """The ``aks[0]`` item azure_rm_aks_info returns: ``ManagedCluster.as_dict()``.

    ``cluster``: name, outbound_ip_ids, subnet_id, aad (bool: Entra ID integration),
    workload_identity (bool), oidc_issuer_url."""
    from azure.mgmt.containerservice import models  # pylint: disable=import-outside-toplevel

    load_balancer = models.ManagedClusterLoadBalancerProfile(
        effective_outbound_i_ps=[models.ResourceReference(id=ip_id) for ip_id in cluster.get("outbound_ip_ids", [])])
    managed = models.ManagedCluster(
        location="westeurope", kubernetes_version="1.31.2", dns_prefix=cluster["name"],
        agent_pool_profiles=[models.ManagedClusterAgentPoolProfile(
            name="nodepool1", count=3, vm_size="Standard_D4ds_v5", mode="System",
            vnet_subnet_id=cluster.get("subnet_id"))],
        network_profile=models.ContainerServiceNetworkProfile(
            network_plugin="azure", outbound_type="loadBalancer", load_balancer_sku="standard",
            load_balancer_profile=load_balancer),
        aad_profile=models.ManagedClusterAADProfile(managed=True, enable_azure_rbac=True, tenant_id="fake-tenant")
        if cluster.get("aad") else None,
        oidc_issuer_profile=models.ManagedClusterOIDCIssuerProfile(enabled=bool(cluster.get("oidc_issuer_url"))),
        security_profile=models.ManagedClusterSecurityProfile(
            workload_identity=models.ManagedClusterSecurityProfileWorkloadIdentity(enabled=bool(cluster.get("workload_identity")))),
    )
    _with_readonly(managed, name=cluster["name"], type="Microsoft.ContainerService/ManagedClusters",
                   provisioning_state="Succeeded", fqdn="%s-dns.hcp.westeurope.azmk8s.io" % cluster["name"],
                   id="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/%s/providers/"
                      "Microsoft.ContainerService/managedClusters/%s" % (resource_group, cluster["name"]))
    if cluster.get("oidc_issuer_url"):
        _with_readonly(managed.oidc_issuer_profile, issuer_url=cluster["oidc_issuer_url"])
    return managed.as_dict()


def _aks_info(params, scenario, _state_dir, _check_mode):
    cluster = scenario.get("aks", {})
    if params.get("name") != cluster.get("name"):
        return {"changed": False, "aks": [], "available_versions": []}
    item = aks_cluster(params.get("resource_group"), cluster)
    if params.get("show_kubeconfig"):
        item["kube_config"] = [cluster["kubeconfig"]]
    return {"changed": False, "aks": [item], "available_versions": []}


def public_ip_address(resource_group, name, address):
    """One ``publicipaddresses`` item of azure_rm_publicipaddress_info (its ``pip_to_dict`` of a
    ``PublicIPAddress`` model)."""
    from azure.mgmt.network import models  # pylint: disable=import-outside-toplevel

    pip = models.PublicIPAddress(
        id="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/%s/providers/Microsoft.Network/"
           "publicIPAddresses/%s" % (resource_group, name),
        location="westeurope", tags={}, public_ip_allocation_method="Static", public_ip_address_version="IPv4",
        ip_address=address, idle_timeout_in_minutes=4, sku=models.PublicIPAddressSku(name="Standard"), zones=["1", "2", "3"])
    _with_readonly(pip, name=name, type="Microsoft.Network/publicIPAddresses", provisioning_state="Succeeded", etag="W/\"1\"")
    return {"id": pip.id, "name": pip.name, "type": pip.type, "location": pip.location, "tags": pip.tags,
            "allocation_method": pip.public_ip_allocation_method.lower(), "version": pip.public_ip_address_version.lower(),
            "dns_settings": {}, "ip_tags": {}, "ip_address": pip.ip_address, "idle_timeout": pip.idle_timeout_in_minutes,
            "provisioning_state": pip.provisioning_state, "etag": pip.etag, "sku": pip.sku.name, "zones": pip.zones,
            "public_ip_prefix": None}


def _public_ip_info(params, scenario, _state_dir, _check_mode):
    address = scenario.get("public_ips", {}).get(params.get("name"))
    items = [public_ip_address(params.get("resource_group"), params["name"], address)] if address else []
    return {"changed": False, "publicipaddresses": items}


def _storage_account_info(params, _scenario, state_dir, _check_mode):
    from azure.mgmt.storage import models  # pylint: disable=import-outside-toplevel

    accounts = [account for account in stored(state_dir, "azure.azcollection.azure_rm_storageaccount")
                if account["name"] == params.get("name")]
    items = []
    for account in accounts:
        acls = account.get("network_acls") or {}
        rules = models.NetworkRuleSet(
            bypass=acls.get("bypass", "AzureServices"), default_action=acls.get("default_action", "Allow"),
            virtual_network_rules=[models.VirtualNetworkRule(virtual_network_resource_id=rule["id"], action="Allow")
                                   for rule in acls.get("virtual_network_rules") or []],
            ip_rules=[models.IPRule(ip_address_or_range=rule["value"], action="Allow") for rule in acls.get("ip_rules") or []])
        endpoint = "https://%s.file.core.windows.net/" % account["name"]
        model = models.StorageAccount(location="westeurope", tags=account.get("tags") or {}, network_rule_set=rules,
                                      enable_https_traffic_only=account.get("https_only"),
                                      minimum_tls_version=account.get("minimum_tls_version"),
                                      allow_blob_public_access=account.get("allow_blob_public_access"))
        _with_readonly(model, name=account["name"], kind=account.get("kind"),
                       primary_endpoints=models.Endpoints(file=endpoint))
        # The fields of azure_rm_storageaccount_info's account_obj_to_dict the roles read.
        item = {"name": model.name, "kind": model.kind, "https_only": model.enable_https_traffic_only,
                "minimum_tls_version": model.minimum_tls_version, "allow_blob_public_access": model.allow_blob_public_access,
                "tags": model.tags, "primary_endpoints": {"file": {"endpoint": model.primary_endpoints.file}},
                "network_acls": {"bypass": rules.bypass, "default_action": rules.default_action,
                                 "virtual_network_rules": [{"id": rule.virtual_network_resource_id, "action": rule.action}
                                                           for rule in rules.virtual_network_rules],
                                 "ip_rules": [{"value": rule.ip_address_or_range, "action": rule.action} for rule in rules.ip_rules]}}
        if params.get("show_connection_string"):
            item["primary_endpoints"]["file"]["connectionstring"] = (
                "DefaultEndpointsProtocol=https;EndpointSuffix=core.windows.net;AccountName=%s;AccountKey=%s;FileEndpoint=%s"
                % (account["name"], FAKE_ACCOUNT_KEY, endpoint))
        items.append(item)
    return {"changed": False, "storageaccounts": items}


def _flexible_server(params, _scenario, state_dir, check_mode):
    # azure_rm_postgresqlflexibleserver sends the password only when it creates the server.
    changed, new = _store_write(state_dir, "azure.azcollection.azure_rm_postgresqlflexibleserver", params, check_mode,
                                kept=("administrator_login_password",))
    state = {}
    if new:
        state = {"name": params["name"], "fully_qualified_domain_name": "%s.postgres.database.azure.com" % params["name"],
                 "version": params.get("version"), "resource_group": params.get("resource_group")}
    return {"changed": changed, "state": state}


def server_password_digest(state_dir, name):
    """SHA-256 of the administrator password the fake Flexible Server ``name`` has now (None: no server)."""
    for server in stored(state_dir, "azure.azcollection.azure_rm_postgresqlflexibleserver"):
        if server["name"] == name:
            return server.get("administrator_login_password")
    return None


def _arm_resource(params, scenario, state_dir, check_mode):
    """azure_rm_resource: stored like any write; a PATCH of a Flexible Server's
    ``properties.administratorLoginPassword`` also changes the password that server has (as
    ``az postgres flexible-server update --admin-password`` does)."""
    result = _generic_write("azure.azcollection.azure_rm_resource")(params, scenario, state_dir, check_mode)
    password = ((params.get("body") or {}).get("properties") or {}).get("administratorLoginPassword")
    if params.get("resource_type") == "flexibleServers" and params.get("method") == "PATCH" and password and not check_mode:
        fqcn = "azure.azcollection.azure_rm_postgresqlflexibleserver"
        path = os.path.join(state_dir, "resources.json")
        with open(os.path.join(state_dir, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            resources = _load(path, {})
            for key, server in resources.items():
                if key.split("|")[0] == fqcn and server["name"] == params.get("resource_name") \
                        and server.get("resource_group") == params.get("resource_group"):
                    digest = hashlib.sha256(password.encode()).hexdigest()
                    result["changed"] = result["changed"] or server.get("administrator_login_password") != digest
                    server["administrator_login_password"] = digest
            with open(path, "w") as stream:
                json.dump(resources, stream, indent=1, sort_keys=True)
    return result


def _flexible_server_info(params, _scenario, state_dir, _check_mode):
    """azure_rm_postgresqlflexibleserver_info's ``format_item`` of a ``Server`` model."""
    from azure.mgmt.postgresqlflexibleservers import models  # pylint: disable=import-outside-toplevel

    servers = []
    for server in stored(state_dir, "azure.azcollection.azure_rm_postgresqlflexibleserver"):
        if server["name"] != params.get("name"):
            continue
        network = server.get("network") or {"public_network_access": "Enabled"}
        model = models.Server(
            location="westeurope", tags=server.get("tags"), version=server.get("version"),
            administrator_login=server.get("administrator_login"),
            sku=models.Sku(name=(server.get("sku") or {}).get("name", "Standard_D2ds_v5"),
                           tier=(server.get("sku") or {}).get("tier", "GeneralPurpose")),
            storage=models.Storage(storage_size_gb=(server.get("storage") or {}).get("storage_size_gb")),
            backup=models.Backup(backup_retention_days=(server.get("backup") or {}).get("backup_retention_days"),
                                 geo_redundant_backup=(server.get("backup") or {}).get("geo_redundant_backup")),
            network=models.Network(public_network_access=network.get("public_network_access"),
                                   delegated_subnet_resource_id=network.get("delegated_subnet_resource_id"),
                                   private_dns_zone_arm_resource_id=network.get("private_dns_zone_arm_resource_id")),
            high_availability=models.HighAvailability(mode=(server.get("high_availability") or {}).get("mode")))
        _with_readonly(model, name=server["name"], state="Ready",
                       fully_qualified_domain_name="%s.postgres.database.azure.com" % server["name"],
                       id="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/%s/providers/"
                          "Microsoft.DBforPostgreSQL/flexibleServers/%s" % (server["resource_group"], server["name"]))
        servers.append({
            "id": model.id, "resource_group": params.get("resource_group"), "name": model.name,
            "sku": {"name": model.sku.name, "tier": model.sku.tier}, "location": model.location, "tags": model.tags,
            "system_data": {}, "administrator_login": model.administrator_login, "version": model.version,
            "minor_version": model.minor_version, "fully_qualified_domain_name": model.fully_qualified_domain_name,
            "storage": {"storage_size_gb": model.storage.storage_size_gb},
            "backup": {"backup_retention_days": model.backup.backup_retention_days,
                       "geo_redundant_backup": model.backup.geo_redundant_backup},
            "network": {"public_network_access": model.network.public_network_access,
                        "delegated_subnet_resource_id": model.network.delegated_subnet_resource_id,
                        "private_dns_zone_arm_resource_id": model.network.private_dns_zone_arm_resource_id},
            "high_availability": {"mode": model.high_availability.mode,
                                  "standby_availability_zone": model.high_availability.standby_availability_zone},
            "maintenance_window": {}, "source_server_resource_id": None, "point_in_time_utc": None,
            "availability_zone": None, "auth_config": {},
            "identity": models.UserAssignedIdentity(type="None").as_dict(),
        })
    return {"changed": False, "servers": servers}


def firewall_rule(resource_group, server_name, name, start, end):
    """One ``firewall_rules`` item of azure_rm_postgresqlflexiblefirewallrule_info (its ``format_item``
    of a ``FirewallRule`` model's ``as_dict()``)."""
    from azure.mgmt.postgresqlflexibleservers import models  # pylint: disable=import-outside-toplevel

    rule = _with_readonly(models.FirewallRule(start_ip_address=start, end_ip_address=end), name=name,
                          id="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/%s/providers/"
                             "Microsoft.DBforPostgreSQL/flexibleServers/%s/firewallRules/%s" % (resource_group, server_name, name))
    data = rule.as_dict()
    return {"resource_group": resource_group, "id": data["id"], "server_name": server_name, "name": data["name"],
            "start_ip_address": data["start_ip_address"], "end_ip_address": data["end_ip_address"]}


def _firewall_rule_info(params, _scenario, state_dir, _check_mode):
    """The server's rules: those the roles created and those the test seeded (:func:`seed`)."""
    rules = [rule for rule in stored(state_dir, "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule")
             if rule.get("server_name") == params.get("server_name") and rule.get("resource_group") == params.get("resource_group")]
    items = [firewall_rule(params["resource_group"], params["server_name"], rule["name"], rule["start_ip_address"],
                           rule["end_ip_address"]) for rule in sorted(rules, key=lambda rule: rule["name"])
             if not params.get("name") or rule["name"] == params["name"]]
    return {"changed": False, "firewall_rules": items}


def _flexible_configuration_info(params, scenario, state_dir, _check_mode):
    """azure_rm_postgresqlflexibleconfiguration_info's ``format_item`` of ``Configuration`` models."""
    from azure.mgmt.postgresqlflexibleservers import models  # pylint: disable=import-outside-toplevel

    # What the server has: the scenario's values (Azure's defaults), then what azure_rm_resource set.
    settings = {name: (value, "system-default") for name, value in
                scenario.get("flexible_server_configuration", {"require_secure_transport": "on", "pgbouncer.enabled": "false"}).items()}
    for written in stored(state_dir, "azure.azcollection.azure_rm_resource"):
        subresource = written.get("subresource") or []
        if (written.get("resource_type") == "flexibleServers" and written.get("resource_name") == params["server_name"]
                and written.get("resource_group") == params["resource_group"] and len(subresource) == 1
                and subresource[0].get("type") == "configurations"):
            properties = (written.get("body") or {}).get("properties") or {}
            settings[subresource[0]["name"]] = (properties.get("value"), properties.get("source", "user-override"))
    names = [params["name"]] if params.get("name") else sorted(settings)
    items = []
    for name in names:
        if name not in settings:
            continue
        configuration = _with_readonly(
            models.Configuration(value=settings[name][0], source=settings[name][1]), name=name,
            description="A server parameter of the Flexible Server.",
            id="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/%s/providers/Microsoft.DBforPostgreSQL/"
               "flexibleServers/%s/configurations/%s" % (params["resource_group"], params["server_name"], name)).as_dict()
        items.append({"resource_group": params["resource_group"], "server_name": params["server_name"],
                      "id": configuration["id"], "name": configuration["name"], "value": configuration["value"],
                      "description": configuration["description"], "source": configuration["source"]})
    return {"changed": False, "settings": items}


MSI_PROVIDERS = ("ManagedIdentity", "Microsoft.ManagedIdentity")
FAKE_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _msi_key(params):
    """Store identity of a Microsoft.ManagedIdentity call: the identity, or one of its federated credentials."""
    subresource = [item for item in params.get("subresource") or [] if item.get("name")]
    return dict(params, name=subresource[-1]["name"] if subresource else None)


def managed_identity(params):
    """The ARM JSON of a user-assigned identity (``Identity(...).serialize(keep_readonly=True)`` of
    azure-mgmt-msi: what azure_rm_resource and azure_rm_resource_info hand back, REST camelCase)."""
    import uuid  # pylint: disable=import-outside-toplevel

    from azure.mgmt.msi import models  # pylint: disable=import-outside-toplevel

    body = params.get("body") or {}
    model = models.Identity(location=body.get("location"), tags=body.get("tags"))
    seed = "%s/%s" % (params["resource_group"], params["resource_name"])
    return _with_readonly(
        model, name=params["resource_name"], type="Microsoft.ManagedIdentity/userAssignedIdentities", tenant_id=FAKE_TENANT,
        client_id=str(uuid.uuid5(uuid.NAMESPACE_URL, "client/" + seed)),
        principal_id=str(uuid.uuid5(uuid.NAMESPACE_URL, "principal/" + seed)),
        id="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/%s/providers/Microsoft.ManagedIdentity/"
           "userAssignedIdentities/%s" % (params["resource_group"], params["resource_name"])).serialize(keep_readonly=True)


def federated_credential(params):
    """The ARM JSON of a federated identity credential (``FederatedIdentityCredential(...).serialize()``)."""
    from azure.mgmt.msi import models  # pylint: disable=import-outside-toplevel

    properties = (params.get("body") or {}).get("properties") or {}
    name = params["subresource"][-1]["name"]
    model = models.FederatedIdentityCredential(issuer=properties.get("issuer"), subject=properties.get("subject"),
                                               audiences=properties.get("audiences"))
    return _with_readonly(
        model, name=name, type="Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        id="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/%s/providers/Microsoft.ManagedIdentity/"
           "userAssignedIdentities/%s/federatedIdentityCredentials/%s" % (params["resource_group"], params["resource_name"], name)
    ).serialize(keep_readonly=True)


def _msi_response(params):
    return federated_credential(params) if params.get("subresource") else managed_identity(params)


def _resource(params, scenario, state_dir, check_mode):
    """azure_rm_resource: Microsoft.ManagedIdentity calls answer the stored resource's ARM JSON (as the
    module returns it after its idempotency GET or its PUT); other providers as _arm_resource answers."""
    if params.get("provider") not in MSI_PROVIDERS:
        return _arm_resource(params, scenario, state_dir, check_mode)
    changed, new = _store_write(state_dir, "azure.azcollection.azure_rm_resource", _msi_key(params), check_mode)
    return {"changed": changed, "response": _msi_response(new) if new else None}


def _resource_info(params, _scenario, state_dir, _check_mode):
    """azure_rm_resource_info of one Microsoft.ManagedIdentity resource: ``response`` is a list with the
    resource's ARM JSON (status 200), or with ARM's error body (status 404) when it does not exist."""
    if params.get("provider") not in MSI_PROVIDERS:
        raise NotImplementedError("this fake reads Microsoft.ManagedIdentity resources only")
    key = _identity("azure.azcollection.azure_rm_resource", _msi_key(params))
    resources = _load(os.path.join(state_dir, "resources.json"), {})
    for stored_key, value in resources.items():
        if stored_key == key:
            return {"changed": False, "status_code": 200, "response": [_msi_response(value)], "url": "fake"}
    return {"changed": False, "status_code": 404, "url": "fake", "response": [{"error": {
        "code": "ResourceNotFound", "message": "The Resource '%s' under resource group '%s' was not found."
        % (params.get("resource_name"), params.get("resource_group"))}}]}


def _role_assignment(params, _scenario, state_dir, check_mode):
    """azure_rm_roleassignment by scope, assignee and role (no name, as the roles call it): the fields its
    ``set_results`` takes from ``roleassignment_to_dict`` of a ``RoleAssignment`` model of the API version the
    module uses (2020-04-01-preview of azure-mgmt-authorization)."""
    import uuid  # pylint: disable=import-outside-toplevel

    from azure.mgmt.authorization import AuthorizationManagementClient  # pylint: disable=import-outside-toplevel

    role = params["role_definition_id"].split("/")[-1].lower()
    key = "%s|%s|%s" % (params["scope"].rstrip("/").lower(), params["assignee_object_id"].lower(), role)
    changed, new = _store_write(state_dir, "azure.azcollection.azure_rm_roleassignment", dict(params, name=key), check_mode)
    result = {"changed": changed}
    if new and not (check_mode and changed):
        models = AuthorizationManagementClient.models("2020-04-01-preview")
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, key))
        model = _with_readonly(models.RoleAssignment(scope=params["scope"], role_definition_id=params["role_definition_id"],
                                                     principal_id=params["assignee_object_id"], principal_type="ServicePrincipal"),
                               id="%s/providers/Microsoft.Authorization/roleAssignments/%s" % (params["scope"], name), name=name,
                               type="Microsoft.Authorization/roleAssignments")
        result.update({"id": model.id, "name": model.name, "type": model.type, "assignee_object_id": model.principal_id,
                       "principal_type": model.principal_type, "role_definition_id": model.role_definition_id, "scope": model.scope})
    return result


# --- gcp ------------------------------------------------------------------------------------------

def _iam_service_account(params, _scenario, state_dir, check_mode):
    """google.cloud.gcp_iam_service_account: the IAM API's ServiceAccount JSON, with ``name`` decoded to the
    email as the module does (its ``decode_response``)."""
    import uuid  # pylint: disable=import-outside-toplevel

    changed, new = _store_write(state_dir, "google.cloud.gcp_iam_service_account", params, check_mode)
    result = {"changed": changed}
    if new:
        email = params["name"]
        result.update({"name": email, "projectId": params["project"], "email": email, "displayName": params.get("display_name"),
                       "uniqueId": str(uuid.uuid5(uuid.NAMESPACE_URL, email).int)[:21], "etag": "MDEwMjE5MjA=",
                       "oauth2ClientId": str(uuid.uuid5(uuid.NAMESPACE_URL, "oauth/" + email).int)[:21]})
    return result


def created_service_account_project(state_dir):
    """For tests/support/fake_gcp_iam.py: the project of a Google service account the shimmed
    gcp_iam_service_account created, by email (None for one it did not create)."""
    def lookup(email):
        for account in stored(state_dir, "google.cloud.gcp_iam_service_account"):
            if account["name"] == email:
                return account["project"]
        return None
    return lookup


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
        if cluster.get("workload_pool"):
            items[-1]["workloadIdentityConfig"] = {"workloadPool": cluster["workload_pool"]}
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
        result.update(_sql_resource(new, state_dir))
    return result


def server_ca(state_dir, instance):
    """The instance's server CA in the Admin API's SslCert shape (``serverCaCert`` of an instance): a real
    self-signed CA made once per instance (tests/support/certificates.py) and kept in the state dir, so
    every answer carries the same certificate, as Cloud SQL's does until the CA is rotated."""
    path = os.path.join(state_dir, "server-ca-%s.json" % instance)
    with open(os.path.join(state_dir, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(path):
            from tests.support.certificates import make_ca  # pylint: disable=import-outside-toplevel

            ca = make_ca("Google Cloud SQL Server CA")
            certificate = ca.certificate
            with open(path, "w") as stream:
                json.dump({"kind": "sql#sslCert", "certSerialNumber": str(certificate.serial_number), "cert": ca.cert_pem,
                           "commonName": "C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA,dnQualifier=%s" % instance,
                           "sha1Fingerprint": hashlib.sha1(ca.cert_der).hexdigest(),  # noqa: S324 - the API's field
                           "instance": instance,
                           "createTime": certificate.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                           "expirationTime": certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")}, stream)
        return _load(path, {})


def _sql_resource(instance, state_dir):
    ip_configuration = (instance.get("settings") or {}).get("ip_configuration") or {}
    addresses = [{"type": "PRIVATE", "ipAddress": "10.30.0.3"}] if ip_configuration.get("private_network") else []
    if ip_configuration.get("ipv4_enabled"):
        addresses.append({"type": "PRIMARY", "ipAddress": "198.51.100.7"})
    return {"name": instance["name"], "databaseVersion": instance.get("database_version"), "region": instance.get("region"),
            "ipAddresses": addresses, "state": "RUNNABLE", "serverCaCert": server_ca(state_dir, instance["name"]),
            "settings": {"tier": (instance.get("settings") or {}).get("tier"),
                         "userLabels": (instance.get("settings") or {}).get("user_labels") or {},
                         "ipConfiguration": {"privateNetwork": ip_configuration.get("private_network"),
                                             "ipv4Enabled": ip_configuration.get("ipv4_enabled"),
                                             "requireSsl": ip_configuration.get("require_ssl"),
                                             "authorizedNetworks": [{"value": network.get("value")} for network in
                                                                    ip_configuration.get("authorized_networks") or []]}}}


def _sql_instance_info(_params, _scenario, state_dir, _check_mode):
    instances = stored(state_dir, "google.cloud.gcp_sql_instance")
    return {"changed": False, "resources": [_sql_resource(instance, state_dir) for instance in instances]}


def _generic_write(fqcn, kept=()):
    def respond(params, _scenario, state_dir, check_mode):
        changed, new = _store_write(state_dir, fqcn, params, check_mode, kept)
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
    "azure.azcollection.azure_rm_postgresqlflexiblefirewallrule_info": _firewall_rule_info,
    "azure.azcollection.azure_rm_resource": _resource,
    "azure.azcollection.azure_rm_resource_info": _resource_info,
    "azure.azcollection.azure_rm_roleassignment": _role_assignment,
    "azure.azcollection.azure_rm_lock": _generic_write("azure.azcollection.azure_rm_lock"),
    "google.cloud.gcp_container_cluster_info": _gke_cluster_info,
    "google.cloud.gcp_iam_service_account": _iam_service_account,
    "google.cloud.gcp_filestore_instance": _filestore_instance,
    "google.cloud.gcp_filestore_instance_info": _filestore_instance_info,
    "google.cloud.gcp_sql_instance": _sql_instance,
    "google.cloud.gcp_sql_instance_info": _sql_instance_info,
    "google.cloud.gcp_sql_database": _generic_write("google.cloud.gcp_sql_database"),
    # gcp_sql_user sends the password only when it creates the user (the API never returns one).
    "google.cloud.gcp_sql_user": _generic_write("google.cloud.gcp_sql_user", kept=("password",)),
}


def respond(fqcn, params, check_mode, state_dir):
    """The canned result of one validated call."""
    scenario = _load(os.path.join(state_dir, "scenario.json"), {})
    return RESPONDERS[fqcn](params, scenario, state_dir, check_mode)
