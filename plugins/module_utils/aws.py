# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared plumbing of the airflow_k8s.cloud AWS modules: connection options and boto3 clients.

The options have the names (and main aliases) of the amazon.aws modules, so that the same task
variables work for both. Anything not given falls back to boto3's own defaults: the standard
``AWS_*`` environment variables (as set by AWX's Amazon Web Services credential type), the
shared configuration files, then instance or container roles.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import time
import traceback

from ansible.module_utils.basic import missing_required_lib

BOTO3_IMPORT_ERROR = None
try:
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError  # pylint: disable=unused-import
except ImportError:  # pragma: no cover - reported by check_boto3()
    BOTO3_IMPORT_ERROR = traceback.format_exc()
    boto3 = None  # pylint: disable=invalid-name
    botocore = None  # pylint: disable=invalid-name
    Config = None  # pylint: disable=invalid-name

    class BotoCoreError(Exception):
        """Placeholder so that ``except`` clauses work without botocore."""

    class ClientError(Exception):
        """Placeholder so that ``except`` clauses work without botocore."""

#: Oldest boto3/botocore these modules are tested with.
MINIMUM_BOTO3 = "1.34.0"

#: Connection options; every AWS module of the collection adds them to its argument spec.
AWS_ARGUMENT_SPEC = dict(
    region=dict(type="str", aliases=["aws_region"]),
    endpoint_url=dict(type="str", aliases=["aws_endpoint_url"]),
    access_key=dict(type="str", aliases=["aws_access_key_id", "aws_access_key"], no_log=False),
    secret_key=dict(type="str", aliases=["aws_secret_access_key", "aws_secret_key"], no_log=True),
    session_token=dict(type="str", aliases=["aws_session_token"], no_log=True),
    profile=dict(type="str", aliases=["aws_profile"]),
)

#: Options that cannot be combined with a profile.
AWS_MUTUALLY_EXCLUSIVE = [["profile", "access_key"], ["profile", "secret_key"], ["profile", "session_token"]]


def aws_argument_spec(**specific):
    """The connection options plus a module's own options."""
    spec = dict(AWS_ARGUMENT_SPEC)
    spec.update(specific)
    return spec


def _version_tuple(text):
    parts = []
    for part in text.split(".")[:3]:
        digits = "".join(character for character in part if character.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_boto3(module):
    """Fail the module cleanly when boto3/botocore are missing or too old."""
    if BOTO3_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("boto3 and botocore"), exception=BOTO3_IMPORT_ERROR)
    for name, library in (("boto3", boto3), ("botocore", botocore)):
        if _version_tuple(library.__version__) < _version_tuple(MINIMUM_BOTO3):
            module.fail_json(msg="%s >= %s is required, found %s (pin boto3>=1.34 and kubernetes!=37.0.2; see "
                                 "requirements.txt)" % (name, MINIMUM_BOTO3, library.__version__))


def client(module, service):
    """A boto3 client for ``service`` built from the module's connection options."""
    check_boto3(module)
    params = module.params
    session = boto3.session.Session(
        aws_access_key_id=params.get("access_key") or None,
        aws_secret_access_key=params.get("secret_key") or None,
        aws_session_token=params.get("session_token") or None,
        profile_name=params.get("profile") or None,
    )
    config = Config(user_agent_extra="airflow_k8s.cloud", retries={"max_attempts": 10, "mode": "standard"})
    try:
        return session.client(service, region_name=params.get("region") or None,
                              endpoint_url=params.get("endpoint_url") or None, config=config)
    except (BotoCoreError, ValueError) as error:
        module.fail_json(msg="Cannot create the %s client: %s" % (service, error))
    return None  # pragma: no cover - fail_json exits


def error_code(error):
    """The AWS error code of a ``ClientError`` (``''`` for anything else)."""
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


def fail_aws(module, error, what):
    """Fail with a message that says what was attempted and what AWS answered."""
    module.fail_json(msg="%s failed: %s" % (what, error), error_code=error_code(error),
                     exception=traceback.format_exc())


def wait_until(module, predicate, timeout, what, delay=5):
    """Call ``predicate()`` until it returns a true value (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            module.fail_json(msg="Timed out after %d seconds waiting for %s." % (timeout, what))
        time.sleep(delay)


def tags_to_dict(tags):
    """``[{'Key': k, 'Value': v}]`` (EC2/EFS style) to ``{k: v}``."""
    return dict((tag["Key"], tag.get("Value", "")) for tag in tags or [])


def tags_to_list(tags):
    """``{k: v}`` to ``[{'Key': k, 'Value': v}]``, sorted by key."""
    return [{"Key": key, "Value": value} for key, value in sorted((tags or {}).items())]


def tag_changes(current, wanted, purge):
    """Tags to set and tag keys to remove to go from ``current`` to ``wanted`` (dicts)."""
    to_set = dict((key, value) for key, value in (wanted or {}).items() if current.get(key) != value)
    to_remove = sorted(key for key in current if purge and key not in (wanted or {}) and not key.startswith("aws:"))
    return to_set, to_remove
