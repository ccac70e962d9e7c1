#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: efs_access_point
short_description: Create or delete an Amazon EFS access point
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Makes sure an EFS access point with a given name exists on a file system, with the POSIX user
    and root directory given, or that it is deleted.
  - Written because neither amazon.aws nor community.aws has a module for EFS access points. It calls
    the EFS API through boto3 (C(DescribeAccessPoints), C(CreateAccessPoint), C(DeleteAccessPoint),
    C(TagResource), C(UntagResource)).
  - An access point is found by its C(Name) tag on the file system, so the name must be unique there.
  - The POSIX user and root directory of an access point cannot be changed after it is created.
    When they differ, the module fails and says which field differs, unless O(replace=true), which
    deletes the access point and creates it again (it gets a new id, so volumes that refer to the old
    id must be changed too).
extends_documentation_fragment:
  - airflow_k8s.cloud.aws
options:
  file_system_id:
    description: The EFS file system, C(fs-) followed by hexadecimal digits.
    type: str
    required: true
  name:
    description: Name of the access point (its C(Name) tag), unique on the file system.
    type: str
    required: true
  state:
    description: Whether the access point exists (V(present)) or not (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  posix_user:
    description:
      - User and group every file operation through the access point runs as, whatever the client's
        user. For Apache Airflow, uid 50000 and gid 0.
      - Omit to let clients use their own identity.
    type: dict
    suboptions:
      uid:
        description: User id.
        type: int
        required: true
      gid:
        description: Group id.
        type: int
        required: true
      secondary_gids:
        description: Further group ids.
        type: list
        elements: int
  root_directory:
    description: The folder of the file system the access point exposes as its root.
    type: dict
    suboptions:
      path:
        description: Absolute path inside the file system.
        type: str
        default: /
      creation_info:
        description:
          - Owner and permissions EFS gives the folder when it does not exist yet on first use.
            Without it, the folder must exist already.
        type: dict
        suboptions:
          owner_uid:
            description: Owner user id.
            type: int
            required: true
          owner_gid:
            description: Owner group id.
            type: int
            required: true
          permissions:
            description: Mode, an octal string such as C(0775).
            type: str
            required: true
  tags:
    description:
      - Tags of the access point besides C(Name). Tags not listed are kept unless O(purge_tags=true).
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags that O(tags) does not list (never C(Name)).
    type: bool
    default: false
  replace:
    description:
      - When the POSIX user or root directory of the existing access point differ, delete it and create
        it again instead of failing.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode only reads the access points and reports what would change. A new access point's
        RV(access_point) has no C(access_point_id) in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
seealso:
  - name: Working with Amazon EFS access points
    description: What access points enforce and how the root directory is created.
    link: https://docs.aws.amazon.com/efs/latest/ug/efs-access-points.html
"""

EXAMPLES = r"""
- name: Access point for the Airflow DAGs, writable by the airflow user (50000, group 0)
  airflow_k8s.cloud.efs_access_point:
    file_system_id: fs-0123456789abcdef0
    name: airflow-dags
    posix_user:
      uid: 50000
      gid: 0
    root_directory:
      path: /airflow/dags
      creation_info:
        owner_uid: 50000
        owner_gid: 0
        permissions: "0775"
    tags:
      airflow-k8s.cloud/environment: production
  register: dags_access_point

- name: Volume handle of the EFS CSI driver
  ansible.builtin.debug:
    msg: "fs-0123456789abcdef0::{{ dags_access_point.access_point.access_point_id }}"

- name: Delete it
  airflow_k8s.cloud.efs_access_point:
    file_system_id: fs-0123456789abcdef0
    name: airflow-dags
    state: absent
"""

RETURN = r"""
access_point:
  description: The access point (keys in snake_case, tags as a dict). Empty when it does not exist.
  returned: always
  type: dict
  sample:
    access_point_id: fsap-0123456789abcdef0
    access_point_arn: arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0
    file_system_id: fs-0123456789abcdef0
    name: airflow-dags
    posix_user: {uid: 50000, gid: 0}
    root_directory:
      path: /airflow/dags
      creation_info: {owner_uid: 50000, owner_gid: 0, permissions: "0775"}
    life_cycle_state: available
    tags:
      Name: airflow-dags
"""

import uuid

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.aws import (
    AWS_MUTUALLY_EXCLUSIVE,
    BotoCoreError,
    ClientError,
    aws_argument_spec,
    client,
    fail_aws,
    tag_changes,
    tags_to_dict,
    tags_to_list,
    wait_until,
)


def find(module, efs):
    """The access points of the file system named ``name`` (normally zero or one)."""
    params = module.params
    found = []
    try:
        paginator = efs.get_paginator("describe_access_points")
        for page in paginator.paginate(FileSystemId=params["file_system_id"]):
            found.extend(point for point in page["AccessPoints"]
                         if tags_to_dict(point.get("Tags")).get("Name", point.get("Name")) == params["name"]
                         and point.get("LifeCycleState") not in ("deleting", "deleted"))
    except (BotoCoreError, ClientError) as error:
        fail_aws(module, error, "Listing the access points of %s" % params["file_system_id"])
    return found


def wanted_posix_user(module):
    """The PosixUser API structure of the options (or ``None``)."""
    user = module.params["posix_user"]
    if not user:
        return None
    result = {"Uid": user["uid"], "Gid": user["gid"]}
    if user.get("secondary_gids"):
        result["SecondaryGids"] = sorted(user["secondary_gids"])
    return result


def wanted_root_directory(module):
    """The RootDirectory API structure of the options (or ``None``)."""
    root = module.params["root_directory"]
    if not root:
        return None
    result = {"Path": root.get("path") or "/"}
    info = root.get("creation_info")
    if info:
        result["CreationInfo"] = {"OwnerUid": info["owner_uid"], "OwnerGid": info["owner_gid"],
                                  "Permissions": info["permissions"]}
    return result


def differences(module, point):
    """The immutable fields of ``point`` that differ from the options (names of the options)."""
    differing = []
    user = wanted_posix_user(module)
    current_user = point.get("PosixUser")
    if current_user and current_user.get("SecondaryGids") is not None:
        current_user = dict(current_user, SecondaryGids=sorted(current_user["SecondaryGids"]))
    if current_user and not current_user.get("SecondaryGids"):
        current_user = dict((key, value) for key, value in current_user.items() if key != "SecondaryGids")
    if (user or None) != (current_user or None):
        differing.append("posix_user")
    root = wanted_root_directory(module) or {"Path": "/"}
    current_root = point.get("RootDirectory") or {"Path": "/"}
    if root.get("Path") != current_root.get("Path"):
        differing.append("root_directory.path")
    # CreationInfo only matters when the folder is created; AWS reports it as given.
    if root.get("CreationInfo") and root.get("CreationInfo") != current_root.get("CreationInfo"):
        differing.append("root_directory.creation_info")
    return differing


def view(point):
    """What the diff shows of an access point."""
    if not point:
        return {}
    return dict(name=tags_to_dict(point.get("Tags")).get("Name"), posix_user=point.get("PosixUser"),
                root_directory=point.get("RootDirectory"), tags=tags_to_dict(point.get("Tags")))


def result_of(point):
    """The RV(access_point) of an API structure."""
    if not point:
        return {}
    result = camel_dict_to_snake_dict(dict((key, value) for key, value in point.items() if key != "Tags"))
    result["tags"] = tags_to_dict(point.get("Tags"))
    result["name"] = result["tags"].get("Name", point.get("Name"))
    return result


def create(module, efs):
    """Create the access point and wait until it is available; returns it."""
    params = module.params
    tags = dict(params["tags"] or {}, Name=params["name"])
    request = dict(FileSystemId=params["file_system_id"], ClientToken=str(uuid.uuid4()), Tags=tags_to_list(tags))
    if wanted_posix_user(module):
        request["PosixUser"] = wanted_posix_user(module)
    if wanted_root_directory(module):
        request["RootDirectory"] = wanted_root_directory(module)
    if module.check_mode:
        planned = dict(request)
        planned.pop("ClientToken")
        return planned
    try:
        point = efs.create_access_point(**request)
    except (BotoCoreError, ClientError) as error:
        fail_aws(module, error, "Creating access point %s" % params["name"])
    point.pop("ResponseMetadata", None)

    def available():
        found = efs.describe_access_points(AccessPointId=point["AccessPointId"])["AccessPoints"]
        return found[0] if found and found[0].get("LifeCycleState") == "available" else None

    return wait_until(module, available, 300, "access point %s to be available" % params["name"], delay=2)


def delete(module, efs, point):
    """Delete an access point (nothing in check mode)."""
    if module.check_mode:
        return
    try:
        efs.delete_access_point(AccessPointId=point["AccessPointId"])
    except (BotoCoreError, ClientError) as error:
        fail_aws(module, error, "Deleting access point %s" % point["AccessPointId"])


def ensure_present(module, efs, point):
    """Returns (changed, access point after)."""
    params = module.params
    if point is None:
        return True, create(module, efs)
    differing = differences(module, point)
    if differing:
        if not params["replace"]:
            module.fail_json(msg="Access point %s (%s) exists with a different %s, which cannot be changed. Set replace=true "
                                 "to delete and re-create it (new id), or give the current values."
                                 % (params["name"], point["AccessPointId"], " and ".join(differing)),
                             access_point=result_of(point))
        delete(module, efs, point)
        return True, create(module, efs)
    current = tags_to_dict(point.get("Tags"))
    wanted = dict(params["tags"] or {}, Name=params["name"])
    to_set, to_remove = tag_changes(current, wanted, params["purge_tags"])
    if not to_set and not to_remove:
        return False, point
    after = dict(point, Tags=tags_to_list(dict((key, value) for key, value in dict(current, **to_set).items()
                                               if key not in to_remove)))
    if not module.check_mode:
        try:
            if to_set:
                efs.tag_resource(ResourceId=point["AccessPointId"], Tags=tags_to_list(to_set))
            if to_remove:
                efs.untag_resource(ResourceId=point["AccessPointId"], TagKeys=to_remove)
        except (BotoCoreError, ClientError) as error:
            fail_aws(module, error, "Tagging access point %s" % point["AccessPointId"])
    return True, after


def main():
    """Entry point."""
    argument_spec = aws_argument_spec(
        file_system_id=dict(type="str", required=True),
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        posix_user=dict(type="dict", options=dict(
            uid=dict(type="int", required=True),
            gid=dict(type="int", required=True),
            secondary_gids=dict(type="list", elements="int"),
        )),
        root_directory=dict(type="dict", options=dict(
            path=dict(type="str", default="/"),
            creation_info=dict(type="dict", options=dict(
                owner_uid=dict(type="int", required=True),
                owner_gid=dict(type="int", required=True),
                permissions=dict(type="str", required=True),
            )),
        )),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=False),
        replace=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=AWS_MUTUALLY_EXCLUSIVE)
    efs = client(module, "efs")
    found = find(module, efs)
    if len(found) > 1:
        module.fail_json(msg="%d access points of %s are named %s; the name must be unique: delete the extra ones."
                             % (len(found), module.params["file_system_id"], module.params["name"]),
                         access_point_ids=[point["AccessPointId"] for point in found])
    before = found[0] if found else None
    if module.params["state"] == "present":
        changed, after = ensure_present(module, efs, before)
    else:
        changed, after = (before is not None), None
        if before is not None:
            delete(module, efs, before)
    result = dict(changed=changed, access_point=result_of(after))
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = dict(before=view(before), after=view(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
