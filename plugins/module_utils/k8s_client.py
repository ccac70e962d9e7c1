# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's Kubernetes modules share: kubernetes.core's module and client, reads, polling.

Every module that talks to the Kubernetes API (k8s_apply, k8s_wait, k8s_job_run, k8s_secret_data)
builds its module and its client here, with kubernetes.core's own module utilities: the connection
options (kubernetes.core.k8s_auth_options, with their K8S_AUTH_* environment fallbacks), the client
and its discovery cache, and the error handling are exactly those of kubernetes.core's modules.

``module_class`` is ``AnsibleModule`` in a module process; the modules' action plugins run the same
code in the controller with plugin_utils/in_process.py's ``ControllerModule``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json
import time
import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule, gather_versions
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import K8sService, decode_response
    from ansible_collections.kubernetes.core.plugins.module_utils.version import LooseVersion
    KUBERNETES_CORE_ERROR = None
except ImportError:  # pragma: no cover - kubernetes.core is a declared dependency
    AUTH_ARG_SPEC = {}
    KUBERNETES_CORE_ERROR = traceback.format_exc()
    K8sService = object

    class CoreException(Exception):
        """Stands in for kubernetes.core's, so that ``except CoreException`` stays valid."""


class Service(K8sService):
    """kubernetes.core's ``K8sService``, with a server-side apply that sends the apply request alone.

    kubernetes.core's ``perform_action`` reads the object (``retrieve``) to compare it with the
    server's answer, then its apply path (``K8SDynamicClient.apply``, ``apply_object``) reads it a
    second time and, for a server-side apply, discards that answer: two GETs and a PATCH per object.
    Here a server-side apply goes straight to the server (the client's ``server_side_apply``, with
    kubernetes.core's dry run in check mode and its decoding of the answer and its warnings): one GET
    and the PATCH, the requests of ``kubectl apply --server-side``. On a real cluster every object
    read costs a round trip to the API server. Anything else (a client-side apply, a check mode
    without the server's dry run) is kubernetes.core's own path.
    """

    def apply(self, resource, definition, existing=None):
        server_side = self.module.params.get("server_side_apply")
        if not server_side or self._client_side_dry_run:
            return super(Service, self).apply(resource, definition, existing)
        options = {"dry_run": self.client.K8S_SERVER_DRY_RUN} if self.client.dry_run else {}
        # As kubernetes.core's k8s_apply: a client before 25.0.0 sends an apply body only as JSON text.
        body = definition
        if LooseVersion(gather_versions()["kubernetes"]) < LooseVersion("25.0.0"):
            body = json.dumps(definition).encode()
        try:
            return decode_response(resource.server_side_apply(
                body=body, name=definition["metadata"]["name"], namespace=definition["metadata"].get("namespace"),
                force_conflicts=server_side.get("force_conflicts"), field_manager=server_side.get("field_manager"),
                serialize=False, **options))
        except Exception as error:  # pylint: disable=broad-except
            # kubernetes.core's message for a failed apply (its K8sService.apply).
            raise CoreException("Failed to apply object: {0}".format(error.body if hasattr(error, "body") else error)) from error


def argument_spec(own):
    """``own`` options plus kubernetes.core's connection options (deep copies: the specs are shared)."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(own))
    return spec


def build_module(module_class, own_spec, **keywords):
    """kubernetes.core's ``AnsibleK8SModule`` over ``module_class``, with ``own_spec`` and the connection options.

    Without kubernetes.core, a plain ``module_class`` module that fails saying what is missing.
    """
    spec = argument_spec(own_spec)
    if KUBERNETES_CORE_ERROR:
        module = module_class(argument_spec=spec, **keywords)
        module.fail_json(msg=missing_required_lib("the kubernetes.core collection (3.0 or later)"), exception=KUBERNETES_CORE_ERROR)
    return AnsibleK8SModule(module_class=module_class, argument_spec=spec, **keywords)


def connect(module):
    """kubernetes.core's ``K8sService`` for ``module``'s connection options; fails the module if the client cannot be built."""
    try:
        return Service(get_api_client(module), module)
    except CoreException as error:
        module.fail_from_exception(error)


def list_objects(service, api_version, kind, namespace=None, label_selectors=None, name=None):
    """The objects of ``kind`` in ``namespace`` (matching ``label_selectors``, or the one ``name``) as
    dicts, by one list (or get) call, as kubernetes.core.k8s_info reads them. Raises CoreException."""
    found = service.find(kind, api_version, name=name, namespace=namespace or None, label_selectors=label_selectors or [])
    if not found.get("api_found", True):
        raise CoreException(found.get("msg") or "no API for %s %s" % (api_version, kind))
    return found["resources"]


def poll(step, timeout, delay, clock=time.monotonic, sleep=time.sleep):
    """Call ``step()`` until it returns true, every ``delay`` seconds, at most ``timeout`` seconds
    after the first call (which is always made). Returns ``(done, rounds)``."""
    deadline = clock() + max(timeout, 0)
    rounds = 0
    while True:
        rounds += 1
        if step():
            return True, rounds
        remaining = deadline - clock()
        if remaining <= 0:
            return False, rounds
        sleep(min(max(delay, 0), remaining))
