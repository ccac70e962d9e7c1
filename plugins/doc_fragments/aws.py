# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """Connection options of the airflow_k8s.cloud AWS modules (same names as amazon.aws)."""

    DOCUMENTATION = r"""
options:
  region:
    description:
      - The AWS region, for example C(eu-west-1).
      - When omitted, boto3's default applies (the E(AWS_REGION) or E(AWS_DEFAULT_REGION) environment
        variables, then the profile's configuration).
    type: str
    aliases: [aws_region]
  endpoint_url:
    description:
      - Use this URL instead of the service's public endpoint, for example a VPC endpoint or a local
        emulator such as moto in server mode.
      - When omitted, boto3's default applies (including the E(AWS_ENDPOINT_URL) environment variable).
    type: str
    aliases: [aws_endpoint_url]
  access_key:
    description:
      - AWS access key id. When omitted, boto3's credential chain applies (E(AWS_ACCESS_KEY_ID),
        the profile, an instance or container role), as with the amazon.aws modules and AWX's
        Amazon Web Services credential type.
    type: str
    aliases: [aws_access_key_id, aws_access_key]
  secret_key:
    description:
      - AWS secret access key. When omitted, boto3's credential chain applies (E(AWS_SECRET_ACCESS_KEY), ...).
    type: str
    aliases: [aws_secret_access_key, aws_secret_key]
  session_token:
    description:
      - AWS session token of temporary credentials. When omitted, boto3's credential chain applies
        (E(AWS_SESSION_TOKEN), ...).
    type: str
    aliases: [aws_session_token]
  profile:
    description:
      - Named profile of the AWS configuration files. Cannot be combined with O(access_key),
        O(secret_key) or O(session_token).
    type: str
    aliases: [aws_profile]
requirements:
  - boto3 >= 1.34
  - botocore >= 1.34
"""
