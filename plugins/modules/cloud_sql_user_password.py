#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloud_sql_user_password
short_description: Set the password of an existing Cloud SQL user
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Sets the password of an existing built-in user of a Cloud SQL instance, through the Cloud SQL
    Admin REST API (C(users.get), then C(users.update)), and waits for the Cloud SQL operation.
  - Why a module of its own - M(google.cloud.gcp_sql_user) never changes the password of an
    existing user. It decides whether to update by comparing only the fields the API returns, and
    the API never returns a password, so a new password in the inventory is silently ignored and the
    application's logins then fail. C(gcloud sql users set-password) would do it, but it has no check
    mode and there is no C(gcloud) on AWX execution environments.
  - A password cannot be read back, so the module cannot tell whether it would change anything. It
    always sends the password and always reports C(changed=true). The caller decides when to
    call it, for example only when the password given in the inventory differs from the one kept
    elsewhere, or when a reset is asked for explicitly.
  - Fails, naming the user and the instance, when the user does not exist (create it first, for
    example with M(google.cloud.gcp_sql_user)).
  - The password is never returned and never logged.
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
  name:
    description: Name of the user.
    type: str
    required: true
  host:
    description:
      - Host of the user. Empty for PostgreSQL and SQL Server users; MySQL users may have one
        (C(%) for any host).
    type: str
    default: ""
  password:
    description: The new password. Must not be empty.
    type: str
    required: true
  wait:
    description: Wait for the Cloud SQL operation that sets the password to finish.
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
    description: Checks that the user exists and reports C(changed=true); sends no password.
  diff_mode:
    support: none
    description:
      - There is nothing to show - the current password cannot be read, and the new one is a secret.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
notes:
  - Set C(no_log) on the task as well, so that the password does not appear in the task's arguments
    when Ansible reports a failure.
  - Setting the password of a PostgreSQL user does not end the sessions already open with the old one.
requirements:
  - google-auth (only for O(auth_kind=serviceaccount) and O(auth_kind=application))
seealso:
  - module: google.cloud.gcp_sql_user
  - name: Cloud SQL Admin API users.update
    description: The REST call this module makes.
    link: https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/users/update
"""

EXAMPLES = r"""
- name: Create the Airflow login (an existing user keeps its password)
  google.cloud.gcp_sql_user:
    project: my-project
    instance:
      name: airflow-db
    name: airflow
    host: ""
    password: "{{ airflow_database_password }}"
    state: present
  no_log: true

- name: Set the new password of the Airflow login, only when it changed
  airflow_k8s.cloud.cloud_sql_user_password:
    project: my-project
    instance: airflow-db
    name: airflow
    password: "{{ airflow_database_password }}"
  when: airflow_database_password_changed | bool
  no_log: true
"""

RETURN = r"""
user:
  description: Name of the user whose password was set (in check mode, would be).
  returned: success
  type: str
  sample: airflow
instance:
  description: Name of the instance.
  returned: success
  type: str
  sample: airflow-db
operation:
  description: The Cloud SQL operation that set the password (its final state when O(wait=true)).
  returned: changed and not check mode
  type: dict
  sample: {"name": "8b2e3c1a-0000-4f00-a000-000000000000", "operationType": "UPDATE_USER", "status": "DONE"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.gcp_rest import (
    GcpRestError,
    finish_operation,
    gcp_auth_argument_spec,
    run_module,
)


def argument_spec():
    spec = gcp_auth_argument_spec()
    spec.update(
        instance=dict(type="str", required=True),
        name=dict(type="str", required=True),
        host=dict(type="str", default=""),
        password=dict(type="str", required=True, no_log=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        api_endpoint=dict(type="str", default="https://sqladmin.googleapis.com"),
    )
    return spec


def run(module, client):
    params = module.params
    if not params["password"]:
        module.fail_json(msg="password must not be empty.")
    project_url = "%s/v1/projects/%s" % (params["api_endpoint"].rstrip("/"), quote(params["project"], safe=""))
    users_url = "%s/instances/%s/users" % (project_url, quote(params["instance"], safe=""))
    try:
        client.get("%s/%s?%s" % (users_url, quote(params["name"], safe=""), urlencode({"host": params["host"]})))
    except GcpRestError as error:
        if error.status == 404:
            module.fail_json(msg="Cloud SQL user %s (host '%s') not found on instance %s in project %s: create it first."
                             % (params["name"], params["host"], params["instance"], params["project"]))
        raise
    result = dict(changed=True, user=params["name"], instance=params["instance"])
    if module.check_mode:
        return result
    operation = client.put("%s?%s" % (users_url, urlencode({"name": params["name"], "host": params["host"]})),
                           {"name": params["name"], "password": params["password"]})
    result["operation"] = finish_operation(client, operation, project_url + "/operations", params["wait"],
                                           params["wait_timeout"])
    return result


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), run)


if __name__ == "__main__":
    main()
