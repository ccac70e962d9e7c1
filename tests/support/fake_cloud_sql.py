# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test double of the Cloud SQL Admin API calls that ``cloud_sql_user_password`` and
``cloud_sql_instance_protection`` make.

There is no Cloud SQL here, so this is a small HTTP server on 127.0.0.1 that answers, like
sqladmin.googleapis.com v1 does:

* ``GET /v1/projects/{p}/instances/{i}/users/{name}?host={h}``   the user (never its password)
* ``PUT /v1/projects/{p}/instances/{i}/users?name={n}&host={h}``  sets the password from the body's
  ``password``; returns an operation in status ``PENDING``
* ``GET /v1/projects/{p}/instances/{i}``                            the instance, with
  ``settings.deletionProtectionEnabled`` and ``settings.ipConfiguration`` (``requireSsl``, ``sslMode``)
* ``PATCH /v1/projects/{p}/instances/{i}``                          merges the body's
  ``settings.deletionProtectionEnabled`` and ``settings.ipConfiguration.sslMode`` / ``requireSsl``
  (the only fields it knows; any other field gives 400, and so does a requireSsl that contradicts
  sslMode, as Cloud SQL refuses it); returns an operation in status ``PENDING``
* ``GET /v1/projects/{p}/operations/{op}``                         ``RUNNING`` for the first
  ``polls_until_done`` - 1 polls, then ``DONE``

Every request must carry ``Authorization: Bearer <token>`` (401 otherwise); unknown instances or
users give 404 with the API's error body. Requests are recorded in ``requests`` (method, path with
its query, body); the password a user has now is in ``passwords``, the deletion protection of an
instance in ``protection``. Set ``operation_error`` to a
message to make operations end ``DONE`` with an error, in Cloud SQL's shape (``error.errors[]``).
"""

import json
import re
import threading
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.google_api_fake import GoogleApiFake, JsonHandler

_USER = re.compile(r"^/v1/projects/(?P<project>[^/]+)/instances/(?P<instance>[^/]+)/users/(?P<name>[^/]+)$")
_USERS = re.compile(r"^/v1/projects/(?P<project>[^/]+)/instances/(?P<instance>[^/]+)/users$")
_INSTANCE = re.compile(r"^/v1/projects/(?P<project>[^/]+)/instances/(?P<instance>[^/]+)$")
_OPERATION = re.compile(r"^/v1/projects/(?P<project>[^/]+)/operations/(?P<operation>[^/]+)$")


# sslMode values and the requireSsl that goes with each (Cloud SQL Admin API v1, IpConfiguration).
_SSL_MODES = {"ALLOW_UNENCRYPTED_AND_ENCRYPTED": False, "ENCRYPTED_ONLY": False, "TRUSTED_CLIENT_CERTIFICATE_REQUIRED": True}


def _patch_problem(body):
    """Why this fake refuses an instances.patch body, or None."""
    settings = body.get("settings") if isinstance(body, dict) else None
    if set(body or {}) != {"settings"} or not isinstance(settings, dict) or not settings \
            or not set(settings) <= {"deletionProtectionEnabled", "ipConfiguration"}:
        return "this fake only patches settings.deletionProtectionEnabled and settings.ipConfiguration"
    if "deletionProtectionEnabled" in settings and not isinstance(settings["deletionProtectionEnabled"], bool):
        return "settings.deletionProtectionEnabled must be a bool"
    if "ipConfiguration" in settings:
        ip_configuration = settings["ipConfiguration"]
        if not isinstance(ip_configuration, dict) or not ip_configuration \
                or not set(ip_configuration) <= {"sslMode", "requireSsl"}:
            return "this fake only patches settings.ipConfiguration.sslMode and requireSsl"
        mode, require = ip_configuration.get("sslMode"), ip_configuration.get("requireSsl")
        if mode is not None and mode not in _SSL_MODES:
            return "Invalid value at 'body.settings.ip_configuration.ssl_mode' (%s)" % mode
        if require is not None and not isinstance(require, bool):
            return "settings.ipConfiguration.requireSsl must be a bool"
        if mode is not None and require is not None and _SSL_MODES[mode] != require:
            return "Invalid request: the SSL mode %s is not compatible with requireSsl=%s." % (mode, require)
        if mode is None and require is None:
            return "settings.ipConfiguration needs sslMode or requireSsl"
    return None


class FakeCloudSql(GoogleApiFake):
    """``with FakeCloudSql(token) as sql:`` serves on ``sql.url``; add instances with ``add_instance``
    and users with ``add_user``."""

    def __init__(self, token="test-token", polls_until_done=1):
        self.token = token
        self.polls_until_done = polls_until_done
        self.instances = set()
        self.passwords = {}
        self.protection = {}
        self.ssl = {}
        self.operations = {}
        self.operation_error = None
        self.requests = []
        self._lock = threading.Lock()
        self._serve(self._handler_class())

    def add_instance(self, project, instance, deletion_protection=False, ssl_mode="ALLOW_UNENCRYPTED_AND_ENCRYPTED"):
        """An instance, with deletion protection on or off, and its sslMode (``requireSsl`` follows it:
        true only for TRUSTED_CLIENT_CERTIFICATE_REQUIRED, what ``requireSsl: true`` used to create)."""
        self.instances.add((project, instance))
        self.protection[(project, instance)] = deletion_protection
        self.ssl[(project, instance)] = ssl_mode

    def add_user(self, project, instance, name, host="", password="initial-password"):
        """An instance (created if new) with one built-in user."""
        if (project, instance) not in self.instances:
            self.add_instance(project, instance)
        self.passwords[(project, instance, name, host)] = password

    def _handler_class(self):
        fake = self

        class Handler(JsonHandler):
            def _error(self, status, message):
                self._answer(status, {"error": {"code": status, "message": message}})

            def _user_key(self, match, name, host):
                project, instance = unquote(match.group("project")), unquote(match.group("instance"))
                if (project, instance) not in fake.instances:
                    return None, "The Cloud SQL instance does not exist."
                key = (project, instance, name, host)
                if key not in fake.passwords:
                    return None, "The user does not exist."
                return key, None

            def _new_operation(self, operation_type, project, instance):
                name = str(uuid.uuid4())
                fake.operations[name] = {"kind": "sql#operation", "name": name, "operationType": operation_type,
                                         "status": "PENDING", "targetId": instance, "targetProject": project, "polls": 0}
                return self._answer(200, {k: v for k, v in fake.operations[name].items() if k != "polls"})

            def _instance(self, method, match, body):
                key = (unquote(match.group("project")), unquote(match.group("instance")))
                if key not in fake.instances:
                    return self._error(404, "The Cloud SQL instance does not exist.")
                if method == "PATCH":
                    problem = _patch_problem(body)
                    if problem:
                        return self._error(400, problem)
                    settings = body["settings"]
                    if "deletionProtectionEnabled" in settings:
                        fake.protection[key] = settings["deletionProtectionEnabled"]
                    if "ipConfiguration" in settings:
                        fake.ssl[key] = settings["ipConfiguration"].get("sslMode") or (
                            "TRUSTED_CLIENT_CERTIFICATE_REQUIRED" if settings["ipConfiguration"]["requireSsl"]
                            else "ALLOW_UNENCRYPTED_AND_ENCRYPTED")
                    return self._new_operation("UPDATE", key[0], key[1])
                return self._answer(200, {"kind": "sql#instance", "name": key[1], "project": key[0],
                                          "databaseVersion": "POSTGRES_16", "state": "RUNNABLE",
                                          "settings": {"kind": "sql#settings", "tier": "db-custom-2-7680",
                                                       "deletionProtectionEnabled": fake.protection.get(key, False),
                                                       "ipConfiguration": {
                                                           "kind": "sql#ipConfiguration", "ipv4Enabled": False,
                                                           "sslMode": fake.ssl.get(key, "ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
                                                           "requireSsl": _SSL_MODES[fake.ssl.get(key, "ALLOW_UNENCRYPTED_AND_ENCRYPTED")]}}})

            def _handle(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                with fake._lock:
                    fake.requests.append((method, self.path, body))
                if self.headers.get("Authorization") != "Bearer %s" % fake.token:
                    return self._error(401, "Request had invalid authentication credentials.")
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, keep_blank_values=True)
                host = query.get("host", [""])[0]
                match = _USER.match(parts.path)
                if match and method == "GET":
                    name = unquote(match.group("name"))
                    key, problem = self._user_key(match, name, host)
                    if key is None:
                        return self._error(404, problem)
                    return self._answer(200, {"kind": "sql#user", "name": name, "host": host, "instance": key[1],
                                              "project": key[0], "etag": "etag-%d" % len(fake.requests)})
                match = _USERS.match(parts.path)
                if match and method == "PUT":
                    if "name" not in query:
                        return self._error(400, "Missing required parameter: name.")
                    key, problem = self._user_key(match, query["name"][0], host)
                    if key is None:
                        return self._error(404, problem)
                    if not isinstance(body, dict) or not body.get("password"):
                        return self._error(400, "password is required.")
                    fake.passwords[key] = body["password"]
                    return self._new_operation("UPDATE_USER", key[0], key[1])
                match = _INSTANCE.match(parts.path)
                if match and method in ("GET", "PATCH"):
                    return self._instance(method, match, body)
                match = _OPERATION.match(parts.path)
                if match and method == "GET":
                    operation = fake.operations.get(unquote(match.group("operation")))
                    if operation is None:
                        return self._error(404, "operation not found")
                    operation["polls"] += 1
                    operation["status"] = "DONE" if operation["polls"] >= fake.polls_until_done else "RUNNING"
                    if operation["status"] == "DONE" and fake.operation_error:
                        operation["error"] = {"kind": "sql#operationErrors", "errors": [
                            {"kind": "sql#operationError", "code": "INTERNAL_ERROR", "message": fake.operation_error}]}
                    return self._answer(200, {k: v for k, v in operation.items() if k != "polls"})
                return self._error(404, "no such method: %s %s" % (method, self.path))

        return Handler
