# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aks_kubelogin: the user kubeconfig of an Entra ID AKS cluster, in the shape AKS hands it out
(listClusterUserCredentials, Kubernetes 1.24 and later: a kubelogin exec user with --login
devicecode), becomes one that logs in without a person."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.airflow_k8s.cloud.plugins.filter.aks_kubelogin import FilterModule, aks_kubelogin
from tests.support import cloud_fakes

AKS_USER_KUBECONFIG = cloud_fakes.aks_user_kubeconfig()
SERVER_ID, TENANT = cloud_fakes.AKS_AAD_SERVER_ID, cloud_fakes.AKS_TENANT
ADMIN_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: aks, cluster: {server: "https://aks:443"}}]
contexts: [{name: aks-admin, context: {cluster: aks, user: clusterAdmin_rg_aks}}]
current-context: aks-admin
users:
- name: clusterAdmin_rg_aks
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5, token: 0123456789abcdef}
"""


def _exec(text):
    [user] = yaml.safe_load(text)["users"]
    return user["user"]["exec"]


def _option(args, name):
    return args[args.index(name) + 1]


def test_spn_logs_in_as_the_service_principal_without_its_secret():
    converted = aks_kubelogin(AKS_USER_KUBECONFIG, "spn", client_id="11111111-2222-3333-4444-555555555555")
    exec_config = _exec(converted)
    args = exec_config["args"]
    assert _option(args, "--login") == "spn"
    assert "devicecode" not in args
    assert args.count("--client-id") == 1 and _option(args, "--client-id") == "11111111-2222-3333-4444-555555555555"
    assert _option(args, "--tenant-id") == TENANT and _option(args, "--server-id") == SERVER_ID
    assert _option(args, "--environment") == "AzurePublicCloud"
    assert exec_config["interactiveMode"] == "Never"
    assert "--client-secret" not in args and "env" not in exec_config or not exec_config["env"]
    # The rest of the file is AKS's.
    original, result = yaml.safe_load(AKS_USER_KUBECONFIG), yaml.safe_load(converted)
    assert result["clusters"] == original["clusters"] and result["current-context"] == original["current-context"]


@pytest.mark.parametrize("login", ["workloadidentity", "azurecli"])
def test_environment_logins_take_no_client_id_from_the_file(login):
    args = _exec(aks_kubelogin(AKS_USER_KUBECONFIG, login))["args"]
    assert _option(args, "--login") == login
    assert "--client-id" not in args and "--tenant-id" not in args
    assert _option(args, "--server-id") == SERVER_ID and args[0] == "get-token"


def test_tenant_can_be_given():
    args = _exec(aks_kubelogin(AKS_USER_KUBECONFIG, "spn", client_id="c", tenant_id="other-tenant"))["args"]
    assert _option(args, "--tenant-id") == "other-tenant" and args.count("--tenant-id") == 1


def test_converting_twice_gives_the_same_file():
    once = aks_kubelogin(AKS_USER_KUBECONFIG, "spn", client_id="c")
    assert aks_kubelogin(once, "spn", client_id="c") == once


def test_a_kubeconfig_without_kubelogin_is_unchanged():
    assert yaml.safe_load(aks_kubelogin(ADMIN_KUBECONFIG, "spn", client_id="c")) == yaml.safe_load(ADMIN_KUBECONFIG)


@pytest.mark.parametrize("kwargs, message", [
    ({"login": "devicecode"}, "login must be one of"),
    ({"login": "spn"}, "client id"),
])
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        aks_kubelogin(AKS_USER_KUBECONFIG, **kwargs)


def test_aad_v1_auth_provider_is_refused():
    legacy = "users:\n- name: u\n  user:\n    auth-provider:\n      name: azure\n      config: {apiserver-id: x}\n"
    with pytest.raises(AnsibleFilterError, match="auth-provider"):
        aks_kubelogin(legacy, "azurecli")


class _TaggedStr(str):
    """Ansible 2.19 hands filters str subclasses (values with origin tags)."""


def test_values_from_ansible_are_written_as_plain_strings():
    converted = aks_kubelogin(AKS_USER_KUBECONFIG, _TaggedStr("spn"), client_id=_TaggedStr("c"), tenant_id=_TaggedStr("t"))
    args = _exec(converted)["args"]
    assert _option(args, "--client-id") == "c" and _option(args, "--tenant-id") == "t"


def test_registered():
    assert FilterModule().filters()["aks_kubelogin"] is aks_kubelogin
