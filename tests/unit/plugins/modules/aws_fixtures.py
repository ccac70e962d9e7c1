# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures for the AWS module tests: the patched moto server (tests/support/moto_server.py).

One moto server runs in a thread of the test process for the whole session, on 127.0.0.1, with
the APIs moto lacks added (EFS legacy tags, EKS add-ons, the EKS cluster security group). Every
test starts from an empty account (moto's reset API). Modules reach it through their real
``endpoint_url`` option, exactly as the roles do in the Molecule scenario.
"""

from __future__ import annotations

import os
import sys

import pytest

REGION = "eu-west-1"

_REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
if _REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, _REPOSITORY_ROOT)

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("tests.support.moto_server")


@pytest.fixture(scope="session")
def moto_url():
    """URL of the session's moto server."""
    with moto_server.MotoServer() as server:
        server.reset()
        yield server.url


@pytest.fixture
def aws(moto_url):
    """An empty moto account: ``aws.args`` (connection options for a module) and ``aws.client(service)``."""
    moto_server_reset(moto_url)

    class Aws:
        url = moto_url
        args = {"region": REGION, "endpoint_url": moto_url, "access_key": "testing", "secret_key": "testing"}

        @staticmethod
        def client(service):
            return boto3.client(service, region_name=REGION, endpoint_url=moto_url,
                                aws_access_key_id="testing", aws_secret_access_key="testing")

    return Aws


def moto_server_reset(url):
    """Drop every resource (moto's reset API, which the middleware also hears)."""
    import urllib.request  # pylint: disable=import-outside-toplevel
    request = urllib.request.Request(url + "/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:  # nosec - loopback test server
        response.read()


def make_cluster(aws, name="production", zones=("a", "b")):
    """A VPC with one subnet per zone and an EKS cluster in it; returns (vpc id, subnet ids, cluster)."""
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = [ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.%d.0/24" % index,
                                    AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
                  for index, zone in enumerate(zones)]
    eks = aws.client("eks")
    eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/eks-cluster",
                       resourcesVpcConfig={"subnetIds": subnet_ids})
    return vpc_id, subnet_ids, eks.describe_cluster(name=name)["cluster"]
