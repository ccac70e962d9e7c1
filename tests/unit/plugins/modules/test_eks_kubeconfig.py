# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.eks_kubeconfig`` module.

Real components: the module runs unmodified through ansible-core's ``AnsibleModule`` (``run_module``)
and reads an EKS cluster with real boto3 from moto in server mode on 127.0.0.1
(tests/support/moto_server.py; the server adds the cluster security group EKS creates and moto does
not). The written kubeconfig is loaded with the real ``kubernetes`` client's kubeconfig loader.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.modules import eks_kubeconfig
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.aws_fixtures import (  # noqa: F401  pylint: disable=unused-import
    REGION,
    aws,
    make_cluster,
    moto_url,
)
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module


def test_reads_the_cluster_network(aws):  # pylint: disable=redefined-outer-name
    vpc_id, subnet_ids, cluster = make_cluster(aws)
    result, failed = run_module(eks_kubeconfig, dict(aws.args, name="production"))
    assert not failed, result
    assert result["changed"] is False and result["kubeconfig"] == ""
    facts = result["cluster"]
    assert facts["vpc_id"] == vpc_id
    assert facts["subnet_ids"] == subnet_ids
    assert facts["cluster_security_group_id"] == cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
    assert facts["cluster_security_group_id"].startswith("sg-")
    assert facts["endpoint"] == cluster["endpoint"]
    assert facts["oidc_issuer"] == cluster["identity"]["oidc"]["issuer"]
    assert facts["oidc_issuer"].startswith("https://oidc.eks.%s.amazonaws.com/id/" % REGION)


def test_writes_a_private_kubeconfig_once(aws, tmp_path):  # pylint: disable=redefined-outer-name
    kubernetes_config = pytest.importorskip("kubernetes.config.kube_config")
    _vpc, _subnets, cluster = make_cluster(aws)
    path = tmp_path / "kube" / "airflow"
    args = dict(aws.args, name="production", path=str(path), role_arn="arn:aws:iam::123456789012:role/admin")

    checked, failed = run_module(eks_kubeconfig, args, check_mode=True, diff=True)
    assert not failed and checked["changed"] is True
    assert not path.exists()
    assert checked["diff"]["before"] == ""

    result, failed = run_module(eks_kubeconfig, args)
    assert not failed and result["changed"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    document = json.loads(path.read_text())
    assert document["current-context"] == "production"
    assert document["clusters"][0]["cluster"] == {"server": cluster["endpoint"],
                                                  "certificate-authority-data": cluster["certificateAuthority"]["data"]}
    exec_config = document["users"][0]["user"]["exec"]
    assert exec_config["command"] == "aws"
    assert exec_config["args"] == ["--region", REGION, "eks", "get-token", "--cluster-name", "production",
                                   "--output", "json", "--role-arn", "arn:aws:iam::123456789012:role/admin"]
    # The real kubernetes client reads it (the exec plugin is only run on connect).
    loader = kubernetes_config.KubeConfigLoader(config_dict=document)
    assert loader.current_context["name"] == "production"

    again, failed = run_module(eks_kubeconfig, args)
    assert not failed and again["changed"] is False


def test_repairs_a_world_readable_kubeconfig(aws, tmp_path):  # pylint: disable=redefined-outer-name
    make_cluster(aws)
    path = tmp_path / "kubeconfig"
    args = dict(aws.args, name="production", path=str(path))
    run_module(eks_kubeconfig, args)
    os.chmod(path, 0o644)
    result, failed = run_module(eks_kubeconfig, args)
    assert not failed and result["changed"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_missing_cluster_fails_with_its_name(aws):  # pylint: disable=redefined-outer-name
    result, failed = run_module(eks_kubeconfig, dict(aws.args, name="nowhere"))
    assert failed
    assert "nowhere" in result["msg"] and REGION in result["msg"]
