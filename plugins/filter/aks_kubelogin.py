# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aks_kubelogin: make the kubeconfig of an Entra ID (AAD) AKS cluster log in without a person."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

# kubelogin's non-interactive login modes this collection supports, and what each takes from
# the kubeconfig (the rest comes from the environment of whoever runs the exec plugin):
#   spn               service principal: --client-id and --tenant-id in the file, the secret from
#                     AZURE_CLIENT_SECRET or AAD_SERVICE_PRINCIPAL_CLIENT_SECRET (never in the file)
#   workloadidentity  AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE (a pod with Azure
#                     workload identity, e.g. an AWX execution environment running in AKS)
#   azurecli          the session of `az login` (az on the PATH)
LOGIN_MODES = ("spn", "workloadidentity", "azurecli")
# Options of `kubelogin get-token` this conversion sets itself (with their value).
_REPLACED = ("--login", "-l", "--client-id", "--tenant-id", "-t", "--client-secret", "--password", "--username")


def _without(args, options):
    """``args`` without ``options`` (each followed by its value, or written --option=value)."""
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in options:
            skip = "=" not in arg
            continue
        kept.append(arg)
    return kept


def _value(args, options):
    for index, arg in enumerate(args):
        name, _sep, value = arg.partition("=")
        if name in options:
            return value if _sep else (args[index + 1] if index + 1 < len(args) else "")
    return ""


def aks_kubelogin(kubeconfig, login, client_id="", tenant_id=""):
    """The kubeconfig (YAML text) with every kubelogin exec user switched to the non-interactive
    ``login`` mode (``LOGIN_MODES``), as ``kubelogin convert-kubeconfig -l <login>`` does, with
    ``interactiveMode: Never``. Users without kubelogin (the admin certificate, a cluster with local
    accounts) are left as they are. The legacy ``auth-provider: azure`` form (AAD v1) is refused."""
    # Plain str: Ansible hands over tagged str subclasses, which yaml.safe_dump cannot represent.
    login, client_id, tenant_id = (str(to_text(value)) for value in (login, client_id or "", tenant_id or ""))
    if login not in LOGIN_MODES:
        raise AnsibleFilterError("aks_kubelogin: login must be one of %s, got %r" % (", ".join(LOGIN_MODES), login))
    try:
        config = yaml.safe_load(to_text(kubeconfig)) or {}
    except yaml.YAMLError as error:
        raise AnsibleFilterError("aks_kubelogin: the kubeconfig is not YAML: %s" % error)
    for entry in config.get("users") or []:
        user = entry.get("user") or {}
        if (user.get("auth-provider") or {}).get("name") == "azure":
            raise AnsibleFilterError(
                "aks_kubelogin: user %s uses the retired auth-provider 'azure' (AKS AAD v1): migrate the cluster "
                "to AKS-managed Entra ID integration" % entry.get("name"))
        exec_config = user.get("exec") or {}
        if exec_config.get("command", "").split("/")[-1] != "kubelogin":
            continue
        args = list(exec_config.get("args") or [])
        tenant = tenant_id or _value(args, ("--tenant-id", "-t"))
        args = _without(args, _REPLACED)
        if login == "spn":
            if not client_id or not tenant:
                raise AnsibleFilterError("aks_kubelogin: login spn needs the service principal's client id and tenant id")
            args += ["--client-id", client_id, "--tenant-id", tenant]
        args += ["--login", login]
        exec_config["args"] = args
        exec_config["interactiveMode"] = "Never"
        user["exec"] = exec_config
    return yaml.safe_dump(config, default_flow_style=False, sort_keys=False)


class FilterModule(object):
    """Kubeconfig conversion for AKS clusters with Entra ID integration."""

    def filters(self):
        return {"aks_kubelogin": aks_kubelogin}
