# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test double of the three GKE REST API calls that ``gke_filestore_csi_driver`` makes.

There is no GKE here, so this is a small HTTP server on 127.0.0.1 that answers, like
container.googleapis.com v1 does:

* ``GET  /v1/projects/{p}/locations/{l}/clusters/{c}``            the cluster (with ``addonsConfig``)
* ``POST /v1/projects/{p}/locations/{l}/clusters/{c}:setAddons``  replaces ``addonsConfig``, returns
  an operation in status ``RUNNING``
* ``GET  /v1/projects/{p}/locations/{l}/operations/{op}``         ``RUNNING`` for the first
  ``polls_until_done`` polls, then ``DONE``

Every request must carry ``Authorization: Bearer <token>`` (401 otherwise); unknown clusters
give 404 with the API's error body. Requests are recorded in ``requests`` (method, path, body).
"""

import json
import re
import threading

from tests.support.google_api_fake import GoogleApiFake, JsonHandler

_CLUSTER = re.compile(r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/clusters/(?P<cluster>[^/:]+)(?P<verb>:setAddons)?$")
_OPERATION = re.compile(r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/operations/(?P<operation>[^/]+)$")


class FakeGke(GoogleApiFake):
    """``with FakeGke(token) as gke:`` serves on ``gke.url``; add clusters with ``add_cluster``."""

    def __init__(self, token="test-token", polls_until_done=1):
        self.token = token
        self.polls_until_done = polls_until_done
        self.clusters = {}
        self.operations = {}
        self.requests = []
        self._lock = threading.Lock()
        self._serve(self._handler_class())

    def add_cluster(self, project, location, name, addons=None):
        self.clusters[(project, location, name)] = {
            "name": name, "location": location, "status": "RUNNING",
            "addonsConfig": addons if addons is not None else {
                "httpLoadBalancing": {}, "horizontalPodAutoscaling": {}, "networkPolicyConfig": {"disabled": True},
                "gcePersistentDiskCsiDriverConfig": {"enabled": True}},
        }
        return self.clusters[(project, location, name)]

    def _handler_class(self):
        fake = self

        class Handler(JsonHandler):
            def _error(self, status, message):
                self._answer(status, {"error": {"code": status, "message": message}})

            def _handle(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                with fake._lock:
                    fake.requests.append((method, self.path, body))
                if self.headers.get("Authorization") != "Bearer %s" % fake.token:
                    return self._error(401, "Request had invalid authentication credentials.")
                match = _CLUSTER.match(self.path)
                if match:
                    key = (match.group("project"), match.group("location"), match.group("cluster"))
                    if key not in fake.clusters:
                        return self._error(404, "Not found: %s." % self.path)
                    if method == "GET" and not match.group("verb"):
                        return self._answer(200, fake.clusters[key])
                    if method == "POST" and match.group("verb"):
                        if not isinstance(body, dict) or not isinstance(body.get("addonsConfig"), dict):
                            return self._error(400, "addonsConfig is required.")
                        fake.clusters[key]["addonsConfig"] = body["addonsConfig"]
                        name = "operation-%d" % (len(fake.operations) + 1)
                        fake.operations[name] = {"name": name, "operationType": "UPDATE_CLUSTER", "status": "RUNNING", "polls": 0}
                        return self._answer(200, {k: v for k, v in fake.operations[name].items() if k != "polls"})
                match = _OPERATION.match(self.path)
                if match and method == "GET":
                    operation = fake.operations.get(match.group("operation"))
                    if operation is None:
                        return self._error(404, "operation not found")
                    operation["polls"] += 1
                    if operation["polls"] >= fake.polls_until_done:
                        operation["status"] = "DONE"
                    return self._answer(200, {k: v for k, v in operation.items() if k != "polls"})
                return self._error(404, "no such method: %s %s" % (method, self.path))

        return Handler
