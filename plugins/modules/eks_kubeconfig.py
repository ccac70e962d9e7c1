#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_kubeconfig
short_description: Read an Amazon EKS cluster and write a kubeconfig for it
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Reads an EKS cluster (C(DescribeCluster) through boto3) and returns its API endpoint, certificate
    authority, VPC, subnets and security groups.
  - With O(path), writes a kubeconfig for the cluster there with mode C(0600), like
    C(aws eks update-kubeconfig) does, but into a file of its own that holds only this cluster.
    The user of that kubeconfig gets its token from C(aws eks get-token) (an exec credential plugin),
    so the file holds no secret and never expires; the AWS CLI (v2, or v1 1.16.156 or later) must be
    on the PATH of whoever uses the kubeconfig, with AWS credentials that the cluster's access
    entries (or its C(aws-auth) ConfigMap) map to a Kubernetes identity.
  - Written because amazon.aws and community.aws have no module that reads an EKS cluster without
    creating it (C(community.aws.eks_cluster) needs the cluster's role and subnets and creates it
    when missing) nor one that writes a kubeconfig.
extends_documentation_fragment:
  - airflow_k8s.cloud.aws
options:
  name:
    description: Name of the EKS cluster.
    type: str
    required: true
    aliases: [cluster_name]
  path:
    description:
      - Where to write the kubeconfig (mode C(0600), its folder is created with mode C(0700)). An
        existing file is replaced when its content differs.
      - Omit to only read the cluster.
    type: path
  context:
    description: Name of the kubeconfig's context, cluster and user. Default is the cluster's name.
    type: str
  exec_command:
    description:
      - Command of the exec credential plugin. It is called with the arguments of
        C(aws eks get-token) (C(--region), C(eks get-token), C(--cluster-name), and C(--role-arn)
        with O(role_arn)).
    type: str
    default: aws
  role_arn:
    description: IAM role the token is made for (C(aws eks get-token --role-arn)). Omit to use the caller's identity.
    type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff shows the kubeconfig's content; it holds no secret.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
notes:
  - The kubeconfig is written as JSON, which every kubeconfig reader accepts (YAML is a superset of JSON).
  - With O(profile), the exec plugin gets E(AWS_PROFILE) set to it; other credentials are not written
    into the file and come from the environment of whoever uses the kubeconfig.
seealso:
  - name: Connect kubectl to an EKS cluster
    description: What C(aws eks update-kubeconfig) writes.
    link: https://docs.aws.amazon.com/eks/latest/userguide/create-kubeconfig.html
"""

EXAMPLES = r"""
- name: Write the kubeconfig of the cluster
  airflow_k8s.cloud.eks_kubeconfig:
    name: production
    region: eu-west-1
    path: ~/.kube/airflow-production
  register: eks

- name: Apply something to the cluster with it
  kubernetes.core.k8s:
    kubeconfig: ~/.kube/airflow-production
    definition: "{{ lookup('ansible.builtin.file', 'namespace.yml') | from_yaml }}"

- name: Only read the cluster (VPC, subnets, security group)
  airflow_k8s.cloud.eks_kubeconfig:
    name: production
  register: eks
"""

RETURN = r"""
cluster:
  description: The cluster's connection and network facts.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the cluster.
      type: str
      sample: production
    arn:
      description: ARN of the cluster.
      type: str
      sample: arn:aws:eks:eu-west-1:123456789012:cluster/production
    status:
      description: Status of the cluster, C(ACTIVE) when it serves.
      type: str
      sample: ACTIVE
    version:
      description: Kubernetes version.
      type: str
      sample: "1.33"
    endpoint:
      description: URL of the Kubernetes API server.
      type: str
      sample: https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com
    certificate_authority_data:
      description: Base64 of the PEM certificate authority of the API server.
      type: str
    vpc_id:
      description: VPC of the cluster.
      type: str
      sample: vpc-0123456789abcdef0
    subnet_ids:
      description: Subnets of the cluster.
      type: list
      elements: str
    cluster_security_group_id:
      description:
        - The security group EKS created for the cluster, attached to the control plane and to managed
          node groups. Allow traffic from it to reach services the pods use.
      type: str
      sample: sg-0123456789abcdef0
    security_group_ids:
      description: Additional security groups of the control plane.
      type: list
      elements: str
    oidc_issuer:
      description:
        - URL of the cluster's OpenID Connect issuer, which IAM roles for service accounts (IRSA) trust through
          the account's IAM OIDC provider of the same URL. Empty when EKS reports none.
      type: str
      sample: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
kubeconfig:
  description: Path of the kubeconfig written (empty without O(path)).
  returned: always
  type: str
  sample: /home/user/.kube/airflow-production
context:
  description: Name of the kubeconfig's context.
  returned: always
  type: str
  sample: production
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.aws import (
    AWS_MUTUALLY_EXCLUSIVE,
    BotoCoreError,
    ClientError,
    aws_argument_spec,
    client,
    error_code,
    fail_aws,
)


def describe(module, eks):
    """The cluster as ``DescribeCluster`` returns it."""
    try:
        return eks.describe_cluster(name=module.params["name"])["cluster"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            module.fail_json(msg="EKS cluster %s does not exist in region %s." % (
                module.params["name"], eks.meta.region_name))
        fail_aws(module, error, "Describing EKS cluster %s" % module.params["name"])
    except BotoCoreError as error:
        fail_aws(module, error, "Describing EKS cluster %s" % module.params["name"])
    return None  # pragma: no cover - fail_aws exits


def facts(cluster):
    """The RV(cluster) of a ``DescribeCluster`` answer."""
    network = cluster.get("resourcesVpcConfig") or {}
    return dict(
        name=cluster["name"], arn=cluster.get("arn", ""), status=cluster.get("status", ""),
        version=cluster.get("version", ""), endpoint=cluster.get("endpoint", ""),
        certificate_authority_data=(cluster.get("certificateAuthority") or {}).get("data", ""),
        vpc_id=network.get("vpcId", ""), subnet_ids=list(network.get("subnetIds") or []),
        cluster_security_group_id=network.get("clusterSecurityGroupId", ""),
        security_group_ids=list(network.get("securityGroupIds") or []),
        oidc_issuer=((cluster.get("identity") or {}).get("oidc") or {}).get("issuer", ""),
    )


def kubeconfig(module, cluster, region):
    """The kubeconfig document (a dict) for the cluster."""
    params = module.params
    context = params["context"] or cluster["name"]
    arguments = ["--region", region, "eks", "get-token", "--cluster-name", cluster["name"], "--output", "json"]
    if params["role_arn"]:
        arguments += ["--role-arn", params["role_arn"]]
    exec_config = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": params["exec_command"],
                   "args": arguments, "interactiveMode": "Never", "provideClusterInfo": False}
    if params["profile"]:
        exec_config["env"] = [{"name": "AWS_PROFILE", "value": params["profile"]}]
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": cluster["endpoint"],
                                                   "certificate-authority-data": cluster["certificate_authority_data"]}}],
        "users": [{"name": context, "user": {"exec": exec_config}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
        "preferences": {},
    }


def write_private(path, text):
    """Write ``text`` to ``path`` (mode 0600) through a temporary file and a rename."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".kubeconfig-")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, 0o600)
        os.rename(temporary, path)
    except Exception:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def main():
    """Entry point."""
    argument_spec = aws_argument_spec(
        name=dict(type="str", required=True, aliases=["cluster_name"]),
        path=dict(type="path"),
        context=dict(type="str"),
        exec_command=dict(type="str", default="aws"),
        role_arn=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=AWS_MUTUALLY_EXCLUSIVE)
    eks = client(module, "eks")
    cluster = facts(describe(module, eks))
    context = module.params["context"] or cluster["name"]
    result = dict(changed=False, cluster=cluster, kubeconfig="", context=context)
    path = module.params["path"]
    if path:
        path = os.path.abspath(path)
        result["kubeconfig"] = path
        wanted = json.dumps(kubeconfig(module, cluster, eks.meta.region_name), indent=2, sort_keys=True) + "\n"
        current = None
        if os.path.exists(path):
            with open(path) as stream:
                current = stream.read()
        mode_wrong = current is not None and (os.stat(path).st_mode & 0o777) != 0o600
        if current != wanted or mode_wrong:
            result["changed"] = True
            if module._diff:  # pylint: disable=protected-access
                result["diff"] = dict(before=current or "", after=wanted, before_header=path, after_header=path)
            if not module.check_mode:
                try:
                    write_private(path, wanted)
                except (IOError, OSError) as error:
                    module.fail_json(msg="Cannot write the kubeconfig %s: %s" % (path, error), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
