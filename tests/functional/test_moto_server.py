# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The moto test server's additions (tests/support/moto_server.py) behave like the AWS APIs they fill in.

Real components: moto in server mode on 127.0.0.1 and real boto3 clients; the additions are
checked through the same API calls community.aws/amazon.aws and our modules make, and against
moto's own APIs where both exist (EFS tags: the legacy and the current tag API must agree).
"""

import re

import pytest

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("tests.support.moto_server")
botocore_exceptions = pytest.importorskip("botocore.exceptions")

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def clients():
    """A function returning boto3 clients of a fresh moto server."""
    with moto_server.MotoServer() as server:
        yield lambda service: boto3.client(service, region_name=REGION, endpoint_url=server.url,
                                           aws_access_key_id="testing", aws_secret_access_key="testing")


def test_efs_legacy_tag_api_agrees_with_the_current_one(clients):
    efs = clients("efs")
    file_system_id = efs.create_file_system(CreationToken="tags", Tags=[{"Key": "Name", "Value": "x"}])["FileSystemId"]
    efs.create_tags(FileSystemId=file_system_id, Tags=[{"Key": "team", "Value": "data"}])
    assert {"Key": "team", "Value": "data"} in efs.describe_tags(FileSystemId=file_system_id)["Tags"]
    assert {"Key": "team", "Value": "data"} in efs.list_tags_for_resource(ResourceId=file_system_id)["Tags"]
    efs.delete_tags(FileSystemId=file_system_id, TagKeys=["team"])
    assert efs.describe_tags(FileSystemId=file_system_id)["Tags"] == [{"Key": "Name", "Value": "x"}]
    with pytest.raises(botocore_exceptions.ClientError) as error:
        efs.describe_tags(FileSystemId="fs-00000000")
    assert error.value.response["Error"]["Code"] == "FileSystemNotFound"


def test_access_point_ids_look_like_aws(clients):
    efs = clients("efs")
    file_system_id = efs.create_file_system(CreationToken="ap")["FileSystemId"]
    point = efs.create_access_point(FileSystemId=file_system_id, ClientToken="a")
    assert re.match(r"^fsap-[0-9a-f]{17}$", point["AccessPointId"])
    assert point["AccessPointArn"].endswith("/" + point["AccessPointId"])
    assert [p["AccessPointId"] for p in efs.describe_access_points(FileSystemId=file_system_id)["AccessPoints"]] \
        == [point["AccessPointId"]]


def test_eks_cluster_gets_a_cluster_security_group_in_its_vpc(clients):
    ec2 = clients("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    eks = clients("eks")
    eks.create_cluster(name="sg", roleArn="arn:aws:iam::123456789012:role/x", resourcesVpcConfig={"subnetIds": [subnet_id]})
    config = eks.describe_cluster(name="sg")["cluster"]["resourcesVpcConfig"]
    assert config["vpcId"] == vpc_id
    [group] = ec2.describe_security_groups(GroupIds=[config["clusterSecurityGroupId"]])["SecurityGroups"]
    assert group["VpcId"] == vpc_id
    eks.delete_cluster(name="sg")
    with pytest.raises(botocore_exceptions.ClientError):
        ec2.describe_security_groups(GroupIds=[config["clusterSecurityGroupId"]])


def test_eks_addons_lifecycle(clients):
    ec2 = clients("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.2.0.0/24")["Subnet"]["SubnetId"]
    eks = clients("eks")
    eks.create_cluster(name="addons", roleArn="arn:aws:iam::123456789012:role/x",
                       resourcesVpcConfig={"subnetIds": [subnet_id]})
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_addon(clusterName="addons", addonName="aws-efs-csi-driver")
    addon = eks.create_addon(clusterName="addons", addonName="aws-efs-csi-driver", tags={"a": "1"})["addon"]
    assert addon["status"] == "ACTIVE" and addon["addonVersion"] == moto_server.DEFAULT_ADDON_VERSION
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.create_addon(clusterName="addons", addonName="aws-efs-csi-driver")
    eks.update_addon(clusterName="addons", addonName="aws-efs-csi-driver", addonVersion="v9.9.9-eksbuild.1")
    assert eks.describe_addon(clusterName="addons", addonName="aws-efs-csi-driver")["addon"]["addonVersion"] \
        == "v9.9.9-eksbuild.1"
    eks.untag_resource(resourceArn=addon["addonArn"], tagKeys=["a"])
    assert eks.list_tags_for_resource(resourceArn=addon["addonArn"])["tags"] == {}
    assert eks.list_addons(clusterName="addons")["addons"] == ["aws-efs-csi-driver"]
    eks.delete_addon(clusterName="addons", addonName="aws-efs-csi-driver")
    assert eks.list_addons(clusterName="addons")["addons"] == []
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.create_addon(clusterName="nowhere", addonName="aws-efs-csi-driver")


def test_rds_parameter_groups_and_gp3_defaults(clients):
    rds = clients("rds")
    with pytest.raises(botocore_exceptions.ClientError) as error:
        rds.describe_db_parameter_groups(DBParameterGroupName="missing")
    assert error.value.response["Error"]["Code"] == "DBParameterGroupNotFound"
    rds.create_db_parameter_group(DBParameterGroupName="pg17", DBParameterGroupFamily="postgres17", Description="x")
    parameters = {p["ParameterName"]: p for p in rds.describe_db_parameters(DBParameterGroupName="pg17")["Parameters"]}
    assert parameters["rds.force_ssl"]["ParameterValue"] == "1" and parameters["rds.force_ssl"]["IsModifiable"]
    rds.create_db_parameter_group(DBParameterGroupName="pg14", DBParameterGroupFamily="postgres14", Description="x")
    parameters = {p["ParameterName"]: p for p in rds.describe_db_parameters(DBParameterGroupName="pg14")["Parameters"]}
    assert parameters["rds.force_ssl"]["ParameterValue"] == "0"
    instance = rds.create_db_instance(DBInstanceIdentifier="gp3", Engine="postgres", DBInstanceClass="db.t4g.micro",
                                      AllocatedStorage=20, StorageType="gp3", MasterUsername="airflow",
                                      MasterUserPassword="x" * 16)["DBInstance"]
    assert instance["StorageThroughput"] == 125 and instance["Iops"] == 3000
