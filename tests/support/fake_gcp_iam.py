# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test double of the IAM policy calls ``gcp_iam_policy_binding`` makes, on service accounts (IAM
API v1) and Cloud Storage buckets (JSON API v1).

There is no GCP here, so this is a small HTTP server on 127.0.0.1 that answers as the APIs document:

* ``POST /v1/projects/{p}/serviceAccounts/{email}:getIamPolicy?options.requestedPolicyVersion=3``
  the account's ``Policy`` (``version``, ``etag``, ``bindings`` - left out when there are none, as IAM does)
* ``POST /v1/projects/{p}/serviceAccounts/{email}:setIamPolicy`` with ``{"policy": Policy}``: refused
  with 409 ``ABORTED`` when the policy's ``etag`` is not the current one; otherwise stored with a new etag
* ``GET /storage/v1/b/{bucket}/iam?optionsRequestedPolicyVersion=3`` the bucket's policy
  (``kind: storage#policy``, ``resourceId: projects/_/buckets/<bucket>``)
* ``PUT /storage/v1/b/{bucket}/iam`` with the policy: 412 on a stale etag

Unknown accounts or buckets give 404 with the API's error body; a member that is not of IAM's form
(``serviceAccount:``, ``user:``, ``group:``, ``domain:``, ``principal://``, ``principalSet://``; on buckets
``projectOwner:`` and the like), a role not
starting with ``roles/`` or ``projects/``, or a Workload Identity member of a pool other than the
project's (``<project>.svc.id.goog``) gives 400. Every request must carry ``Authorization: Bearer
<token>`` (401 otherwise). Requests are recorded in ``requests`` (method, path with query, body);
policies are in ``policies[("sa", email)]`` / ``policies[("bucket", name)]``. ``interfere`` (a list of
callables taking the stored policy) changes a policy between a read and the next write, as another
administrator would: each is applied once, just before the next write is checked.
"""

import base64
import copy
import json
import re
import threading
from urllib.parse import unquote, urlsplit

from tests.support.google_api_fake import GoogleApiFake, JsonHandler

_SA = re.compile(r"^/v1/projects/(?P<project>[^/]+)/serviceAccounts/(?P<email>[^/:]+):(?P<verb>getIamPolicy|setIamPolicy)$")
_BUCKET = re.compile(r"^/storage/v1/b/(?P<bucket>[^/]+)/iam$")
_MEMBER = re.compile(r"^((serviceAccount|user|group|domain|deleted:serviceAccount|projectOwner|projectEditor|projectViewer):[^\s]+"
                     r"|principal(Set)?://[^\s]+)$")
_WORKLOAD = re.compile(r"^serviceAccount:(?P<pool>[^\[]+)\.svc\.id\.goog\[(?P<namespace>[^/\]]+)/(?P<name>[^\]]+)\]$")


class FakeGcpIam(GoogleApiFake):
    """``with FakeGcpIam(token) as iam:`` serves on ``iam.url``; add service accounts with
    ``add_service_account`` and buckets with ``add_bucket``."""

    def __init__(self, token="test-token", account_source=None):
        self.token = token
        # Optional: a callable email -> project (or None) naming accounts created elsewhere (the shimmed
        # gcp_iam_service_account of tests/support/cloud_fakes.py); such an account appears here, with an
        # empty policy, once it is created - and not before.
        self.account_source = account_source
        self.policies = {}
        self.projects = {}
        self.requests = []
        self.interfere = []
        self._serial = 0
        self._lock = threading.Lock()
        self._serve(self._handler_class())

    def _etag(self):
        self._serial += 1
        return base64.b64encode(b"\x00\x05" + self._serial.to_bytes(4, "big")).decode()

    def add_service_account(self, project, email, bindings=None):
        self.projects[email] = project
        self.policies[("sa", email)] = {"version": 1, "etag": self._etag(), "bindings": copy.deepcopy(bindings or [])}

    def add_bucket(self, name, bindings=None):
        self.policies[("bucket", name)] = {"version": 1, "etag": self._etag(), "bindings": copy.deepcopy(bindings or [])}

    def members(self, kind, name, role):
        """Members of the unconditional binding of ``role`` now."""
        return [member for binding in self.policies[(kind, name)]["bindings"] if binding["role"] == role
                and not binding.get("condition") for member in binding["members"]]

    def writes(self):
        return [request for request in self.requests if request[0] in ("PUT",) or request[1].split("?")[0].endswith(":setIamPolicy")]

    def _answer_policy(self, kind, name):
        policy = copy.deepcopy(self.policies[(kind, name)])
        if not policy["bindings"]:
            del policy["bindings"]
        if kind == "bucket":
            policy = dict(policy, kind="storage#policy", resourceId="projects/_/buckets/%s" % name)
        return policy

    def _problem(self, kind, name, policy):
        """Why the API refuses this policy (400), or None."""
        if not isinstance(policy, dict) or not isinstance(policy.get("bindings", []), list):
            return "Invalid JSON payload: policy must be an object with a list of bindings"
        for binding in policy.get("bindings", []):
            role = binding.get("role", "")
            if not (role.startswith("roles/") or role.startswith("projects/")):
                return "Role %s is not supported" % role
            if not binding.get("members"):
                return "Binding for %s has no members" % role
            for member in binding["members"]:
                if not _MEMBER.match(member):
                    return "Invalid principal: %s" % member
                workload = _WORKLOAD.match(member)
                if workload and kind == "sa" and workload.group("pool") != self.projects[name]:
                    return "Identity Pool does not exist (%s.svc.id.goog)." % workload.group("pool")
        return None

    def _handler_class(self):
        fake = self

        class Handler(JsonHandler):
            def _error(self, status, message, reason):
                self._answer(status, {"error": {"code": status, "message": message, "status": reason}})

            def _handle(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with fake._lock:
                    fake.requests.append((method, self.path, body))
                    if self.headers.get("Authorization") != "Bearer %s" % fake.token:
                        return self._error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
                    path = urlsplit(self.path).path
                    account, bucket = _SA.match(path), _BUCKET.match(path)
                    if account and method == "POST":
                        key, verb, conflict = ("sa", unquote(account.group("email"))), account.group("verb"), 409
                        policy = (body or {}).get("policy") if verb == "setIamPolicy" else None
                    elif bucket and method in ("GET", "PUT"):
                        key, verb, conflict = ("bucket", unquote(bucket.group("bucket"))), \
                            ("getIamPolicy" if method == "GET" else "setIamPolicy"), 412
                        policy = body
                    else:
                        return self._error(404, "No route for %s %s" % (method, path), "NOT_FOUND")
                    if key not in fake.policies and key[0] == "sa" and fake.account_source:
                        project = fake.account_source(key[1])
                        if project:
                            fake.projects[key[1]] = project
                            fake.policies[key] = {"version": 1, "etag": fake._etag(), "bindings": []}
                    if key not in fake.policies:
                        what = "Service account" if key[0] == "sa" else "The specified bucket"
                        return self._error(404, "%s %s does not exist." % (what, key[1]), "NOT_FOUND")
                    if verb == "getIamPolicy":
                        return self._answer(200, fake._answer_policy(*key))
                    while fake.interfere:
                        fake.interfere.pop(0)(fake.policies[key])
                        fake.policies[key]["etag"] = fake._etag()
                    if not isinstance(policy, dict) or policy.get("etag") != fake.policies[key]["etag"]:
                        return self._error(conflict, "There were concurrent policy changes. Please retry the whole "
                                                     "read-modify-write with exponential backoff.", "ABORTED")
                    problem = fake._problem(key[0], key[1], policy)
                    if problem:
                        return self._error(400, problem, "INVALID_ARGUMENT")
                    fake.policies[key] = {"version": policy.get("version", 1), "etag": fake._etag(),
                                          "bindings": copy.deepcopy(policy.get("bindings", []))}
                    return self._answer(200, fake._answer_policy(*key))

        return Handler
