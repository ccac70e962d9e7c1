#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: iam_oidc_provider
short_description: Make sure an IAM OpenID Connect provider exists for an issuer URL (EKS IRSA)
version_added: 0.4.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - IAM roles for service accounts (IRSA) on Amazon EKS work only when the account has an IAM OIDC
    provider for the cluster's OIDC issuer; a role whose trust policy names a missing provider
    cannot be assumed, and the pods fail at their first AWS call. This module finds the provider of
    O(url) and, with O(state=present), creates it when it is missing.
  - Written because neither amazon.aws nor community.aws has a module for IAM OIDC providers. It
    calls the IAM API through boto3 (C(ListOpenIDConnectProviders), C(GetOpenIDConnectProvider),
    C(CreateOpenIDConnectProvider), C(DeleteOpenIDConnectProvider)).
  - An existing provider is another tool's as much as ours (eksctl, Terraform, other workloads of the
    cluster), so it is never changed. O(client_ids), O(thumbprints) and O(tags) are used only to create one;
    the C(client_ids) of RV(provider) say whether an existing one accepts the audience you need.
  - Run it in check mode to only check; C(changed) then says whether the provider would be created.
extends_documentation_fragment:
  - airflow_k8s.cloud.aws
options:
  url:
    description:
      - The issuer URL, for example C(https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE)
        (EKS DescribeCluster C(identity.oidc.issuer)). IAM stores it without C(https://); both forms are accepted.
    type: str
    required: true
  client_ids:
    description: Audiences of a provider this module creates. IRSA uses C(sts.amazonaws.com).
    type: list
    elements: str
    default: [sts.amazonaws.com]
  thumbprints:
    description:
      - SHA-1 thumbprints of the issuer's certificate chain, for a new provider. Empty lets IAM use its
        own library of trusted root CAs, as it does for EKS issuers.
    type: list
    elements: str
    default: []
  tags:
    description: Tags of a provider this module creates (an existing provider's tags are not changed).
    type: dict
    aliases: [resource_tags]
  state:
    description: C(present) creates the provider when it is missing; C(absent) deletes it when it exists.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Reports what would be created or deleted, and changes nothing.
  diff_mode:
    support: none
    description: The result names the provider before and after.
  platform:
    support: N/A
    platforms: all
    description: Calls the IAM API with boto3 from wherever the task runs.
seealso:
  - name: Create an IAM OIDC provider for your cluster
    description: Why IRSA needs the provider, and how eksctl creates it.
    link: https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html
"""

EXAMPLES = r"""
- name: Check that IRSA can work on the cluster (changes nothing)
  airflow_k8s.cloud.iam_oidc_provider:
    url: "{{ cluster.identity.oidc.issuer }}"
  check_mode: true
  register: oidc

- name: Create the provider when it is missing
  airflow_k8s.cloud.iam_oidc_provider:
    url: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    tags:
      team: data
"""

RETURN = r"""
exists:
  description: Whether the provider existed before the module ran.
  returned: always
  type: bool
provider:
  description: The provider after the run (empty when absent; in check mode what would be created, without an ARN).
  returned: always
  type: dict
  sample:
    arn: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    url: oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    client_ids: [sts.amazonaws.com]
    thumbprints: []
    tags: {}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.aws import (
    AWS_MUTUALLY_EXCLUSIVE,
    BotoCoreError,
    ClientError,
    aws_argument_spec,
    client,
    fail_aws,
)


def bare_url(url):
    """IAM's form of an issuer URL: no scheme, no trailing slash."""
    for scheme in ("https://", "http://"):
        if url.lower().startswith(scheme):
            url = url[len(scheme):]
    return url.rstrip("/")


def view(arn, answer):
    """The provider as this module returns it."""
    return dict(arn=arn, url=answer.get("Url", ""), client_ids=list(answer.get("ClientIDList") or []),
                thumbprints=list(answer.get("ThumbprintList") or []),
                tags=dict((tag["Key"], tag["Value"]) for tag in answer.get("Tags") or []))


def find(module, iam, url):
    """``(arn, provider view)`` of the provider of ``url``, or ``(None, {})``."""
    try:
        arns = [entry["Arn"] for entry in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])]
        for arn in arns:
            # The ARN ends in the provider's URL (arn:<partition>:iam::<account>:oidc-provider/<url>).
            if arn.split(":oidc-provider/", 1)[-1] == url:
                return arn, view(arn, iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
    except (BotoCoreError, ClientError) as error:
        fail_aws(module, error, "Reading the IAM OIDC providers")
    return None, {}


def main():
    """Entry point."""
    module = AnsibleModule(
        argument_spec=aws_argument_spec(
            url=dict(type="str", required=True),
            client_ids=dict(type="list", elements="str", default=["sts.amazonaws.com"]),
            thumbprints=dict(type="list", elements="str", default=[], no_log=False),
            tags=dict(type="dict", aliases=["resource_tags"]),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
        mutually_exclusive=AWS_MUTUALLY_EXCLUSIVE,
    )
    params = module.params
    url = bare_url(params["url"])
    if not url or "." not in url.split("/")[0]:
        module.fail_json(msg="url must be the issuer URL, such as https://oidc.eks.<region>.amazonaws.com/id/<id> (got %r)" % params["url"])
    iam = client(module, "iam")
    arn, before = find(module, iam, url)
    result = dict(changed=False, exists=arn is not None, provider=before)

    if params["state"] == "absent":
        if arn:
            result.update(changed=True, provider={})
            if not module.check_mode:
                try:
                    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
                except (BotoCoreError, ClientError) as error:
                    fail_aws(module, error, "Deleting the IAM OIDC provider %s" % url)
        module.exit_json(**result)

    if arn is None:
        planned = dict(arn="", url=url, client_ids=list(params["client_ids"]), thumbprints=list(params["thumbprints"]),
                       tags=dict(params["tags"] or {}))
        result.update(changed=True, provider=planned)
        if not module.check_mode:
            request = dict(Url="https://" + url, ClientIDList=list(params["client_ids"]))
            if params["thumbprints"]:
                request["ThumbprintList"] = list(params["thumbprints"])
            if params["tags"]:
                request["Tags"] = [dict(Key=key, Value=str(value)) for key, value in sorted(params["tags"].items())]
            try:
                created = iam.create_open_id_connect_provider(**request)["OpenIDConnectProviderArn"]
            except (BotoCoreError, ClientError) as error:
                fail_aws(module, error, "Creating the IAM OIDC provider %s" % url)
            result["provider"] = find(module, iam, url)[1] or dict(planned, arn=created)
        module.exit_json(**result)

    module.exit_json(**result)


if __name__ == "__main__":
    main()
