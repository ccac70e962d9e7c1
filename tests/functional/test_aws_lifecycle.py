# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS cloud layer over the life of a deployment: deploy, what AWS does between runs, destroy,
deploy again, and two deployments in one account.

Real components: ``ansible-playbook`` with the real ``site.yml`` and ``playbooks/destroy.yml`` on
``inventories/aws`` (render mode: the manifests go to a temporary folder, every AWS resource is
created), the real amazon.aws/community.aws modules, the collection's own modules and boto3.
Emulated: AWS, by moto in server mode (``tests/support/moto_server.py``) in a child process; the
test changes resources between runs with boto3 the way AWS itself would (RDS storage autoscaling,
an automatic minor version upgrade). Not proven: how real AWS services behave.
"""

import os

import pytest

from tests.support.playbook import run_playbook

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("tests.support.moto_server")

pytestmark = [pytest.mark.slow]

REGION = "eu-west-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
               "AWS_DEFAULT_REGION": REGION}
# The tag every resource of a deployment carries (with the deployment's identity next to it).
ENVIRONMENT_TAG = "airflow-k8s.cloud/environment"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """A fresh moto server (child process) for this module's deployments."""
    with moto_server.MotoServerProcess.start(tmp_path_factory.mktemp("moto")) as server:
        yield server


def _client(moto, service):
    return boto3.client(service, region_name=REGION, endpoint_url=moto.url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _cluster(moto, name, cidr_prefix):
    """What a user of inventories/aws has before the first run: a VPC, subnets in three zones, an
    EKS cluster (moto_server adds its cluster security group, as EKS does)."""
    ec2 = _client(moto, "ec2")
    vpc_id = ec2.create_vpc(CidrBlock="%s.0.0/16" % cidr_prefix)["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock="%s.%d.0/24" % (cidr_prefix, index),
                                 AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
               for index, zone in enumerate("abc")]
    _client(moto, "eks").create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/%s" % name,
                                        resourcesVpcConfig={"subnetIds": subnets})


class Deployment(object):
    """One copy of inventories/aws: an environment name, a cluster, a work folder; runs site.yml and destroy.yml."""

    def __init__(self, moto, workdir, environment, cluster, resource_name=None):
        self.moto = moto
        self.workdir = workdir
        self.environment = environment
        self.cluster = cluster
        # The names of the RDS instance and EFS file system (default: <environment>-airflow).
        self.resource_name = resource_name or "%s-airflow" % environment
        self.runs = []

    def extra_vars(self, **more):
        variables = {
            "aws_endpoint_url": self.moto.url, "aws_region": REGION,
            "airflow_environment_name": self.environment,
            "cluster_access_aws_cluster_name": self.cluster,
            "cluster_access_aws_kubeconfig_path": os.path.join(self.workdir, "kube", "eks.kubeconfig"),
            "csi_driver_aws_role_arn": "arn:aws:iam::123456789012:role/%s-efs-csi-driver" % self.cluster,
            "database_aws_instance_identifier": self.resource_name,
            "fileshare_aws_name": self.resource_name,
            "fileshare_aws_security_group_name": self.resource_name + "-efs",
            "sink_mode": "render", "sink_render_dir": os.path.join(self.workdir, "render"),
        }
        variables.update(more)
        return variables

    def run(self, playbook, expect_ok=True, **more):
        run = run_playbook(playbook, inventory="inventories/aws", extra_vars=self.extra_vars(**more), env=CREDENTIALS)
        self.runs.append(run)
        if expect_ok:
            assert run.returncode == 0, "%s failed:\n%s" % (playbook, run.tail(80))
        return run

    def deploy(self, **more):
        return self.run("site.yml", **more)

    def destroy(self, expect_ok=True, **more):
        return self.run("playbooks/destroy.yml", expect_ok=expect_ok, destroy_confirm=self.environment, **more)

    def instance(self):
        """The RDS instance as DescribeDBInstances reports it, or None."""
        found = [instance for instance in _client(self.moto, "rds").describe_db_instances()["DBInstances"]
                 if instance["DBInstanceIdentifier"] == self.resource_name]
        return found[0] if found else None


@pytest.fixture(scope="module")
def deployment(moto, tmp_path_factory):
    """inventories/aws deployed once on the cluster lifecycle-1 (environment name 'aws', the default)."""
    _cluster(moto, "lifecycle-1", "10.51")
    deployed = Deployment(moto, str(tmp_path_factory.mktemp("aws")), "aws", "lifecycle-1")
    deployed.deploy()
    return deployed


def test_a_second_run_after_storage_autoscaling_and_a_minor_upgrade_changes_nothing(deployment):
    """RDS grew the storage (autoscaling, up to database_aws_max_allocated_storage) and upgraded the
    minor version (auto_minor_version_upgrade) since the first run; the inventory still says 20 GiB and
    "17". The second run must not ask RDS to shrink the storage or to go back to "17"."""
    rds = _client(deployment.moto, "rds")
    rds.modify_db_instance(DBInstanceIdentifier=deployment.resource_name, AllocatedStorage=42, EngineVersion="17.4",
                           ApplyImmediately=True)
    grown = deployment.instance()
    assert (grown["AllocatedStorage"], grown["EngineVersion"]) == (42, "17.4"), "moto did not take the change"
    run = deployment.deploy()
    assert run.changed == 0, "second run changed %s:\n%s" % (run.changed_tasks(), run.tail(80))
    after = deployment.instance()
    assert (after["AllocatedStorage"], after["EngineVersion"]) == (42, "17.4")


def test_deploying_again_within_the_recovery_window_restores_the_password(deployment):
    """destroy.yml schedules the password secret for deletion (recoverable for 30 days, so that the
    final snapshot's password is not lost). A deployment within those 30 days must restore the secret
    (RestoreSecret) and use the same password, not fail on a secret marked for deletion."""
    secrets = _client(deployment.moto, "secretsmanager")
    name = "airflow-k8s.cloud/%s/database-password" % deployment.resource_name
    password = secrets.get_secret_value(SecretId=name)["SecretString"]
    deployment.destroy()
    assert deployment.instance() is None
    assert "DeletedDate" in secrets.describe_secret(SecretId=name), "destroy.yml did not schedule the secret for deletion"
    deployment.deploy()
    assert "DeletedDate" not in secrets.describe_secret(SecretId=name)
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == password, "the password changed"
    assert deployment.instance() is not None
    run = deployment.deploy()
    assert run.changed == 0, "the run after the redeployment changed %s:\n%s" % (run.changed_tasks(), run.tail(80))
