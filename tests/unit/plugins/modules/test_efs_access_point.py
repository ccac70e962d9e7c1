# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.efs_access_point`` module.

Real components: the module runs unmodified through ansible-core's ``AnsibleModule`` (``run_module``)
and talks HTTP with real boto3 to moto in server mode on 127.0.0.1 (tests/support/moto_server.py),
whose EFS backend implements access points (moto's own code; the server only makes the ids
AWS-shaped, ``fsap-`` + 17 hexadecimal digits).
"""

from __future__ import annotations

import re

from ansible_collections.airflow_k8s.cloud.plugins.modules import efs_access_point
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.aws_fixtures import (  # noqa: F401  pylint: disable=unused-import
    aws,
    moto_url,
)
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

AIRFLOW_USER = {"uid": 50000, "gid": 0}
DAGS_ROOT = {"path": "/airflow/dags", "creation_info": {"owner_uid": 50000, "owner_gid": 0, "permissions": "0775"}}


def _file_system(aws):  # pylint: disable=redefined-outer-name
    return aws.client("efs").create_file_system(CreationToken="airflow", Encrypted=True)["FileSystemId"]


def _args(aws, file_system_id, **extra):  # pylint: disable=redefined-outer-name
    args = dict(aws.args, file_system_id=file_system_id, name="airflow-dags", posix_user=AIRFLOW_USER,
                root_directory=DAGS_ROOT)
    args.update(extra)
    return args


def _points(aws, file_system_id):  # pylint: disable=redefined-outer-name
    return aws.client("efs").describe_access_points(FileSystemId=file_system_id)["AccessPoints"]


def test_check_mode_creates_nothing(aws):  # pylint: disable=redefined-outer-name
    file_system_id = _file_system(aws)
    result, failed = run_module(efs_access_point, _args(aws, file_system_id), check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] is True
    assert result["diff"]["after"]["root_directory"]["Path"] == "/airflow/dags"
    assert _points(aws, file_system_id) == []


def test_create_is_idempotent_and_enforces_the_airflow_user(aws):  # pylint: disable=redefined-outer-name
    file_system_id = _file_system(aws)
    args = _args(aws, file_system_id, tags={"airflow-k8s.cloud/environment": "prod"})
    result, failed = run_module(efs_access_point, args)
    assert not failed, result
    assert result["changed"] is True
    point = result["access_point"]
    assert re.match(r"^fsap-[0-9a-f]{17}$", point["access_point_id"])
    [stored] = _points(aws, file_system_id)
    assert stored["AccessPointId"] == point["access_point_id"]
    assert stored["PosixUser"] == {"Uid": 50000, "Gid": 0}
    assert stored["RootDirectory"] == {"Path": "/airflow/dags", "CreationInfo": {"OwnerUid": 50000, "OwnerGid": 0,
                                                                                 "Permissions": "0775"}}
    tags = {tag["Key"]: tag["Value"] for tag in stored["Tags"]}
    assert tags == {"Name": "airflow-dags", "airflow-k8s.cloud/environment": "prod"}

    again, failed = run_module(efs_access_point, args)
    assert not failed and again["changed"] is False
    assert again["access_point"]["access_point_id"] == point["access_point_id"]
    assert len(_points(aws, file_system_id)) == 1


def test_immutable_difference_fails_unless_replace(aws):  # pylint: disable=redefined-outer-name
    file_system_id = _file_system(aws)
    first, _failed = run_module(efs_access_point, _args(aws, file_system_id))
    other_user = _args(aws, file_system_id, posix_user={"uid": 1000, "gid": 1000})
    result, failed = run_module(efs_access_point, other_user)
    assert failed
    assert "posix_user" in result["msg"] and "replace=true" in result["msg"]
    assert _points(aws, file_system_id)[0]["PosixUser"] == {"Uid": 50000, "Gid": 0}

    replaced, failed = run_module(efs_access_point, dict(other_user, replace=True))
    assert not failed and replaced["changed"] is True
    assert replaced["access_point"]["access_point_id"] != first["access_point"]["access_point_id"]
    [stored] = _points(aws, file_system_id)
    assert stored["PosixUser"] == {"Uid": 1000, "Gid": 1000}


def test_tags_change_without_replacing(aws):  # pylint: disable=redefined-outer-name
    file_system_id = _file_system(aws)
    first, _failed = run_module(efs_access_point, _args(aws, file_system_id, tags={"team": "data"}))
    result, failed = run_module(efs_access_point, _args(aws, file_system_id, tags={"owner": "airflow"}, purge_tags=True))
    assert not failed and result["changed"] is True
    [stored] = _points(aws, file_system_id)
    assert stored["AccessPointId"] == first["access_point"]["access_point_id"]
    assert {tag["Key"]: tag["Value"] for tag in stored["Tags"]} == {"Name": "airflow-dags", "owner": "airflow"}


def test_absent_deletes_only_the_named_access_point(aws):  # pylint: disable=redefined-outer-name
    file_system_id = _file_system(aws)
    run_module(efs_access_point, _args(aws, file_system_id))
    run_module(efs_access_point, _args(aws, file_system_id, name="airflow-logs",
                                       root_directory=dict(DAGS_ROOT, path="/airflow/logs")))
    checked, failed = run_module(efs_access_point, _args(aws, file_system_id, state="absent"), check_mode=True)
    assert not failed and checked["changed"] is True and len(_points(aws, file_system_id)) == 2
    removed, failed = run_module(efs_access_point, _args(aws, file_system_id, state="absent"))
    assert not failed and removed["changed"] is True
    remaining = _points(aws, file_system_id)
    assert [point["RootDirectory"]["Path"] for point in remaining] == ["/airflow/logs"]
    again, failed = run_module(efs_access_point, _args(aws, file_system_id, state="absent"))
    assert not failed and again["changed"] is False
