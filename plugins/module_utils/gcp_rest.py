# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small authenticated JSON client for Google Cloud REST APIs, for the collection's modules.

Authentication follows the google.cloud collection, with the same options and the same
environment variables, so one AWX credential serves both:

* ``accesstoken`` (``GCP_ACCESS_TOKEN``): a ready OAuth 2 access token; needs no library.
* ``serviceaccount`` (``GCP_SERVICE_ACCOUNT_FILE`` or ``GCP_SERVICE_ACCOUNT_CONTENTS``) and
  ``application`` (Application Default Credentials): need the ``google-auth`` library, as the
  google.cloud modules do.

HTTP goes through ``ansible.module_utils.urls.open_url`` (no ``requests`` dependency).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import time

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible.module_utils.urls import open_url

try:
    import google.auth
    import google.auth.transport.requests
    from google.oauth2 import service_account
    HAS_GOOGLE_AUTH = True
except ImportError:
    HAS_GOOGLE_AUTH = False

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def gcp_auth_argument_spec():
    """Options shared by the collection's GCP modules (same names and variables as google.cloud)."""
    return dict(
        project=dict(type="str", required=True, fallback=(env_fallback, ["GCP_PROJECT"])),
        auth_kind=dict(type="str", required=True, choices=["application", "serviceaccount", "accesstoken"],
                       fallback=(env_fallback, ["GCP_AUTH_KIND"])),
        service_account_file=dict(type="path", fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_FILE"])),
        service_account_contents=dict(type="jsonarg", no_log=True, fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_CONTENTS"])),
        access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["GCP_ACCESS_TOKEN"])),
        scopes=dict(type="list", elements="str", default=[CLOUD_PLATFORM_SCOPE]),
    )


class GcpRestError(Exception):
    """An API call failed; ``status`` is the HTTP status (None for a connection error)."""

    def __init__(self, message, status=None):
        super(GcpRestError, self).__init__(message)
        self.status = status


class GcpRestClient(object):
    """JSON requests to a Google Cloud REST API with the module's credentials."""

    def __init__(self, module, timeout=60):
        self.module = module
        self.timeout = timeout
        self._token = None

    def _credentials_token(self):
        params = self.module.params
        kind = params["auth_kind"]
        if kind == "accesstoken":
            if not params.get("access_token"):
                raise GcpRestError("auth_kind=accesstoken needs access_token (or GCP_ACCESS_TOKEN).")
            return params["access_token"]
        if not HAS_GOOGLE_AUTH:
            raise GcpRestError("auth_kind=%s needs the google-auth Python library (pip install google-auth requests); "
                               "auth_kind=accesstoken does not." % kind)
        scopes = params.get("scopes") or [CLOUD_PLATFORM_SCOPE]
        if kind == "serviceaccount":
            if params.get("service_account_contents"):
                info = params["service_account_contents"]
                info = json.loads(info) if not isinstance(info, dict) else info
                credentials = service_account.Credentials.from_service_account_info(info, scopes=scopes)
            elif params.get("service_account_file"):
                credentials = service_account.Credentials.from_service_account_file(params["service_account_file"], scopes=scopes)
            else:
                raise GcpRestError("auth_kind=serviceaccount needs service_account_file or service_account_contents.")
        else:
            credentials, _project = google.auth.default(scopes=scopes)
        credentials.refresh(google.auth.transport.requests.Request())
        return credentials.token

    def token(self):
        if self._token is None:
            self._token = self._credentials_token()
        return self._token

    def request(self, method, url, body=None):
        """Send one request; return the decoded JSON answer (``{}`` when empty)."""
        headers = {"Authorization": "Bearer %s" % self.token(), "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            response = open_url(url, method=method, data=data, headers=headers, timeout=self.timeout)
            text = response.read()
        except HTTPError as error:
            detail = ""
            try:
                detail = json.loads(error.read()).get("error", {}).get("message", "")
            except Exception:  # pylint: disable=broad-except
                detail = ""
            raise GcpRestError("%s %s failed with HTTP %s%s" % (method, url, error.code, ": " + detail if detail else ""),
                               status=error.code)
        except URLError as error:
            raise GcpRestError("%s %s failed: %s" % (method, url, error.reason))
        return json.loads(text) if text else {}

    def get(self, url):
        return self.request("GET", url)

    def post(self, url, body):
        return self.request("POST", url, body)

    def put(self, url, body):
        return self.request("PUT", url, body)

    def patch(self, url, body):
        return self.request("PATCH", url, body)


def _operation_error_message(error):
    """The message of an operation's ``error``: GKE gives ``message``, Cloud SQL a list ``errors``."""
    if error.get("message"):
        return error["message"]
    messages = [item.get("message") or item.get("code") for item in error.get("errors") or [] if isinstance(item, dict)]
    messages = [message for message in messages if message]
    return "; ".join(messages) if messages else error


def wait_for_operation(client, operation_url, timeout, interval=5.0, sleep=time.sleep, clock=time.time):
    """Poll a long-running operation until its ``status`` is ``DONE``; return it or raise."""
    deadline = clock() + timeout
    while True:
        operation = client.get(operation_url)
        if operation.get("status") == "DONE":
            error = operation.get("error") or {}
            if error:
                raise GcpRestError("operation %s failed: %s" % (operation.get("name", "?"), _operation_error_message(error)))
            return operation
        if clock() >= deadline:
            raise GcpRestError("operation %s did not finish within %s seconds (status %s)"
                               % (operation.get("name", "?"), timeout, operation.get("status")))
        sleep(interval)


def finish_operation(client, operation, operations_url, wait, timeout):
    """The long-running operation a write returned; polled until ``DONE`` first when ``wait`` is set
    and it is not done yet. ``operations_url`` is the API's operations collection."""
    if wait and operation.get("name") and operation.get("status") != "DONE":
        return wait_for_operation(client, "%s/%s" % (operations_url, quote(operation["name"], safe="")), timeout)
    return operation


def run_module(module, run, check=None):
    """The rest of the main() of a module of this collection over the Google REST APIs: let
    ``check(module)`` refuse bad option combinations (it returns a message or None), then exit with
    ``run(module, GcpRestClient(module))``; a GcpRestError fails the task with its message."""
    problem = check(module) if check else None
    if problem:
        module.fail_json(msg=problem)
    try:
        result = run(module, GcpRestClient(module))
    except GcpRestError as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)
