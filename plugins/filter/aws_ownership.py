# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws_ownership: which AWS resources a deployment can prove are its own (playbooks/destroy/aws.yml);
aws_adoption_conflicts: which resources a deployment would reuse by name carry another deployment's identity
(cluster_access's tasks/aws_adoption.yml, before site.yml changes anything)."""

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


def aws_adoption_conflicts(resources, owner_tags, kind, name_key):
    """Describe every resource of ``resources`` whose deployment identity tag is another deployment's.

    site.yml reuses its RDS instance, EFS file system and security groups by name. A resource of that
    name that carries another identity belongs to another deployment (a copy of the inventory with the
    same names, on another cluster or namespace): adopting it would re-tag it, change its settings and
    rules, and let this deployment's destroy.yml delete it. One line per such resource, naming it
    (``kind`` and the value of ``name_key``, plus its id where it has one), its identity, environment and
    cluster, and this deployment's. A resource without an identity tag (made by hand or by an earlier
    release) is not a conflict: site.yml adopts and tags it.
    """
    if not isinstance(owner_tags, dict) or not owner_tags.get(DEPLOYMENT_TAG):
        raise AnsibleFilterError("aws_adoption_conflicts needs owner tags with %s, got %r" % (DEPLOYMENT_TAG, owner_tags))
    conflicts = []
    for resource in resources or []:
        tags = _tags(resource)
        identity = tags.get(DEPLOYMENT_TAG)
        if not identity or identity == owner_tags[DEPLOYMENT_TAG]:
            continue
        name = resource.get(name_key, "?")
        resource_id = resource.get("group_id") or resource.get("file_system_id") or ""
        conflicts.append(
            "%s %s%s belongs to deployment %s (environment %s, cluster %s), not to this deployment %s (environment %s, cluster %s)"
            % (kind, name, " (%s)" % resource_id if resource_id and resource_id != name else "", identity,
               tags.get(ENVIRONMENT_TAG, "?"), tags.get(CLUSTER_TAG, "?"), owner_tags[DEPLOYMENT_TAG],
               owner_tags.get(ENVIRONMENT_TAG, "?"), owner_tags.get(CLUSTER_TAG, "?")))
    return conflicts


class FilterModule(object):
    """Ownership of AWS resources by tags."""

    def filters(self):
        return {"aws_ownership": aws_ownership, "aws_adoption_conflicts": aws_adoption_conflicts}
