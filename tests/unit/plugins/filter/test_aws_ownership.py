# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws_ownership: destroy deletes only what its tags prove is this deployment's."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.filter.aws_ownership import FilterModule, aws_ownership

OWNER = {"airflow-k8s.cloud/environment": "aws", "airflow-k8s.cloud/cluster": "prod",
         "airflow-k8s.cloud/deployment": "1111", "airflow-k8s.cloud/managed-by": "airflow_k8s.cloud"}


def _resource(name, **tags):
    return {"name": name, "tags": dict(("airflow-k8s.cloud/" + key, value) for key, value in tags.items())}


def test_split_by_tags():
    resources = [
        _resource("ours", environment="aws", cluster="prod", deployment="1111"),
        _resource("copy", environment="aws", cluster="staging", deployment="2222"),
        _resource("same-cluster-other-copy", environment="aws", cluster="prod", deployment="2222"),
        _resource("legacy", environment="aws"),
        _resource("moved", environment="aws", cluster="staging", deployment="1111"),
        _resource("renamed", environment="other", cluster="prod", deployment="1111"),
        _resource("unrelated", environment="other", deployment="3333"),
        {"name": "untagged"},
    ]
    split = aws_ownership(resources, OWNER)
    names = dict((key, [item["name"] for item in value]) for key, value in split.items())
    assert names == {"owned": ["ours"], "foreign": ["copy", "same-cluster-other-copy"],
                     "unproven": ["legacy", "moved", "renamed"]}


def test_boto3_tag_lists():
    resource = {"tags": [{"Key": key, "Value": value} for key, value in OWNER.items()]}
    assert aws_ownership([resource], OWNER)["owned"] == [resource]


def test_managed_by_is_not_proof():
    """Extra owner tags (managed-by, the user's aws_tags) are not compared: only the identity tags are."""
    resource = _resource("ours", environment="aws", cluster="prod", deployment="1111")
    assert aws_ownership([resource], OWNER)["owned"] == [resource]


@pytest.mark.parametrize("owner", [{}, {"airflow-k8s.cloud/environment": "aws"},
                                   {"airflow-k8s.cloud/environment": "aws", "airflow-k8s.cloud/deployment": ""}, None])
def test_refuses_owner_tags_without_an_identity(owner):
    with pytest.raises(AnsibleFilterError):
        aws_ownership([], owner)


def test_registered():
    assert FilterModule().filters()["aws_ownership"] is aws_ownership


def test_adoption_conflicts_name_the_resource_and_both_identities():
    """Any other identity is a conflict, whatever its environment name; no identity (hand-made, an earlier
    release) and this deployment's own identity are not."""
    from ansible_collections.airflow_k8s.cloud.plugins.filter.aws_ownership import aws_adoption_conflicts

    resources = [
        _resource("ours", environment="aws", cluster="prod", deployment="1111"),
        _resource("copy", environment="aws", cluster="staging", deployment="2222"),
        dict(_resource("other-env", environment="other", cluster="x", deployment="3333"), group_id="sg-0abc"),
        _resource("legacy", environment="aws"),
        {"name": "untagged"},
    ]
    assert aws_adoption_conflicts(resources, OWNER, "security group", "name") == [
        "security group copy belongs to deployment 2222 (environment aws, cluster staging), "
        "not to this deployment 1111 (environment aws, cluster prod)",
        "security group other-env (sg-0abc) belongs to deployment 3333 (environment other, cluster x), "
        "not to this deployment 1111 (environment aws, cluster prod)"]
    boto3_style = [{"DBInstanceIdentifier": "db", "tags": [{"Key": "airflow-k8s.cloud/deployment", "Value": "9"}]}]
    assert aws_adoption_conflicts(boto3_style, OWNER, "RDS instance", "DBInstanceIdentifier")[0].startswith(
        "RDS instance db belongs to deployment 9")
    assert FilterModule().filters()["aws_adoption_conflicts"] is aws_adoption_conflicts
    with pytest.raises(AnsibleFilterError):
        aws_adoption_conflicts(resources, {}, "x", "name")
