#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_addon
short_description: Install, update or remove an Amazon EKS add-on
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Makes sure an EKS add-on, such as C(aws-efs-csi-driver), is installed on a cluster with the given
    version, IAM role and configuration, or that it is removed.
  - Written because neither amazon.aws nor community.aws has a module for EKS add-ons. It calls the
    EKS API through boto3 (C(CreateAddon), C(DescribeAddon), C(UpdateAddon), C(DeleteAddon),
    C(TagResource), C(UntagResource)) and does not need the AWS CLI.
  - Only the options that are given are compared. Without O(addon_version) a new add-on gets the
    default version EKS chooses for the cluster, and an existing add-on keeps its version.
  - Idempotent, a second run with the same options changes nothing and reports C(changed=false).
extends_documentation_fragment:
  - airflow_k8s.cloud.aws
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
  name:
    description: Name of the add-on, for example C(aws-efs-csi-driver).
    type: str
    required: true
    aliases: [addon_name]
  state:
    description: Whether the add-on is installed (V(present)) or removed (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  addon_version:
    description:
      - Version of the add-on, for example C(v2.1.0-eksbuild.1). Omit to let EKS choose on creation
        and to leave the version of an existing add-on alone.
    type: str
  service_account_role_arn:
    description:
      - IAM role the add-on's service account uses (IAM roles for service accounts). For
        C(aws-efs-csi-driver) the role needs the C(AmazonEFSCSIDriverPolicy) managed policy.
      - Omit to leave it alone; an empty string removes it.
    type: str
  configuration_values:
    description:
      - The add-on's configuration as a JSON or YAML string (its schema comes from
        C(aws eks describe-addon-configuration)). Omit to leave it alone; an empty string removes it.
    type: str
  resolve_conflicts:
    description:
      - What EKS does when the add-on's Kubernetes objects were changed by someone else.
      - Default is V(OVERWRITE) when the add-on is created (nothing of it exists yet) and V(PRESERVE)
        when it is updated (keep changes made in the cluster).
    type: str
    choices: [NONE, OVERWRITE, PRESERVE]
  preserve:
    description:
      - With O(state=absent), keep the add-on's Kubernetes objects in the cluster and only stop
        managing them as an add-on.
    type: bool
    default: false
  tags:
    description: Tags of the add-on. Tags not listed are kept unless O(purge_tags=true).
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags that O(tags) does not list.
    type: bool
    default: false
  wait:
    description:
      - Wait until the add-on is C(ACTIVE) after a create or update, or gone after a delete. Fails
        when the add-on ends up C(CREATE_FAILED), C(UPDATE_FAILED) or C(DEGRADED).
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait.
    type: int
    default: 900
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode only reads the add-on and reports what would change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
notes:
  - Installing the add-on does not by itself let pods mount EFS volumes; the file system needs a mount
    target in every subnet of the nodes and a security group that allows NFS (TCP 2049) from them.
seealso:
  - name: Amazon EKS add-ons
    description: How EKS add-ons are installed and updated.
    link: https://docs.aws.amazon.com/eks/latest/userguide/eks-add-ons.html
  - name: Amazon EFS CSI driver
    description: The aws-efs-csi-driver add-on and the IAM role it needs.
    link: https://docs.aws.amazon.com/eks/latest/userguide/efs-csi.html
"""

EXAMPLES = r"""
- name: Install the Amazon EFS CSI driver
  airflow_k8s.cloud.eks_addon:
    cluster_name: production
    name: aws-efs-csi-driver
    service_account_role_arn: arn:aws:iam::123456789012:role/AmazonEKS_EFS_CSI_DriverRole
    region: eu-west-1

- name: Pin a version and add tags, only reporting what would change
  airflow_k8s.cloud.eks_addon:
    cluster_name: production
    name: aws-efs-csi-driver
    addon_version: v2.1.0-eksbuild.1
    tags:
      team: data
  check_mode: true

- name: Remove the add-on but keep its objects in the cluster
  airflow_k8s.cloud.eks_addon:
    cluster_name: production
    name: aws-efs-csi-driver
    state: absent
    preserve: true
"""

RETURN = r"""
addon:
  description: The add-on as EKS describes it (keys in snake_case, tags as given). Empty when it does not exist.
  returned: always
  type: dict
  sample:
    addon_name: aws-efs-csi-driver
    cluster_name: production
    status: ACTIVE
    addon_version: v2.1.0-eksbuild.1
    addon_arn: arn:aws:eks:eu-west-1:123456789012:addon/production/aws-efs-csi-driver/0ec1b0f2
    service_account_role_arn: arn:aws:iam::123456789012:role/AmazonEKS_EFS_CSI_DriverRole
    tags:
      team: data
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.aws import (
    AWS_MUTUALLY_EXCLUSIVE,
    BotoCoreError,
    ClientError,
    aws_argument_spec,
    client,
    error_code,
    fail_aws,
    tag_changes,
    wait_until,
)

#: Add-on fields this module manages, as (option, API field).
MANAGED_FIELDS = (
    ("addon_version", "addonVersion"),
    ("service_account_role_arn", "serviceAccountRoleArn"),
    ("configuration_values", "configurationValues"),
)
FAILED_STATES = ("CREATE_FAILED", "UPDATE_FAILED", "DEGRADED", "DELETE_FAILED")


def describe(module, eks):
    """The add-on, or ``None`` when it does not exist."""
    try:
        return eks.describe_addon(clusterName=module.params["cluster_name"], addonName=module.params["name"])["addon"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            if "cluster" in str(error).lower() and "addon" not in str(error).lower():
                module.fail_json(msg="EKS cluster %s does not exist." % module.params["cluster_name"])
            return None
        fail_aws(module, error, "Describing add-on %s" % module.params["name"])
    except BotoCoreError as error:
        fail_aws(module, error, "Describing add-on %s" % module.params["name"])
    return None  # pragma: no cover - fail_aws exits


def view(addon):
    """What the diff shows of an add-on (no timestamps or health)."""
    if not addon:
        return {}
    shown = dict((field, addon[field]) for _option, field in MANAGED_FIELDS if addon.get(field))
    shown["tags"] = dict(addon.get("tags") or {})
    return shown


def wanted_changes(module, addon):
    """Fields of an existing add-on to update: ``{API field: new value}``."""
    changes = {}
    for option, field in MANAGED_FIELDS:
        wanted = module.params[option]
        if wanted is not None and (addon.get(field) or "") != wanted:
            changes[field] = wanted
    return changes


def wait_for_status(module, eks, target):
    """Wait until the add-on is ACTIVE (``target='ACTIVE'``) or gone (``target=None``)."""
    def settled():
        addon = describe(module, eks)
        if target is None:
            return addon is None or None
        if addon and addon.get("status") in FAILED_STATES:
            issues = (addon.get("health") or {}).get("issues") or []
            module.fail_json(msg="Add-on %s is %s: %s" % (module.params["name"], addon["status"],
                                                          "; ".join(issue.get("message", "") for issue in issues)),
                             addon=camel_dict_to_snake_dict(addon, ignore_list=["tags"]))
        return addon if addon and addon.get("status") == target else None

    return wait_until(module, settled, module.params["wait_timeout"],
                      "add-on %s to be %s" % (module.params["name"], target or "deleted"))


def ensure_present(module, eks, addon):
    """Create or update the add-on; returns (changed, addon after)."""
    params = module.params
    if addon is None:
        request = dict(clusterName=params["cluster_name"], addonName=params["name"],
                       resolveConflicts=params["resolve_conflicts"] or "OVERWRITE")
        for option, field in MANAGED_FIELDS:
            if params[option]:
                request[field] = params[option]
        if params["tags"]:
            request["tags"] = params["tags"]
        planned = dict((key, value) for key, value in request.items() if key not in ("resolveConflicts",))
        if module.check_mode:
            return True, planned
        try:
            created = eks.create_addon(**request)["addon"]
        except (BotoCoreError, ClientError) as error:
            fail_aws(module, error, "Creating add-on %s" % params["name"])
        return True, (wait_for_status(module, eks, "ACTIVE") if params["wait"] else created)

    changed = False
    changes = wanted_changes(module, addon)
    current_tags = dict(addon.get("tags") or {})
    to_set, to_remove = tag_changes(current_tags, params["tags"], params["purge_tags"])
    after = dict(addon, **changes)
    after["tags"] = dict((key, value) for key, value in dict(current_tags, **to_set).items() if key not in to_remove)
    if changes:
        changed = True
        if not module.check_mode:
            request = dict(clusterName=params["cluster_name"], addonName=params["name"],
                           resolveConflicts=params["resolve_conflicts"] or "PRESERVE", **changes)
            try:
                eks.update_addon(**request)
            except (BotoCoreError, ClientError) as error:
                fail_aws(module, error, "Updating add-on %s" % params["name"])
    if to_set or to_remove:
        changed = True
        if not module.check_mode:
            try:
                if to_set:
                    eks.tag_resource(resourceArn=addon["addonArn"], tags=to_set)
                if to_remove:
                    eks.untag_resource(resourceArn=addon["addonArn"], tagKeys=to_remove)
            except (BotoCoreError, ClientError) as error:
                fail_aws(module, error, "Tagging add-on %s" % params["name"])
    if changed and not module.check_mode:
        after = wait_for_status(module, eks, "ACTIVE") if params["wait"] and changes else describe(module, eks)
    return changed, after


def ensure_absent(module, eks, addon):
    """Delete the add-on if it exists; returns (changed, addon after)."""
    if addon is None:
        return False, None
    if module.check_mode:
        return True, None
    try:
        eks.delete_addon(clusterName=module.params["cluster_name"], addonName=module.params["name"],
                         preserve=module.params["preserve"])
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            fail_aws(module, error, "Deleting add-on %s" % module.params["name"])
    except BotoCoreError as error:
        fail_aws(module, error, "Deleting add-on %s" % module.params["name"])
    if module.params["wait"]:
        wait_for_status(module, eks, None)
    return True, None


def main():
    """Entry point."""
    argument_spec = aws_argument_spec(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str", required=True, aliases=["addon_name"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        addon_version=dict(type="str"),
        service_account_role_arn=dict(type="str"),
        configuration_values=dict(type="str"),
        resolve_conflicts=dict(type="str", choices=["NONE", "OVERWRITE", "PRESERVE"]),
        preserve=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=AWS_MUTUALLY_EXCLUSIVE)
    eks = client(module, "eks")
    before = describe(module, eks)
    if module.params["state"] == "present":
        changed, after = ensure_present(module, eks, before)
    else:
        changed, after = ensure_absent(module, eks, before)
    result = dict(changed=changed, addon=camel_dict_to_snake_dict(after or {}, ignore_list=["tags"]))
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = dict(before=view(before), after=view(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
