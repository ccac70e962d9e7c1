#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: gcp_iam_policy_binding
short_description: Grant a role to members on one Google service account or Cloud Storage bucket, leaving every other binding alone
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Adds O(members) to the binding of O(role) in the IAM policy of one resource (O(state=present)), or
    removes exactly those members from it (O(state=absent)). Every other binding, every other member of
    the role and every conditional binding stay as they are.
  - Read-modify-write with the policy's C(etag) - the policy is read, changed in memory and written back
    with the C(etag) it was read with, so a change someone made in between is never overwritten - the API
    refuses the write (HTTP 409 or 412) and the module reads again and retries, up to O(max_attempts) times.
  - Idempotent - nothing is written when every member already has (or has not) the role.
  - Resources - V(service_account), a Google service account (IAM API C(projects.serviceAccounts.getIamPolicy)
    and C(setIamPolicy)), for example granting C(roles/iam.workloadIdentityUser) to Kubernetes
    ServiceAccounts for GKE Workload Identity (C(serviceAccount:<project>.svc.id.goog[<namespace>/<name>]));
    V(storage_bucket), a Cloud Storage bucket (JSON API C(buckets.getIamPolicy) and C(setIamPolicy)).
  - Why a module of its own - the google.cloud collection has no module for the IAM policy of a service
    account or of a bucket (M(google.cloud.gcp_iam_service_account) creates the account only,
    M(google.cloud.gcp_storage_bucket_access_control) sets legacy ACLs, not IAM), and
    C(gcloud iam service-accounts add-iam-policy-binding) has no check mode, reports no change and is not on
    AWX execution environments. The requests go through this collection's small Google REST client
    (C(plugins/module_utils/gcp_rest.py)), with the google.cloud options and environment variables.
  - A service account created in the same run may not be visible to C(getIamPolicy) for a few seconds (IAM
    is eventually consistent) - a C(404) is retried for O(not_found_timeout) seconds before the module fails.
extends_documentation_fragment:
  - airflow_k8s.cloud.gcp
options:
  project:
    description:
      - Project of the service account (V(service_account)); also the project the credentials act for.
        Defaults to the C(GCP_PROJECT) environment variable.
    type: str
    required: true
  resource_type:
    description: What O(resource) is.
    type: str
    required: true
    choices: [service_account, storage_bucket]
  resource:
    description:
      - V(service_account) - the email of the Google service account (C(name@project.iam.gserviceaccount.com)).
      - V(storage_bucket) - the name of the bucket.
    type: str
    required: true
  role:
    description: The role, for example C(roles/iam.workloadIdentityUser) or C(roles/storage.objectAdmin).
    type: str
    required: true
  members:
    description:
      - The principals, in IAM's form (C(serviceAccount:...), C(user:...), C(group:...), C(principal://...)).
      - Only these members are added or removed; others of the role are left alone.
    type: list
    elements: str
    required: true
  state:
    description: Grant the role to the members (V(present)) or take it from exactly them (V(absent)).
    type: str
    choices: [present, absent]
    default: present
  max_attempts:
    description: How many times to read and write the policy when a concurrent change makes the write fail.
    type: int
    default: 5
  not_found_timeout:
    description:
      - How many seconds a resource that is not found (HTTP 404) is read again before the module fails, for a
        service account created moments earlier. In check mode a missing resource is reported as a change instead.
    type: int
    default: 60
  api_endpoint:
    description:
      - Base URL of the API. Change it only for a private endpoint or a test double.
      - Default C(https://iam.googleapis.com) for V(service_account), C(https://storage.googleapis.com) for V(storage_bucket).
    type: str
attributes:
  check_mode:
    support: full
    description: Reads the policy and reports whether the members would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the members of O(role) before and after.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
requirements:
  - google-auth (only for O(auth_kind=serviceaccount) and O(auth_kind=application))
seealso:
  - module: google.cloud.gcp_iam_service_account
  - name: IAM API projects.serviceAccounts.setIamPolicy
    description: The REST call for a service account.
    link: https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/setIamPolicy
  - name: Cloud Storage buckets.setIamPolicy
    description: The REST call for a bucket.
    link: https://cloud.google.com/storage/docs/json_api/v1/buckets/setIamPolicy
  - name: Use Workload Identity Federation for GKE
    description: The binding that lets Kubernetes ServiceAccounts act as a Google service account.
    link: https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity
"""

EXAMPLES = r"""
- name: Let the Airflow ServiceAccounts act as the Google service account (GKE Workload Identity)
  airflow_k8s.cloud.gcp_iam_policy_binding:
    project: my-project
    resource_type: service_account
    resource: airflow-pods@my-project.iam.gserviceaccount.com
    role: roles/iam.workloadIdentityUser
    members:
      - serviceAccount:my-project.svc.id.goog[airflow/airflow-scheduler]
      - serviceAccount:my-project.svc.id.goog[airflow/airflow-task]

- name: Let the service account write the task logs to the bucket
  airflow_k8s.cloud.gcp_iam_policy_binding:
    project: my-project
    resource_type: storage_bucket
    resource: my-airflow-logs
    role: roles/storage.objectAdmin
    members: [serviceAccount:airflow-pods@my-project.iam.gserviceaccount.com]
"""

RETURN = r"""
members:
  description: The members of O(role) (the unconditional binding) now; in check mode, as they would be.
  returned: success
  type: list
  elements: str
  sample: ["serviceAccount:my-project.svc.id.goog[airflow/airflow-scheduler]"]
added:
  description: Members the run granted the role to (in check mode, would grant).
  returned: success
  type: list
  elements: str
removed:
  description: Members the run took the role from (in check mode, would take it from).
  returned: success
  type: list
  elements: str
etag:
  description: The C(etag) of the policy as written (or as read, when nothing was written).
  returned: success and the resource exists
  type: str
  sample: BwYmW0Bx5K0=
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.gcp_rest import (
    GcpRestError,
    gcp_auth_argument_spec,
    run_module,
)

DEFAULT_ENDPOINTS = {"service_account": "https://iam.googleapis.com", "storage_bucket": "https://storage.googleapis.com"}
# IAM answers a stale etag with 409 (ABORTED), Cloud Storage with 412 (Precondition Failed).
CONFLICT_STATUSES = (409, 412)
# Read policies in version 3, so that conditional role bindings are returned whole (and written back as read).
POLICY_VERSION = 3


def role_members(policy, role):
    """Members of the unconditional binding of ``role`` (conditional bindings are other grants)."""
    members = []
    for binding in policy.get("bindings") or []:
        if binding.get("role") == role and not binding.get("condition"):
            members.extend(binding.get("members") or [])
    return members


def merge_members(policy, role, members, state):
    """The policy with ``members`` added to (present) or removed from (absent) the unconditional binding
    of ``role``; every other binding unchanged. Returns (new policy, added, removed)."""
    current = role_members(policy, role)
    if state == "present":
        added = [member for member in dict.fromkeys(members) if member not in current]
        removed = []
        wanted = current + added
    else:
        added = []
        removed = [member for member in dict.fromkeys(members) if member in current]
        wanted = [member for member in current if member not in removed]
    bindings, placed = [], False
    for binding in policy.get("bindings") or []:
        if binding.get("role") != role or binding.get("condition"):
            bindings.append(binding)
        elif not placed:
            placed = True
            if wanted:
                bindings.append(dict(binding, members=wanted))
        # Further unconditional bindings of the role (IAM merges them) were folded into the first.
    if not placed and wanted:
        bindings.append({"role": role, "members": wanted})
    # The version and etag go back as read: the etag makes a concurrent change fail the write.
    return dict(policy, bindings=bindings), added, removed


class PolicyApi(object):
    """Reads and writes the IAM policy of one resource."""

    def __init__(self, client, resource_type, project, resource, endpoint):
        self.client = client
        self.resource_type = resource_type
        base = (endpoint or DEFAULT_ENDPOINTS[resource_type]).rstrip("/")
        if resource_type == "service_account":
            self.url = "%s/v1/projects/%s/serviceAccounts/%s" % (base, quote(project, safe=""), quote(resource, safe="@"))
        else:
            self.url = "%s/storage/v1/b/%s/iam" % (base, quote(resource, safe=""))

    def read(self):
        if self.resource_type == "service_account":
            return self.client.post("%s:getIamPolicy?options.requestedPolicyVersion=%d" % (self.url, POLICY_VERSION), None)
        return self.client.get("%s?optionsRequestedPolicyVersion=%d" % (self.url, POLICY_VERSION))

    def write(self, policy):
        if self.resource_type == "service_account":
            return self.client.post(self.url + ":setIamPolicy", {"policy": policy})
        return self.client.put(self.url, policy)


def read_policy(module, api, sleep, clock):
    """The policy, reading again while the resource is not found (IAM's eventual consistency);
    None in check mode when it does not exist."""
    deadline = clock() + module.params["not_found_timeout"]
    while True:
        try:
            return api.read()
        except GcpRestError as error:
            if error.status != 404:
                raise
            if module.check_mode:
                return None
            if clock() >= deadline:
                module.fail_json(msg="%s %s not found (project %s): create it first."
                                 % (module.params["resource_type"].replace("_", " "), module.params["resource"],
                                    module.params["project"]))
            sleep(5)


def run(module, client, sleep=time.sleep, clock=time.time):
    params = module.params
    api = PolicyApi(client, params["resource_type"], params["project"], params["resource"], params["api_endpoint"])
    label = "%s %s" % (params["resource_type"].replace("_", " "), params["resource"])
    for attempt in range(1, params["max_attempts"] + 1):
        policy = read_policy(module, api, sleep, clock)
        if policy is None:
            # Check mode, the resource does not exist yet (created by an earlier task of the run).
            wanted = list(dict.fromkeys(params["members"])) if params["state"] == "present" else []
            return _result(module, label, [], wanted, wanted, [], None)
        before = role_members(policy, params["role"])
        new, added, removed = merge_members(policy, params["role"], params["members"], params["state"])
        after = role_members(new, params["role"])
        if not (added or removed) or module.check_mode:
            return _result(module, label, before, after, added, removed, policy.get("etag"))
        try:
            written = api.write(new)
        except GcpRestError as error:
            if error.status in CONFLICT_STATUSES and attempt < params["max_attempts"]:
                continue
            if error.status in CONFLICT_STATUSES:
                module.fail_json(msg="The IAM policy of %s kept changing while it was written (%d attempts): %s"
                                 % (label, attempt, error))
            raise
        return _result(module, label, before, after, added, removed, written.get("etag", policy.get("etag")))
    raise AssertionError("unreachable")  # pragma: no cover


def _result(module, label, before, after, added, removed, etag):
    result = dict(changed=bool(added or removed), members=after, added=added, removed=removed)
    if etag is not None:
        result["etag"] = etag
    if module._diff:
        role = module.params["role"]
        result["diff"] = dict(before={role: sorted(before)}, after={role: sorted(after)},
                              before_header=label, after_header=label)
    return result


def argument_spec():
    spec = gcp_auth_argument_spec()
    spec.update(
        resource_type=dict(type="str", required=True, choices=sorted(DEFAULT_ENDPOINTS)),
        resource=dict(type="str", required=True),
        role=dict(type="str", required=True),
        members=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        max_attempts=dict(type="int", default=5),
        not_found_timeout=dict(type="int", default=60),
        api_endpoint=dict(type="str"),
    )
    return spec


def _check(module):
    if module.params["max_attempts"] < 1:
        return "max_attempts must be at least 1."
    if not module.params["members"]:
        return "members must name at least one principal."
    return None


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), run, check=_check)


if __name__ == "__main__":
    main()
