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

import json
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
# site.yml, then a play that writes the cloud layer's facts (cloud_contract_file).
CONTRACT_PLAYBOOK = os.path.join("tests", "functional", "playbooks", "cloud_contract.yml")
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """A fresh moto server (child process) for this module's deployments."""
    with moto_server.MotoServerProcess.start(tmp_path_factory.mktemp("moto")) as server:
        yield server


def _client(moto, service):
    return boto3.client(service, region_name=REGION, endpoint_url=moto.url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _cluster(moto, name, cidr_prefix, oidc_provider=True):
    """What a user of inventories/aws has before the first run: a VPC, subnets in three zones, an
    EKS cluster (moto_server adds its cluster security group, as EKS does) and, unless told otherwise,
    the cluster's IAM OIDC provider (what `eksctl utils associate-iam-oidc-provider` creates)."""
    ec2 = _client(moto, "ec2")
    vpc_id = ec2.create_vpc(CidrBlock="%s.0.0/16" % cidr_prefix)["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock="%s.%d.0/24" % (cidr_prefix, index),
                                 AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
               for index, zone in enumerate("abc")]
    cluster = _client(moto, "eks").create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/%s" % name,
                                                  resourcesVpcConfig={"subnetIds": subnets})["cluster"]
    iam = _client(moto, "iam")
    issuer = cluster["identity"]["oidc"]["issuer"]
    # moto gives every cluster of a server the same issuer: an earlier cluster's provider serves this one too.
    known = [entry["Arn"] for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
             if entry["Arn"].endswith(":oidc-provider/" + issuer[len("https://"):])]
    if oidc_provider and not known:
        iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])
    return cluster


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
            "database_aws_instance_identifier": self.resource_name,
            "fileshare_aws_name": self.resource_name,
            "fileshare_aws_security_group_name": self.resource_name + "-efs",
            "sink_mode": "render", "sink_render_dir": os.path.join(self.workdir, "render"),
        }
        variables.update(more)
        return variables

    def run(self, playbook, expect_ok=True, **more):
        more.setdefault("cloud_contract_file", os.path.join(self.workdir, "contract.json"))
        run = run_playbook(playbook, inventory="inventories/aws", extra_vars=self.extra_vars(**more), env=CREDENTIALS)
        self.runs.append(run)
        if expect_ok:
            assert run.returncode == 0, "%s failed:\n%s" % (playbook, run.tail(80))
        return run

    def deploy(self, **more):
        """site.yml, through the test wrapper that writes the facts the cloud layer hands the Airflow layer."""
        return self.run(CONTRACT_PLAYBOOK, **more)

    def contract(self):
        """The cloud layer's facts of the last deployment (tests/functional/playbooks/cloud_contract.yml)."""
        with open(os.path.join(self.workdir, "contract.json"), encoding="utf-8") as stream:
            return json.load(stream)

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


def _resources(moto, deployment):
    """What exists of a deployment's resources, by their names: RDS instance, EFS file system, security groups."""
    efs = [fs["FileSystemId"] for fs in _client(moto, "efs").describe_file_systems()["FileSystems"]
           if fs["CreationToken"] == deployment.resource_name]
    groups = [group["GroupName"] for group in _client(moto, "ec2").describe_security_groups()["SecurityGroups"]
              if group["GroupName"] in (deployment.resource_name + "-database", deployment.resource_name + "-efs")]
    return {"rds": deployment.instance() is not None, "efs": len(efs), "security_groups": sorted(groups)}


@pytest.fixture(scope="module")
def copies(moto, tmp_path_factory):
    """Two copies of inventories/aws with the same environment name ('copy') in one account, on two clusters,
    each deployed once (their own resource names: the copies were edited only where they must differ)."""
    _cluster(moto, "lifecycle-2", "10.52")
    _cluster(moto, "lifecycle-3", "10.53")
    first = Deployment(moto, str(tmp_path_factory.mktemp("copy-a")), "copy", "lifecycle-2", resource_name="copy-a")
    second = Deployment(moto, str(tmp_path_factory.mktemp("copy-b")), "copy", "lifecycle-3", resource_name="copy-b")
    first.deploy()
    second.deploy()
    return first, second


def _tags_of(moto, deployment):
    """Tags of a deployment's RDS instance, EFS file system and two security groups, by resource."""
    rds = _client(moto, "rds")
    tags = {"rds": rds.list_tags_for_resource(ResourceName=deployment.instance()["DBInstanceArn"])["TagList"]}
    efs = _client(moto, "efs")
    [file_system] = [fs for fs in efs.describe_file_systems()["FileSystems"] if fs["CreationToken"] == deployment.resource_name]
    tags["efs"] = file_system["Tags"]
    for group in _client(moto, "ec2").describe_security_groups()["SecurityGroups"]:
        if group["GroupName"] in (deployment.resource_name + "-database", deployment.resource_name + "-efs"):
            tags[group["GroupName"]] = (group.get("Tags"), group.get("IpPermissions"))
    return tags


def test_a_deployment_refuses_to_adopt_another_deployments_resources(moto, copies, tmp_path):
    """The same inventory in another namespace of the first copy's cluster has its own identity, but its
    resource names are the first copy's (the RDS instance, EFS file system and both security groups). site.yml
    stops before it changes anything (no identity recorded, no IAM role, no tag or rule changed), naming each
    resource, the first copy's identity and its own."""
    first, _second = copies
    before = _tags_of(moto, first)
    first_identity = {tag["Key"]: tag["Value"] for tag in before["rds"]}["airflow-k8s.cloud/deployment"]
    intruder = Deployment(moto, str(tmp_path), "copy", "lifecycle-2", resource_name="copy-a")
    run = intruder.deploy(expect_ok=False, airflow_namespace="intruder")
    assert run.returncode != 0
    output = " ".join(run.output.split())
    assert "Nothing was changed" in output, run.tail(40)
    for resource in ("RDS instance copy-a", "EFS file system copy-a", "security group copy-a-database",
                     "security group copy-a-efs"):
        assert "%s " % resource in output and "belongs to deployment %s" % first_identity in output, (resource, run.tail(40))
    ssm = _client(moto, "ssm")
    parameters = [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
    assert not [name for name in parameters if "/intruder/" in name], parameters
    assert not [role for role in _client(moto, "iam").list_roles()["Roles"] if "intruder" in role["RoleName"]]
    assert _tags_of(moto, first) == before
    # The one change: the kubeconfig file on the controller (nothing in AWS).
    assert [task for task in run.changed_tasks() if "write its kubeconfig" not in task] == [], run.changed_tasks()


def test_destroying_one_copy_of_an_inventory_leaves_the_other_intact(moto, copies):
    """Both copies tag their resources airflow-k8s.cloud/environment=copy; each has its own identity
    (recorded per cluster), so destroying the first deletes its resources and none of the second's."""
    first, second = copies
    before = _resources(moto, second)
    assert before == {"rds": True, "efs": 1, "security_groups": ["copy-b-database", "copy-b-efs"]}
    run = first.destroy()
    assert _resources(moto, first) == {"rds": False, "efs": 0, "security_groups": []}, run.tail(80)
    assert _resources(moto, second) == before, run.tail(80)
    # The run names what it left alone (the output's YAML may wrap the message and double its quotes).
    output = " ".join(run.output.split())
    assert "Left alone" in output and "RDS instance copy-b" in output, run.tail(80)


def test_destroy_refuses_resources_it_cannot_prove_its_own(moto, copies):
    """A resource with this environment's name but without this deployment's identity (an earlier release's,
    or edited tags) stops destroy.yml before anything is deleted; so does a deployment without a recorded identity."""
    _first, second = copies
    rds = _client(moto, "rds")
    arn = second.instance()["DBInstanceArn"]
    rds.remove_tags_from_resource(ResourceName=arn, TagKeys=["airflow-k8s.cloud/deployment"])
    before = _resources(moto, second)
    run = second.destroy(expect_ok=False)
    assert run.returncode != 0
    assert "Nothing was deleted" in run.output and "RDS instance copy-b" in run.output, run.tail(40)
    assert _resources(moto, second) == before
    # The same inventory in another namespace has no identity recorded: refused before anything is deleted.
    run = second.destroy(expect_ok=False, airflow_namespace="elsewhere")
    assert run.returncode != 0
    assert "nothing proves which AWS resources are this deployment's" in run.output, run.tail(40)
    assert _resources(moto, second) == before
    # site.yml tags it again (the resource is this deployment's by name); then destroy deletes everything.
    second.deploy()
    second.destroy()
    assert _resources(moto, second) == {"rds": False, "efs": 0, "security_groups": []}


def _trust(role):
    """The one statement of an IAM role's trust policy."""
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    return statement


def test_the_efs_csi_driver_and_the_airflow_pods_get_iam_roles_for_their_service_accounts(deployment):
    """IRSA: the EFS CSI driver's role (trusted for its kube-system ServiceAccounts only, with
    AmazonEFSCSIDriverPolicy) is created and handed to the add-on; the Airflow pods' role is trusted for the
    Airflow namespace's ServiceAccounts only, and its ARN reaches the Airflow layer as the ServiceAccount
    annotation fact. Both trust the cluster's own OIDC issuer, with audience sts.amazonaws.com."""
    iam, eks = _client(deployment.moto, "iam"), _client(deployment.moto, "eks")
    issuer = eks.describe_cluster(name=deployment.cluster)["cluster"]["identity"]["oidc"]["issuer"][len("https://"):]
    provider = "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, issuer)

    csi = iam.get_role(RoleName="%s-%s-efs-csi-driver" % (deployment.cluster, REGION))["Role"]
    statement = _trust(csi)
    assert statement["Principal"] == {"Federated": provider}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {issuer + ":aud": "sts.amazonaws.com"},
        "StringLike": {issuer + ":sub": ["system:serviceaccount:kube-system:efs-csi-controller-sa",
                                         "system:serviceaccount:kube-system:efs-csi-node-sa"]}}
    policies = iam.list_attached_role_policies(RoleName=csi["RoleName"])["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in policies] == ["arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"]
    addon = eks.describe_addon(clusterName=deployment.cluster, addonName="aws-efs-csi-driver")["addon"]
    assert addon["serviceAccountRoleArn"] == csi["Arn"]

    workload = iam.get_role(RoleName="airflow-%s-%s-airflow" % (REGION, deployment.cluster))["Role"]
    statement = _trust(workload)
    assert statement["Principal"] == {"Federated": provider}
    assert statement["Condition"]["StringLike"] == {issuer + ":sub": ["system:serviceaccount:airflow:airflow-*"]}
    assert statement["Condition"]["StringEquals"] == {issuer + ":aud": "sts.amazonaws.com"}
    assert deployment.contract()["cluster_access_service_account_annotations"] == {"eks.amazonaws.com/role-arn": workload["Arn"]}


def test_the_local_inventory_hands_over_no_service_account_annotations(tmp_path):
    """The output fact cluster_access_service_account_annotations is a dict on every platform: empty on local
    (no cloud identity to give the pods). Real site.yml on inventories/local, render mode."""
    contract_file = tmp_path / "contract.json"
    run = run_playbook(CONTRACT_PLAYBOOK, inventory="inventories/local",
                       extra_vars={"sink_render_dir": str(tmp_path / "render"), "cloud_contract_file": str(contract_file)})
    assert run.returncode == 0, run.tail(60)
    assert json.loads(contract_file.read_text(encoding="utf-8"))["cluster_access_service_account_annotations"] == {}


def _oidc_providers(moto):
    iam = _client(moto, "iam")
    return {entry["Arn"].split(":oidc-provider/", 1)[1]: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=entry["Arn"])
            for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]}


def test_a_cluster_without_an_oidc_provider_stops_the_run_before_anything_is_created(moto, tmp_path):
    """IRSA roles cannot be assumed without the cluster's IAM OIDC provider. With the default
    (cluster_access_aws_oidc_provider_create: false) site.yml stops before it records an identity or creates
    a role, RDS instance or file system, naming the issuer and the command that creates the provider; with
    true it creates the provider (audience sts.amazonaws.com) and the deployment goes through."""
    cluster = _cluster(moto, "no-oidc", "10.54", oidc_provider=False)
    issuer = cluster["identity"]["oidc"]["issuer"]
    # moto gives every cluster of a server the same issuer: the provider another test's cluster has is removed.
    iam = _client(moto, "iam")
    for entry in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        if entry["Arn"].endswith(":oidc-provider/" + issuer[len("https://"):]):
            iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=entry["Arn"])
    deployment = Deployment(moto, str(tmp_path), "no-oidc", "no-oidc")
    run = deployment.deploy(expect_ok=False)
    assert run.returncode != 0
    output = " ".join(run.output.split())
    assert "has no IAM OIDC provider for its issuer %s" % issuer in output, run.tail(40)
    assert "eksctl utils associate-iam-oidc-provider --cluster no-oidc" in output
    assert "cluster_access_aws_oidc_provider_create: true" in output
    assert issuer[len("https://"):] not in _oidc_providers(moto)
    ssm = _client(moto, "ssm")
    assert not [role for role in iam.list_roles()["Roles"] if "no-oidc" in role["RoleName"]]
    assert not [p for p in ssm.describe_parameters()["Parameters"] if "no-oidc" in p["Name"]]
    assert deployment.instance() is None

    deployment.deploy(cluster_access_aws_oidc_provider_create=True)
    provider = _oidc_providers(moto)[issuer[len("https://"):]]
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert {"Key": "airflow-k8s.cloud/cluster", "Value": "no-oidc"} in provider["Tags"]
    assert deployment.instance() is not None
