#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloud_sql_instance_protection
short_description: Set the deletion protection and the TLS requirement of an existing Cloud SQL instance
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Sets C(settings.deletionProtectionEnabled) and, when O(ssl_mode) is given,
    C(settings.ipConfiguration.sslMode) of an existing Cloud SQL instance through the Cloud SQL
    Admin REST API (C(instances.get), then C(instances.patch) with only those fields), and waits for
    the Cloud SQL operation.
  - Why a module of its own - M(google.cloud.gcp_sql_instance) has no option for deletion protection
    and cannot update an existing instance at all, so protection could only be set in the console or
    with C(gcloud sql instances patch --deletion-protection), which has no check mode, reports no
    change and is not on AWX execution environments.
  - For the same reason C(sslMode) - M(google.cloud.gcp_sql_instance) only knows C(requireSsl), and
    C(requireSsl=true) makes Cloud SQL demand client certificates (C(TRUSTED_CLIENT_CERTIFICATE_REQUIRED)),
    which a client using C(sslmode=require) and no certificate, as Airflow does, cannot present.
    O(ssl_mode=ENCRYPTED_ONLY) requires TLS without client certificates.
  - Idempotent - reads the current setting first and sends nothing when it already has the wanted
    value. C(instances.patch) changes only the fields in the request, so no other setting of the
    instance is touched.
  - Fails, naming the instance and the project, when the instance does not exist (create it first,
    for example with M(google.cloud.gcp_sql_instance)).
  - Turn protection off before deleting an instance; Cloud SQL refuses to delete a protected one.
  - Authentication uses the options and environment variables of the google.cloud collection
    (C(GCP_AUTH_KIND), C(GCP_SERVICE_ACCOUNT_FILE), C(GCP_SERVICE_ACCOUNT_CONTENTS), C(GCP_ACCESS_TOKEN),
    C(GCP_PROJECT)).
extends_documentation_fragment:
  - airflow_k8s.cloud.gcp
options:
  project:
    description: Project of the instance. Defaults to the C(GCP_PROJECT) environment variable.
    type: str
    required: true
  instance:
    description: Name of the Cloud SQL instance (without the project).
    type: str
    required: true
  deletion_protection:
    description: Whether the instance is protected against deletion.
    type: bool
    default: true
  ssl_mode:
    description:
      - The TLS requirement of the instance (C(settings.ipConfiguration.sslMode)). C(requireSsl), which
        Cloud SQL keeps consistent with it, is sent along (V(true) only for V(TRUSTED_CLIENT_CERTIFICATE_REQUIRED)).
      - Not given - the setting is left as it is.
    type: str
    choices: [ALLOW_UNENCRYPTED_AND_ENCRYPTED, ENCRYPTED_ONLY, TRUSTED_CLIENT_CERTIFICATE_REQUIRED]
  wait:
    description: Wait for the Cloud SQL operation that changes the setting to finish.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait for the operation.
    type: int
    default: 300
  api_endpoint:
    description:
      - Base URL of the Cloud SQL Admin API. Change it only for a private endpoint or a test double.
    type: str
    default: https://sqladmin.googleapis.com
attributes:
  check_mode:
    support: full
    description: Reads the instance and reports whether the setting would change; sends no change.
  diff_mode:
    support: full
    description: Shows C(deletionProtectionEnabled) (and C(sslMode) when O(ssl_mode) is given) before and after.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
requirements:
  - google-auth (only for O(auth_kind=serviceaccount) and O(auth_kind=application))
seealso:
  - module: google.cloud.gcp_sql_instance
  - name: Cloud SQL Admin API instances.patch
    description: The REST call this module makes.
    link: https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances/patch
  - name: Prevent deletion of a Cloud SQL instance
    description: What deletion protection does.
    link: https://cloud.google.com/sql/docs/postgres/deletion-protection
"""

EXAMPLES = r"""
- name: Protect the Airflow database instance against deletion
  airflow_k8s.cloud.cloud_sql_instance_protection:
    project: my-project
    instance: airflow-db

- name: Require TLS, without client certificates
  airflow_k8s.cloud.cloud_sql_instance_protection:
    project: my-project
    instance: airflow-db
    ssl_mode: ENCRYPTED_ONLY

- name: Remove the protection before deleting the instance
  airflow_k8s.cloud.cloud_sql_instance_protection:
    project: my-project
    instance: airflow-db
    deletion_protection: false
"""

RETURN = r"""
instance:
  description: Name of the instance.
  returned: success
  type: str
  sample: airflow-db
deletion_protection:
  description: Whether the instance is protected now (in check mode, would be).
  returned: success
  type: bool
  sample: true
previous_deletion_protection:
  description: Whether the instance was protected before the module ran.
  returned: success
  type: bool
  sample: false
ssl_mode:
  description: The TLS requirement now (in check mode, would be).
  returned: success
  type: str
  sample: ENCRYPTED_ONLY
previous_ssl_mode:
  description: The TLS requirement before the module ran.
  returned: success
  type: str
  sample: TRUSTED_CLIENT_CERTIFICATE_REQUIRED
operation:
  description: The Cloud SQL operation that changed the setting (its final state when O(wait=true)).
  returned: changed and not check mode
  type: dict
  sample: {"name": "8b2e3c1a-0000-4f00-a000-000000000000", "operationType": "UPDATE", "status": "DONE"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.gcp_rest import (
    GcpRestError,
    finish_operation,
    gcp_auth_argument_spec,
    run_module,
)


# Cloud SQL's sslMode values, with the requireSsl each is consistent with.
SSL_MODES = {"ALLOW_UNENCRYPTED_AND_ENCRYPTED": False, "ENCRYPTED_ONLY": False, "TRUSTED_CLIENT_CERTIFICATE_REQUIRED": True}


def live_ssl_mode(ip_configuration):
    """The instance's sslMode; instances from before sslMode existed only report requireSsl."""
    if ip_configuration.get("sslMode"):
        return ip_configuration["sslMode"]
    return "TRUSTED_CLIENT_CERTIFICATE_REQUIRED" if ip_configuration.get("requireSsl") else "ALLOW_UNENCRYPTED_AND_ENCRYPTED"


def argument_spec():
    spec = gcp_auth_argument_spec()
    spec.update(
        instance=dict(type="str", required=True),
        deletion_protection=dict(type="bool", default=True),
        ssl_mode=dict(type="str", choices=list(SSL_MODES)),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        api_endpoint=dict(type="str", default="https://sqladmin.googleapis.com"),
    )
    return spec


def run(module, client):
    params = module.params
    project_url = "%s/v1/projects/%s" % (params["api_endpoint"].rstrip("/"), quote(params["project"], safe=""))
    instance_url = "%s/instances/%s" % (project_url, quote(params["instance"], safe=""))
    try:
        instance = client.get(instance_url)
    except GcpRestError as error:
        if error.status == 404:
            module.fail_json(msg="Cloud SQL instance %s not found in project %s: create it first."
                             % (params["instance"], params["project"]))
        raise
    settings = instance.get("settings") or {}
    wanted = params["deletion_protection"]
    previous = bool(settings.get("deletionProtectionEnabled", False))
    previous_ssl = live_ssl_mode(settings.get("ipConfiguration") or {})
    wanted_ssl = params["ssl_mode"] or previous_ssl
    patch = {}
    if previous != wanted:
        patch["deletionProtectionEnabled"] = wanted
    if previous_ssl != wanted_ssl:
        patch["ipConfiguration"] = {"sslMode": wanted_ssl, "requireSsl": SSL_MODES[wanted_ssl]}
    result = dict(changed=bool(patch), instance=params["instance"], deletion_protection=wanted,
                  previous_deletion_protection=previous, ssl_mode=wanted_ssl, previous_ssl_mode=previous_ssl)
    if module._diff:
        before, after = {"deletionProtectionEnabled": previous}, {"deletionProtectionEnabled": wanted}
        if params["ssl_mode"]:
            before["sslMode"], after["sslMode"] = previous_ssl, wanted_ssl
        result["diff"] = dict(before=before, after=after,
                              before_header="%s/%s" % (params["project"], params["instance"]),
                              after_header="%s/%s" % (params["project"], params["instance"]))
    if not result["changed"] or module.check_mode:
        return result
    operation = client.patch(instance_url, {"settings": patch})
    result["operation"] = finish_operation(client, operation, project_url + "/operations", params["wait"],
                                           params["wait_timeout"])
    return result


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), run)


if __name__ == "__main__":
    main()
