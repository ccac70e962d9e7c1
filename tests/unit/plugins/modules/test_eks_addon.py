# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.eks_addon`` module.

Real components: the module runs unmodified through ansible-core's ``AnsibleModule`` (``run_module``)
and talks HTTP with real boto3 to moto in server mode on 127.0.0.1 (tests/support/moto_server.py).
moto itself has no EKS add-ons: the server's middleware emulates CreateAddon/DescribeAddon/
UpdateAddon/DeleteAddon and add-on tags in memory (see its docstring), on top of moto's real EKS
clusters. What is proven: the module's requests, idempotence, check mode and diff against that
API; not the behaviour of a real EKS add-on manager.
"""

from __future__ import annotations

from ansible_collections.airflow_k8s.cloud.plugins.modules import eks_addon
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.aws_fixtures import (  # noqa: F401  pylint: disable=unused-import
    aws,
    make_cluster,
    moto_url,
)
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

ROLE = "arn:aws:iam::123456789012:role/efs-csi"


def _args(aws, **extra):  # pylint: disable=redefined-outer-name
    args = dict(aws.args, cluster_name="production", name="aws-efs-csi-driver", wait_timeout=30)
    args.update(extra)
    return args


def _addons(aws):  # pylint: disable=redefined-outer-name
    return aws.client("eks").list_addons(clusterName="production")["addons"]


def test_check_mode_creates_nothing(aws):  # pylint: disable=redefined-outer-name
    make_cluster(aws)
    result, failed = run_module(eks_addon, _args(aws, service_account_role_arn=ROLE), check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["serviceAccountRoleArn"] == ROLE
    assert _addons(aws) == []


def test_create_then_second_run_changes_nothing(aws):  # pylint: disable=redefined-outer-name
    make_cluster(aws)
    args = _args(aws, service_account_role_arn=ROLE, tags={"airflow-k8s.cloud/environment": "prod"})
    result, failed = run_module(eks_addon, args)
    assert not failed, result
    assert result["changed"] is True
    assert result["addon"]["status"] == "ACTIVE"
    assert result["addon"]["service_account_role_arn"] == ROLE
    assert result["addon"]["tags"] == {"airflow-k8s.cloud/environment": "prod"}
    described = aws.client("eks").describe_addon(clusterName="production", addonName="aws-efs-csi-driver")["addon"]
    assert described["serviceAccountRoleArn"] == ROLE

    again, failed = run_module(eks_addon, args, diff=True)
    assert not failed, again
    assert again["changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"]
    checked, failed = run_module(eks_addon, args, check_mode=True)
    assert not failed and checked["changed"] is False


def test_version_change_is_reported_in_check_mode_then_applied(aws):  # pylint: disable=redefined-outer-name
    make_cluster(aws)
    run_module(eks_addon, _args(aws, addon_version="v2.0.0-eksbuild.1"))
    wanted = _args(aws, addon_version="v2.1.0-eksbuild.1")
    checked, failed = run_module(eks_addon, wanted, check_mode=True, diff=True)
    assert not failed and checked["changed"] is True
    assert checked["diff"]["before"]["addonVersion"] == "v2.0.0-eksbuild.1"
    assert checked["diff"]["after"]["addonVersion"] == "v2.1.0-eksbuild.1"
    eks = aws.client("eks")
    assert eks.describe_addon(clusterName="production", addonName="aws-efs-csi-driver")["addon"]["addonVersion"] \
        == "v2.0.0-eksbuild.1"
    applied, failed = run_module(eks_addon, wanted)
    assert not failed and applied["changed"] is True
    assert eks.describe_addon(clusterName="production", addonName="aws-efs-csi-driver")["addon"]["addonVersion"] \
        == "v2.1.0-eksbuild.1"
    # Without addon_version, the installed version is left alone.
    unpinned, failed = run_module(eks_addon, _args(aws))
    assert not failed and unpinned["changed"] is False
    assert unpinned["addon"]["addon_version"] == "v2.1.0-eksbuild.1"


def test_tags_are_merged_unless_purged(aws):  # pylint: disable=redefined-outer-name
    make_cluster(aws)
    run_module(eks_addon, _args(aws, tags={"team": "data"}))
    merged, failed = run_module(eks_addon, _args(aws, tags={"owner": "airflow"}))
    assert not failed and merged["changed"] is True
    assert merged["addon"]["tags"] == {"team": "data", "owner": "airflow"}
    purged, failed = run_module(eks_addon, _args(aws, tags={"owner": "airflow"}, purge_tags=True))
    assert not failed and purged["changed"] is True
    arn = purged["addon"]["addon_arn"]
    assert aws.client("eks").list_tags_for_resource(resourceArn=arn)["tags"] == {"owner": "airflow"}


def test_absent_deletes_once(aws):  # pylint: disable=redefined-outer-name
    make_cluster(aws)
    run_module(eks_addon, _args(aws))
    checked, failed = run_module(eks_addon, _args(aws, state="absent"), check_mode=True)
    assert not failed and checked["changed"] is True
    assert _addons(aws) == ["aws-efs-csi-driver"]
    removed, failed = run_module(eks_addon, _args(aws, state="absent"))
    assert not failed and removed["changed"] is True and removed["addon"] == {}
    assert _addons(aws) == []
    again, failed = run_module(eks_addon, _args(aws, state="absent"))
    assert not failed and again["changed"] is False


def test_missing_cluster_fails_with_its_name(aws):  # pylint: disable=redefined-outer-name
    result, failed = run_module(eks_addon, _args(aws, cluster_name="nowhere"))
    assert failed
    assert "nowhere" in result["msg"]
