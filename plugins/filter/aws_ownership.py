# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws_ownership: which AWS resources a deployment can prove are its own (playbooks/destroy/aws.yml)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

#: The tags that mark a resource as a deployment's (cluster_access's fact cluster_access_aws_owner_tags).
ENVIRONMENT_TAG = "airflow-k8s.cloud/environment"
DEPLOYMENT_TAG = "airflow-k8s.cloud/deployment"
CLUSTER_TAG = "airflow-k8s.cloud/cluster"


def _tags(resource):
    tags = resource.get("tags") or {}
    if isinstance(tags, list):  # a boto3 tag list
        tags = dict((tag.get("Key"), tag.get("Value")) for tag in tags)
    return tags


def aws_ownership(resources, owner_tags):
    """Split ``resources`` (dicts with a ``tags`` dict or boto3 tag list, as the amazon.aws info modules
    return them) by what their tags prove, for the deployment whose tags are ``owner_tags``:

    ``owned``
        every owner tag (environment, cluster, deployment identity) has this deployment's value.
    ``foreign``
        another deployment's: a deployment identity other than this one's.
    ``unproven``
        this environment's name or this deployment's identity, but not every owner tag: a resource of
        an earlier release (no identity tag) or with edited tags. Nobody can tell whose it is.

    Resources carrying neither this environment's name nor this identity are not listed.
    """
    if not isinstance(owner_tags, dict) or not owner_tags.get(DEPLOYMENT_TAG) or not owner_tags.get(ENVIRONMENT_TAG):
        raise AnsibleFilterError("aws_ownership needs owner tags with %s and %s, got %r"
                                 % (ENVIRONMENT_TAG, DEPLOYMENT_TAG, owner_tags))
    split = {"owned": [], "foreign": [], "unproven": []}
    for resource in resources or []:
        tags = _tags(resource)
        same_environment = tags.get(ENVIRONMENT_TAG) == owner_tags[ENVIRONMENT_TAG]
        same_identity = tags.get(DEPLOYMENT_TAG) == owner_tags[DEPLOYMENT_TAG]
        if not (same_environment or same_identity):
            continue
        if all(tags.get(key) == value for key, value in owner_tags.items()
               if key in (ENVIRONMENT_TAG, DEPLOYMENT_TAG, CLUSTER_TAG)):
            split["owned"].append(resource)
        elif tags.get(DEPLOYMENT_TAG) and not same_identity:
            split["foreign"].append(resource)
        else:
            split["unproven"].append(resource)
    return split


class FilterModule(object):
    """Ownership of AWS resources by tags."""

    def filters(self):
        return {"aws_ownership": aws_ownership}
