# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kubernetes API emulator for tests, Molecule scenarios and benchmarks, built on ``kmock`` 0.8.

What it is
    An in-memory HTTP server on 127.0.0.1 that answers the Kubernetes REST API well enough for
    ``kubernetes.core.k8s`` (create, server-side apply, merge/JSON patches, delete, ``--check``,
    ``--diff``, ``wait``) and ``kubernetes.core.k8s_info`` (by name, by label and field selector).
    It is an **emulator, not proof of cluster behaviour**: there are no controllers, no admission,
    no schema validation, no defaulting beyond the few fields listed below, and no authentication.
    Use it to prove that playbooks talk to the API correctly and idempotently; prove behaviour on a
    real cluster.

How it is built
    ``kmock.KubernetesEmulator`` (a kmock handler with an object store, watch buses and API
    discovery) served by ``kmock.Server`` on a loopback port, with kmock's bundled discovery list
    (``resources.json.gz``: the built-in kinds of a recent K3s cluster) loaded. kmock has no server
    CLI, so this module provides one. Custom kinds are registered with ``--resource`` or by
    applying a ``CustomResourceDefinition``. Nothing in site-packages is modified: the workarounds
    below are a subclass (:class:`ClusterEmulator`) plus one runtime patch of a kmock function.

Workarounds, each with the kmock 0.8 defect it works around
    1. **Requests to the ``namespaces`` resource itself crash the path parser.**
       ``kmock._internal.parsing.parse_path`` treats ``/api/v1/namespaces/<x>`` as a namespace
       prefix, so ``GET /api/v1/namespaces`` raises ``ValueError`` (HTTP 500) and
       ``/api/v1/namespaces/<name>`` is parsed without a resource. :func:`install_path_parser_fix`
       wraps that function at runtime (idempotently) and parses these paths as the ``namespaces``
       resource, with the ``status`` and ``finalize`` subresources.
    2. **List responses lack ``kind``/``apiVersion``** (``k8s_info`` fails with ``KeyError:
       'kind'``). Lists are served by our handler as ``<Kind>List`` with ``apiVersion`` and
       ``metadata.resourceVersion``.
    3. **Server-side apply of a missing object gives 404** (kmock treats every PATCH as an update of
       an existing object). ``application/apply-patch+yaml`` creates the object (HTTP 201).
    4. **Server-side apply does not drop removed fields and knows no field managers** (kmock merges
       every PATCH into the object). Apply keeps ``metadata.managedFields`` per field manager; a
       field that the manager applied before and omits now is removed unless another manager owns
       it; a field owned by another manager with a different value is a 409 conflict unless
       ``force=true``. Simplification: lists are atomic (no merge keys), ``fieldsV1`` is simplified.
    5. **No real patch semantics**: kmock's merge refuses to replace a dict by a scalar and has no
       ``null`` deletion for every patch type. ``application/merge-patch+json`` follows RFC 7386,
       ``application/json-patch+json`` uses ``jsonpatch``, ``application/strategic-merge-patch+json``
       is treated as a merge patch (lists replaced, ``$patch`` directives ignored). ``PUT`` (replace,
       with ``resourceVersion`` conflict checks) and collection ``DELETE`` are added; kmock answers
       both with HTTP 500.
    6. **No ``dryRun``**: kmock stores the object anyway, so ``ansible-playbook --check`` (which uses
       server-side dry run) would change the cluster. ``dryRun=All`` computes the answer and stores
       nothing.
    7. **Label selectors (and field selectors) are ignored.** Lists filter by ``labelSelector``
       (``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``, ``!key``) and by ``fieldSelector`` on
       ``metadata.name``/``metadata.namespace`` (``=``, ``==``, ``!=``); an unparsable selector is
       a 400.
    8. **``status`` is never filled, so ``wait: true`` can never pass.** With
       ``workload_status="ready"`` (the default; ``--workload-status none`` to disable) every write
       marks Deployments/StatefulSets/DaemonSets available with all replicas ready and the observed
       generation, Jobs complete (``Complete``/``SuccessCriteriaMet`` conditions, ``succeeded``),
       Pods running and ready, PVCs and claimed PVs ``Bound``. Namespaces are always ``Active``.
       Status sent to the main resource is ignored (as by the real API); ``.../status`` can set it.
    9. **No server-owned metadata**: kmock stores the body as sent. We set ``uid``,
       ``creationTimestamp``, a cluster-wide ``resourceVersion`` that changes only when the object
       really changes (so a no-op apply returns the same object and Ansible reports ``ok``), and
       ``generation`` (bumped when ``spec`` changes). A few defaults a real API server adds and that
       ``wait`` needs: ``spec.replicas: 1`` on Deployments/StatefulSets, StatefulSet
       ``updateStrategy`` RollingUpdate, Secret ``type: Opaque`` and ``stringData`` folded into
       ``data``, the ``kubernetes.io/metadata.name`` label and ``kubernetes`` finalizer on Namespaces.
    10. **No API validation** (kmock stores anything). Checked here because real clusters reject
        them and they are easy mistakes in templates: object names (DNS-1123) and label keys/values,
        a namespaced object in a namespace that does not exist (404), a name in the body that differs
        from the URL (400), and changes to immutable fields (422): Job ``spec.template``/``selector``/
        ``completionMode``, Deployment ``spec.selector``, StatefulSet spec fields other than the
        updatable ones, PVC ``spec`` except ``resources``, PV volume source, RoleBinding/
        ClusterRoleBinding ``roleRef``, CSIDriver ``attachRequired``/``volumeLifecycleModes``,
        Service ``clusterIP``, and ``data`` of immutable Secrets/ConfigMaps.
    11. **Nondeterministic discovery**: kmock picks a group's preferred version from a ``set``, so it
        changes between runs (``autoscaling``). Versions are sorted, the newest stable is preferred.
    12. **Unbounded memory and errors swallowed as tracebacks**: kmock keeps every request and every
        error of the server's lifetime, and renders errors with a Python traceback as ``details``.
        We keep the last :data:`REQUESTS_KEPT` requests and answer errors as proper ``Status``
        objects (``NotFound``, ``AlreadyExists``, ``Conflict``, ``Invalid``, ``BadRequest``).

    Deleting a Namespace deletes the objects in it at once (no ``Terminating`` phase). Objects with
    finalizers get a ``deletionTimestamp`` and stay until the finalizers are removed (kmock).
    Watches are kmock's (no selector filtering). Not emulated at all: controllers (no ReplicaSets or
    Pods are created), garbage collection by owner references, admission webhooks, RBAC checks,
    authentication (any token is accepted), OpenAPI schemas, ``/scale``, ``/log``, ``/exec``.

Usage
    Command line (the process runs until SIGTERM/SIGINT, then removes its pid and ready files)::

        python tests/support/k8s_emulator.py --port 0 --kubeconfig /tmp/kubeconfig \\
            --pidfile /tmp/emulator.pid --request-log /tmp/requests.jsonl --ready-file /tmp/ready

    It prints the URL as its first stdout line, writes a kubeconfig (mode 0600) whose context
    ``emulator`` points at it, writes the pid file, and writes the URL into the ready file only once
    it is serving. The request log gets one JSON object per request::

        {"time": 1700000000.123, "method": "PATCH", "path": "/api/v1/namespaces/x/configmaps/y",
         "query": "fieldManager=m&force=True", "verb": "apply", "status": 200, "duration_ms": 1.7,
         "dry_run": false}

    From Python (pytest fixtures, benchmarks, Molecule helpers)::

        with EmulatorProcess.start(workdir) as emulator:
            env = dict(os.environ, K8S_AUTH_KUBECONFIG=str(emulator.kubeconfig))
            ...
            records = emulator.read_request_log()

    or in-process, in an event loop: ``async with serve(port=0) as running: running.url``.
"""

import argparse
import asyncio
import base64
import contextlib
import copy
import datetime
import hashlib
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import warnings

import aiohttp.web
import attrs
import jsonpatch
import kmock
import yaml
from kmock._internal import parsing as _kmock_parsing

try:
    from tests.support import service_process
except ImportError:  # run as a script: python tests/support/k8s_emulator.py
    import service_process  # pylint: disable=import-error

__all__ = [
    "ClusterEmulator",
    "EmulatorProcess",
    "EmulatorStartError",
    "RunningEmulator",
    "install_path_parser_fix",
    "main",
    "serve",
    "write_kubeconfig",
]

#: Name of the kubeconfig context (and cluster and user) written for the emulator.
DEFAULT_CONTEXT = "emulator"
#: How many past requests kmock may keep in memory (for in-process assertions).
REQUESTS_KEPT = 2000
#: Namespaces that exist in every cluster.
BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
#: ``status`` modes: ``ready`` simulates healthy controllers, ``none`` leaves status empty.
WORKLOAD_STATUS_MODES = ("ready", "none")

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Kinds whose name is a DNS-1123 label (no dots) rather than a subdomain.
_LABEL_NAMED_KINDS = {("", "Namespace"), ("", "Service")}
# Kinds whose names only need to be valid path segments (e.g. "system:auth-delegator").
_PATH_SEGMENT_NAMED_GROUPS = {"rbac.authorization.k8s.io"}
# StatefulSet spec fields that may change after creation.
_STATEFULSET_MUTABLE = {"replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                        "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}
_PV_NON_SOURCE_FIELDS = {"capacity", "accessModes", "claimRef", "persistentVolumeReclaimPolicy", "storageClassName",
                         "mountOptions", "nodeAffinity", "volumeMode", "volumeAttributesClassName"}
# Field paths that must never be tracked as owned by a field manager.
_UNOWNED_TOP_LEVEL = {"apiVersion", "kind", "status"}
_UNOWNED_METADATA = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                     "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"}


# --------------------------------------------------------------------------------------------
# Workaround 1: the path parser.
# --------------------------------------------------------------------------------------------

def _parse_path_with_namespaces(path):
    """``kmock`` 0.8 ``parse_path``, but with ``/api/v1/namespaces[/<name>[/status|finalize]]``."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["api", "v1", "namespaces"] and (
            len(parts) <= 4 or (len(parts) == 5 and parts[4] in ("status", "finalize"))):
        return _kmock_parsing.ParsedPath(
            group="", version="v1", plural="namespaces", namespace=None,
            name=parts[3] if len(parts) >= 4 and parts[3] else None,
            subresource=parts[4] if len(parts) == 5 else None,
        )
    return _parse_path_with_namespaces.original(path)


def install_path_parser_fix():
    """Wrap ``kmock._internal.parsing.parse_path`` so that ``namespaces`` paths parse (idempotent)."""
    current = _kmock_parsing.parse_path
    if getattr(current, "original", None) is None:
        _parse_path_with_namespaces.original = current
        _kmock_parsing.parse_path = _parse_path_with_namespaces


# --------------------------------------------------------------------------------------------
# Errors rendered as Kubernetes Status objects.
# --------------------------------------------------------------------------------------------

class ApiError(Exception):
    """A Kubernetes API error: HTTP status, ``reason`` and message for a ``Status`` object."""

    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def to_status(self):
        """The ``Status`` object a real API server would answer with."""
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "details": self.details, "code": self.code}


def _invalid(kind, group, name, field, message):
    """A 422 ``Invalid`` error for one field, worded like the API server's."""
    text = "%s.%s \"%s\" is invalid: %s: %s" % (kind, group, name, field, message) if group else \
        "%s \"%s\" is invalid: %s: %s" % (kind, name, field, message)
    return ApiError(422, "Invalid", text, {"name": name, "group": group, "kind": kind,
                                           "causes": [{"field": field, "message": message}]})


# --------------------------------------------------------------------------------------------
# Plain-data helpers: patches, field sets, selectors.
# --------------------------------------------------------------------------------------------

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: dicts merge recursively, ``None`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _deep_merge(target, applied):
    """Server-side-apply merge: maps merge recursively, lists and scalars are replaced (atomic)."""
    if not isinstance(target, dict) or not isinstance(applied, dict):
        return copy.deepcopy(applied)
    result = dict(target)
    for key, value in applied.items():
        result[key] = _deep_merge(target.get(key), value)
    return result


def _leaf_paths(obj, prefix=()):
    """Every path to a non-map value (lists are leaves: they are atomic here)."""
    paths = set()
    for key, value in obj.items():
        if isinstance(value, dict) and value:
            paths |= _leaf_paths(value, prefix + (key,))
        else:
            paths.add(prefix + (key,))
    return paths


def _owned_paths(config):
    """The field paths an applied configuration or update claims (without server-owned fields)."""
    paths = set()
    for path in _leaf_paths(config):
        if path[0] in _UNOWNED_TOP_LEVEL:
            continue
        if path[0] == "metadata" and (len(path) == 1 or path[1] in _UNOWNED_METADATA):
            continue
        paths.add(path)
    return paths


def _fields_v1(paths):
    """A (simplified) ``fieldsV1`` tree: ``{"f:spec": {"f:replicas": {}}}``; lists are atomic."""
    tree = {}
    for path in sorted(paths):
        node = tree
        for key in path:
            node = node.setdefault("f:" + key, {})
    return tree


def _paths_from_fields_v1(tree, prefix=()):
    """Inverse of :func:`_fields_v1`."""
    paths = set()
    for key, child in tree.items():
        if not key.startswith("f:"):
            continue
        path = prefix + (key[2:],)
        if child:
            paths |= _paths_from_fields_v1(child, path)
        else:
            paths.add(path)
    return paths


_MISSING = object()


def _get_path(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return _MISSING
        obj = obj[key]
    return obj


def _remove_path(obj, path, keep_prefixes):
    """Delete ``path`` and then every parent map it leaves empty, unless a parent is still applied."""
    parents = []
    node = obj
    for key in path[:-1]:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return
        parents.append((node, key))
        node = node[key]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    for depth in range(len(parents) - 1, -1, -1):
        parent, key = parents[depth]
        if parent[key] or path[:depth + 1] in keep_prefixes:
            break
        del parent[key]


def _overlaps(path_a, path_b):
    shorter = min(len(path_a), len(path_b))
    return path_a[:shorter] == path_b[:shorter]


def _format_path(path):
    return "." + ".".join(path)


_SELECTOR_SET = re.compile(r"^\s*(!)?\s*([^\s!=(),]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_SELECTOR_EQUALITY = re.compile(r"^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$")


def _split_selector(text):
    """Split a selector at the commas that are not inside ``in (...)`` parentheses."""
    terms, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term for term in terms if term.strip()]


def parse_label_selector(text):
    """Parse a label selector into predicates over a labels dict; ``ApiError`` 400 if malformed."""
    predicates = []
    for term in _split_selector(text or ""):
        equality = _SELECTOR_EQUALITY.match(term)
        set_based = _SELECTOR_SET.match(term)
        if equality:
            key, operator, value = equality.groups()
            if operator == "!=":
                predicates.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                predicates.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif set_based:
            negated, key, operator, values = set_based.groups()
            if operator and negated:
                raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % term)
            if operator:
                choices = {value.strip() for value in values.split(",") if value.strip()}
                if operator == "in":
                    predicates.append(lambda labels, k=key, c=frozenset(choices): labels.get(k) in c)
                else:
                    predicates.append(lambda labels, k=key, c=frozenset(choices): labels.get(k) not in c)
            elif negated:
                predicates.append(lambda labels, k=key: k not in labels)
            else:
                predicates.append(lambda labels, k=key: k in labels)
        else:
            raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % term)
    return predicates


def parse_field_selector(text):
    """Parse a field selector (``metadata.name``/``metadata.namespace`` only) into predicates."""
    predicates = []
    for term in _split_selector(text or ""):
        match = _SELECTOR_EQUALITY.match(term)
        if not match or match.group(1) not in ("metadata.name", "metadata.namespace"):
            raise ApiError(400, "BadRequest", "field label not supported: %s" % term.strip())
        field, operator, value = match.groups()
        path = tuple(field.split("."))
        if operator == "!=":
            predicates.append(lambda obj, p=path, v=value: _get_path(obj, p) != v)
        else:
            predicates.append(lambda obj, p=path, v=value: _get_path(obj, p) == v)
    return predicates


def _now():
    return datetime.datetime.now(tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_true(value):
    return str(value).lower() in ("true", "1")


def _without(obj, top_keys=(), metadata_keys=()):
    """A shallow copy of ``obj`` without some top-level and ``metadata`` keys (for comparisons)."""
    result = {key: value for key, value in obj.items() if key not in top_keys}
    if "metadata" in result:
        result["metadata"] = {key: value for key, value in result["metadata"].items() if key not in metadata_keys}
    return result


# --------------------------------------------------------------------------------------------
# The emulator.
# --------------------------------------------------------------------------------------------

@attrs.define(kw_only=True)
class ClusterEmulator(kmock.KubernetesEmulator):
    """``kmock.KubernetesEmulator`` with the workarounds listed in the module docstring.

    Object requests (a known resource with a plural) are served by :meth:`_serve_object_request`;
    discovery, ``/version`` and watches stay kmock's. Objects live in kmock's ``objects`` store
    (``emulator.objects['apps/v1/deployments', 'ns', 'name']``), so kmock's watches see them.
    """

    workload_status: str = attrs.field(default="ready", validator=attrs.validators.in_(WORKLOAD_STATUS_MODES))
    request_log_path: str = attrs.field(default=None)
    _resource_version: int = attrs.field(default=0, init=False)
    _request_log = attrs.field(default=None, init=False)

    def __attrs_post_init__(self):
        install_path_parser_fix()
        super().__attrs_post_init__()
        with warnings.catch_warnings():
            # kmock 0.8 reads its bundled list with the deprecated importlib.resources.read_binary.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.resources.load_bundled()
        for namespace in BUILTIN_NAMESPACES:
            key = (kmock.resource("", "v1", "namespaces"), None, namespace)
            body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            self._commit(key, None, self._finish(self._info(key[0]), key[0], None, namespace, None, body, {}),
                         False, 201)

    # ---- discovery -----------------------------------------------------------------------

    def register_resource(self, group, version, plural, kind, namespaced=True, subresources=("status",)):
        """Make a custom kind known to discovery and to the object handlers."""
        self.resources[kmock.resource(group, version, plural)] = kmock.ResourceInfo(
            kind=kind, singular=kind.lower(), namespaced=namespaced, subresources=set(subresources),
            verbs={"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
        )

    def _group_versions(self):
        groups = {}
        for resource in self._get_resources():
            if resource.group and resource.version:
                groups.setdefault(resource.group, set()).add(resource.version)
        return {group: sorted(versions, key=_version_priority) for group, versions in groups.items()}

    def _group_document(self, group, versions):
        return {
            "name": group,
            "preferredVersion": {"groupVersion": "%s/%s" % (group, versions[0]), "version": versions[0]},
            "versions": [{"groupVersion": "%s/%s" % (group, version), "version": version} for version in versions],
        }

    async def _serve_apis(self, request):
        groups = self._group_versions()
        return {"apiVersion": "v1", "kind": "APIGroupList",
                "groups": [self._group_document(group, groups[group]) for group in sorted(groups)]}

    async def _serve_group(self, request):
        groups = self._group_versions()
        group = request.resource.group
        if group not in groups:
            raise kmock.KubernetesResourceNotFoundError()
        return dict(self._group_document(group, groups[group]), apiVersion="v1", kind="APIGroup")

    # ---- HTTP entry points -----------------------------------------------------------------

    async def __call__(self, raw_request):
        started = time.monotonic()
        status = 500
        try:
            response = await super().__call__(raw_request)
            status = response.status
            return response
        finally:
            del self._requests[:-REQUESTS_KEPT]
            self._log_request(raw_request, status, started)

    def _log_request(self, raw_request, status, started):
        if self.request_log_path is None:
            return
        if self._request_log is None:
            # Line-buffered: every record is on disk as soon as the request is answered.
            self._request_log = open(self.request_log_path, "a", encoding="utf-8", buffering=1)  # pylint: disable=consider-using-with
        record = {
            "time": round(time.time(), 3),
            "method": raw_request.method,
            "path": raw_request.path,
            "query": raw_request.query_string,
            "verb": _request_verb(raw_request),
            "status": status,
            "duration_ms": round((time.monotonic() - started) * 1000, 3),
            "dry_run": "dryRun" in raw_request.query,
        }
        self._request_log.write(json.dumps(record, sort_keys=True) + "\n")

    def close(self):
        """Close the request log."""
        if self._request_log is not None:
            self._request_log.close()
            self._request_log = None

    async def _handle(self, request):
        resource = request.resource
        is_object_request = (
            resource is not None and resource.plural and resource.version and resource.group is not None
            and request.params.get("watch") not in ("true", "1")
        )
        if not is_object_request:
            return await super()._handle(request)
        try:
            async with self._lock:
                status, body, event = self._serve_object_request(request)
            if event is not None:
                await self._buses[resource].put(event)
            return aiohttp.web.json_response(body, status=status)
        except ApiError as error:
            return aiohttp.web.json_response(error.to_status(), status=error.code)

    # ---- object requests ---------------------------------------------------------------------

    def _info(self, resource):
        if resource not in self.resources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return self.resources[resource]

    def _serve_object_request(self, request):
        """Serve one object request; returns ``(http status, body, watch event or None)``."""
        resource = request.resource
        info = self._info(resource)
        method = str(request.method.value).upper()
        namespace, name, subresource = request.namespace, request.name, request.subresource
        if info.namespaced is False and namespace is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if info.namespaced and namespace is None and name is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if subresource is not None and not (subresource == "status" and "status" in info.subresources):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        dry_run = request.params.get("dryRun") == "All"
        body = self._request_body(request) if method in ("POST", "PUT", "PATCH") else None

        if name is None:
            if method == "GET":
                return 200, self._list(resource, info, namespace, request.params), None
            if method == "POST" and (namespace is not None or not info.namespaced):
                return self._create(resource, info, namespace, body, request, dry_run)
            if method == "DELETE":
                return self._delete_collection(resource, info, namespace, request.params, dry_run)
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

        key = (resource, namespace, name)
        current = self._current(key)
        if method == "GET":
            if current is None:
                raise self._not_found(resource, info, name)
            return 200, current, None
        if method == "DELETE":
            return self._delete(resource, info, key, current, dry_run)
        if method == "PUT":
            return self._replace(resource, info, key, current, body, subresource, request, dry_run)
        if method == "PATCH":
            content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
            if content_type == "application/apply-patch+yaml":
                return self._apply(resource, info, key, current, body, subresource, request, dry_run)
            return self._patch(resource, info, key, current, body, subresource, content_type, request, dry_run)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    @staticmethod
    def _request_body(request):
        text = request.text
        try:
            body = json.loads(text) if text else None
        except ValueError:
            try:
                body = yaml.safe_load(text)
            except yaml.YAMLError as error:
                raise ApiError(400, "BadRequest", "the body of the request is not JSON or YAML: %s" % error)
        if body is None:
            raise ApiError(400, "BadRequest", "the body of the request was empty")
        return body

    def _current(self, key):
        if key not in self._objects or self._objects[key].deleted:
            return None
        return copy.deepcopy(self._objects[key].raw)

    @staticmethod
    def _not_found(resource, info, name):
        what = "%s.%s" % (resource.plural, resource.group) if resource.group else resource.plural
        return ApiError(404, "NotFound", "%s \"%s\" not found" % (what, name),
                        {"name": name, "group": resource.group, "kind": resource.plural})

    def _list(self, resource, info, namespace, params):
        labels = parse_label_selector(params.get("labelSelector"))
        fields = parse_field_selector(params.get("fieldSelector"))
        items = []
        for (stored_resource, stored_namespace, _name), obj in self._objects.items():
            if stored_resource != resource or obj.deleted:
                continue
            if namespace is not None and stored_namespace != namespace:
                continue
            raw = obj.raw
            object_labels = raw.get("metadata", {}).get("labels") or {}
            if all(predicate(object_labels) for predicate in labels) and all(predicate(raw) for predicate in fields):
                items.append(copy.deepcopy(raw))
        items.sort(key=lambda item: (item["metadata"].get("namespace") or "", item["metadata"]["name"]))
        return {"kind": "%sList" % info.kind, "apiVersion": _group_version(resource),
                "metadata": {"resourceVersion": str(self._resource_version)}, "items": items}

    def _check_target(self, resource, info, namespace, name, body):
        """Validate identity and name of a body sent to ``namespace``/``name``."""
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the object is not a JSON/YAML mapping")
        metadata = body.get("metadata") or {}
        body_name = metadata.get("name")
        if name is not None and body_name not in (None, name):
            raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)"
                           % (body_name, name))
        body_namespace = metadata.get("namespace")
        if info.namespaced and namespace is not None and body_namespace not in (None, "", namespace):
            raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace "
                           "sent on the request")
        if body.get("kind") not in (None, info.kind):
            raise ApiError(400, "BadRequest", "the kind of the object (%s) does not match the URL (%s)"
                           % (body.get("kind"), info.kind))
        if body.get("apiVersion") not in (None, _group_version(resource)):
            raise ApiError(400, "BadRequest", "the apiVersion of the object (%s) does not match the URL (%s)"
                           % (body.get("apiVersion"), _group_version(resource)))
        if info.namespaced and namespace is not None and resource.plural != "namespaces":
            ns_key = (kmock.resource("", "v1", "namespaces"), None, namespace)
            if self._current(ns_key) is None:
                raise ApiError(404, "NotFound", "namespaces \"%s\" not found" % namespace,
                               {"name": namespace, "kind": "namespaces"})

    def _create(self, resource, info, namespace, body, request, dry_run):
        self._check_target(resource, info, namespace, None, body)
        metadata = body.setdefault("metadata", {})
        if not metadata.get("name") and metadata.get("generateName"):
            suffix = "".join(_GENERATE_NAME_ALPHABET[byte % len(_GENERATE_NAME_ALPHABET)] for byte in os.urandom(5))
            metadata["name"] = metadata["generateName"] + suffix
        name = metadata.get("name")
        if not name:
            raise _invalid(info.kind, resource.group, "", "metadata.name", "Required value: name or generateName "
                           "is required")
        key = (resource, namespace if info.namespaced else None, name)
        if self._current(key) is not None:
            what = "%s.%s" % (resource.plural, resource.group) if resource.group else resource.plural
            raise ApiError(409, "AlreadyExists", "%s \"%s\" already exists" % (what, name),
                           {"name": name, "group": resource.group, "kind": resource.plural})
        manager = self._manager(request)
        managed = self._record_update(None, body, manager, resource)
        new = self._finish(info, resource, key[1], name, None, body, {"managedFields": managed})
        return self._commit(key, None, new, dry_run, 201)

    def _replace(self, resource, info, key, current, body, subresource, request, dry_run):
        self._check_target(resource, info, key[1], key[2], body)
        if current is None:
            raise self._not_found(resource, info, key[2])
        sent_version = (body.get("metadata") or {}).get("resourceVersion")
        if sent_version and sent_version != current["metadata"].get("resourceVersion"):
            raise ApiError(409, "Conflict", "Operation cannot be fulfilled on %s \"%s\": the object has been "
                           "modified; please apply your changes to the latest version and try again"
                           % (resource.plural, key[2]), {"name": key[2], "kind": resource.plural})
        if subresource == "status":
            return self._write_status(info, resource, key, current, body.get("status"), dry_run)
        managed = self._record_update(current, body, self._manager(request), resource)
        new = self._finish(info, resource, key[1], key[2], current, body, {"managedFields": managed})
        return self._commit(key, current, new, dry_run, 200)

    def _patch(self, resource, info, key, current, body, subresource, content_type, request, dry_run):
        if current is None:
            raise self._not_found(resource, info, key[2])
        if content_type == "application/json-patch+json":
            if not isinstance(body, list):
                raise ApiError(400, "BadRequest", "a JSON patch must be a list of operations")
            try:
                patched = jsonpatch.apply_patch(current, body)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
                raise ApiError(422, "Invalid", "the JSON patch could not be applied: %s" % error)
            changes = patched
        elif content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json", ""):
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "a merge patch must be a JSON object")
            patched = merge_patch(current, _strip_directives(body))
            changes = body
        else:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                           "accepted media types include: application/json-patch+json, application/merge-patch+json, "
                           "application/apply-patch+yaml")
        self._check_target(resource, info, key[1], key[2], patched)
        if subresource == "status":
            return self._write_status(info, resource, key, current, patched.get("status"), dry_run)
        managed = self._record_update(current, changes, self._manager(request), resource, patched)
        new = self._finish(info, resource, key[1], key[2], current, patched, {"managedFields": managed})
        return self._commit(key, current, new, dry_run, 200)

    def _apply(self, resource, info, key, current, body, subresource, request, dry_run):
        manager = request.params.get("fieldManager")
        if not manager:
            raise ApiError(400, "BadRequest", "PATCH, application/apply-patch+yaml requires fieldManager to be set")
        self._check_target(resource, info, key[1], key[2], body)
        if not body.get("kind") or not body.get("apiVersion"):
            raise ApiError(400, "BadRequest", "apiVersion and kind must be set in an applied configuration")
        force = _is_true(request.params.get("force", "false"))
        if subresource == "status":
            if current is None:
                raise self._not_found(resource, info, key[2])
            return self._write_status(info, resource, key, current,
                                      _deep_merge(current.get("status") or {}, body.get("status") or {}), dry_run)
        if "status" in info.subresources:
            body = {field: value for field, value in body.items() if field != "status"}
        base = current or {"apiVersion": body["apiVersion"], "kind": body["kind"], "metadata": {}}
        merged, managed = self._server_side_apply(base, body, manager, force, resource)
        new = self._finish(info, resource, key[1], key[2], current, merged, {"managedFields": managed})
        return self._commit(key, current, new, dry_run, 200 if current is not None else 201)

    def _server_side_apply(self, live, applied, manager, force, resource):
        """Merge ``applied`` into ``live`` as ``manager``; returns (object, new managedFields)."""
        entries = copy.deepcopy(live.get("metadata", {}).get("managedFields") or [])
        own = [entry for entry in entries if entry.get("manager") == manager and entry.get("operation") == "Apply"]
        previous = _paths_from_fields_v1(own[0].get("fieldsV1", {})) if own else set()
        wanted = _owned_paths(applied)
        others = [entry for entry in entries if entry not in own]
        conflicts = []
        for entry in others:
            their_paths = _paths_from_fields_v1(entry.get("fieldsV1", {}))
            taken = {path for path in their_paths for mine in wanted
                     if _overlaps(path, mine) and _get_path(live, mine) != _get_path(applied, mine)}
            if taken and not force:
                conflicts.extend((entry.get("manager"), path) for path in sorted(taken))
            entry["fieldsV1"] = _fields_v1(their_paths - taken)
        if conflicts:
            message = "Apply failed with %d conflict%s: %s" % (
                len(conflicts), "s" if len(conflicts) > 1 else "",
                "; ".join("conflict with \"%s\": %s" % (owner, _format_path(path)) for owner, path in conflicts))
            raise ApiError(409, "Conflict", message, {"causes": [
                {"reason": "FieldManagerConflict", "message": "conflict with \"%s\"" % owner,
                 "field": _format_path(path)} for owner, path in conflicts]})
        merged = copy.deepcopy(live)
        still_owned = set()
        for entry in others:
            still_owned |= _paths_from_fields_v1(entry.get("fieldsV1", {}))
        keep_prefixes = {path[:depth] for path in wanted for depth in range(1, len(path) + 1)}
        for path in sorted(previous - wanted, key=len, reverse=True):
            if not any(_overlaps(path, owned) for owned in still_owned):
                _remove_path(merged, path, keep_prefixes)
        merged = _deep_merge(merged, applied)
        own_entry = {"manager": manager, "operation": "Apply", "apiVersion": _group_version(resource),
                     "time": None, "fieldsType": "FieldsV1",
                     "fieldsV1": _fields_v1(wanted)}
        entries = [entry for entry in others if entry.get("fieldsV1")] + [own_entry]
        return merged, entries

    def _record_update(self, current, changes, manager, resource, patched=None):
        """managedFields after a non-apply write: ``manager`` takes the fields it changed."""
        entries = copy.deepcopy((current or {}).get("metadata", {}).get("managedFields") or [])
        new = patched if patched is not None else changes
        touched = {path for path in _owned_paths(changes if isinstance(changes, dict) else new)
                   if current is None or _get_path(current, path) != _get_path(new, path)}
        if not touched:
            return entries
        kept = []
        own = None
        for entry in entries:
            if entry.get("manager") == manager and entry.get("operation") == "Update":
                own = entry
                continue
            paths = _paths_from_fields_v1(entry.get("fieldsV1", {}))
            remaining = {path for path in paths if not any(_overlaps(path, mine) for mine in touched)}
            if remaining:
                kept.append(dict(entry, fieldsV1=_fields_v1(remaining)))
        owned = (_paths_from_fields_v1(own.get("fieldsV1", {})) if own else set()) | touched
        owned = {path for path in owned if _get_path(new, path) is not _MISSING}
        kept.append({"manager": manager, "operation": "Update", "apiVersion": _group_version(resource),
                     "time": None, "fieldsType": "FieldsV1", "fieldsV1": _fields_v1(owned)})
        return kept

    @staticmethod
    def _manager(request):
        manager = request.params.get("fieldManager")
        if manager:
            return manager
        agent = request.headers.get("User-Agent", "unknown")
        return agent.split("/")[0].strip() or "unknown"

    # ---- writing -------------------------------------------------------------------------

    def _finish(self, info, resource, namespace, name, current, desired, server_fields):
        """The object as the server would store it: identity, defaults, server-owned metadata, status."""
        new = copy.deepcopy(desired)
        new["apiVersion"] = _group_version(resource)
        new["kind"] = info.kind
        metadata = new.setdefault("metadata", {})
        metadata["name"] = name
        if info.namespaced:
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        for field in ("uid", "creationTimestamp", "resourceVersion", "generation", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "selfLink"):
            metadata.pop(field, None)
            if current is not None and field in current.get("metadata", {}):
                metadata[field] = current["metadata"][field]
        if "managedFields" in server_fields:
            metadata["managedFields"] = server_fields["managedFields"]
        if not metadata.get("managedFields"):
            metadata.pop("managedFields", None)
        if "status" in info.subresources or info.kind == "Namespace":
            # The main resource ignores status: only the status subresource (or we) may set it.
            if current is not None and "status" in current:
                new["status"] = copy.deepcopy(current["status"])
            else:
                new.pop("status", None)
        _apply_defaults(info.kind, resource.group, new)
        self._validate(info, resource, new, current)
        return new

    def _commit(self, key, current, new, dry_run, created_code):
        """Store ``new`` unless nothing changed (or dry run); returns (code, body, event)."""
        if current is not None and _comparable(new) == _comparable(current):
            return 200, current, None
        timestamp = _now()
        metadata = new["metadata"]
        for entry in metadata.get("managedFields", []):
            if entry.get("time") is None:
                entry["time"] = timestamp
        if current is None:
            metadata["uid"] = str(uuid.uuid4())
            metadata["creationTimestamp"] = timestamp
            if "spec" in new:
                metadata["generation"] = 1
        elif "spec" in new and new.get("spec") != current.get("spec"):
            metadata["generation"] = int(current["metadata"].get("generation") or 0) + 1
        self._simulate_status(new, current, timestamp)
        if dry_run:
            metadata["resourceVersion"] = current["metadata"]["resourceVersion"] if current else ""
            return (201 if current is None else 200), new, None
        self._resource_version += 1
        metadata["resourceVersion"] = str(self._resource_version)
        self._store(key, new)
        if new["kind"] == "CustomResourceDefinition":
            self._register_crd(new)
        return (created_code if current is None else 200), new, {
            "type": "ADDED" if current is None else "MODIFIED", "object": copy.deepcopy(new)}

    def _store(self, key, new):
        if key in self._objects:
            self._objects[key].history.append(new)
        else:
            self._objects[key] = new

    def _write_status(self, info, resource, key, current, status, dry_run):
        new = copy.deepcopy(current)
        if status is None:
            new.pop("status", None)
        else:
            new["status"] = status
        if new == current:
            return 200, current, None
        if dry_run:
            return 200, new, None
        self._resource_version += 1
        new["metadata"]["resourceVersion"] = str(self._resource_version)
        self._store(key, new)
        return 200, new, {"type": "MODIFIED", "object": copy.deepcopy(new)}

    def _delete(self, resource, info, key, current, dry_run):
        if current is None:
            raise self._not_found(resource, info, key[2])
        if dry_run:
            return 200, current, None
        if current["metadata"].get("finalizers") and resource.plural != "namespaces":
            if not current["metadata"].get("deletionTimestamp"):
                new = copy.deepcopy(current)
                new["metadata"]["deletionTimestamp"] = _now()
                self._resource_version += 1
                new["metadata"]["resourceVersion"] = str(self._resource_version)
                self._store(key, new)
                return 200, new, {"type": "MODIFIED", "object": copy.deepcopy(new)}
            return 200, current, None
        self._objects[key].delete()
        if resource.plural == "namespaces":
            for other_key, obj in list(self._objects.items()):
                if other_key[1] == key[2] and not obj.deleted:
                    obj.delete()
        return 200, current, {"type": "DELETED", "object": current}

    def _delete_collection(self, resource, info, namespace, params, dry_run):
        listing = self._list(resource, info, namespace, params)
        for item in listing["items"]:
            key = (resource, item["metadata"].get("namespace"), item["metadata"]["name"])
            self._delete(resource, info, key, item, dry_run)
        return 200, listing, None

    def _register_crd(self, crd):
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        for version in spec.get("versions") or []:
            if version.get("served", True) and spec.get("group") and names.get("plural") and names.get("kind"):
                subresources = ("status",) if (version.get("subresources") or {}).get("status") is not None else ()
                self.register_resource(spec["group"], version["name"], names["plural"], names["kind"],
                                       namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                                       subresources=subresources)

    # ---- validation and simulated controllers -------------------------------------------

    def _validate(self, info, resource, new, current):
        metadata = new["metadata"]
        name = metadata["name"]
        kind, group = info.kind, resource.group
        if group in _PATH_SEGMENT_NAMED_GROUPS:
            if name in (".", "..") or "/" in name or "%" in name:
                raise _invalid(kind, group, name, "metadata.name", "Invalid value: %r: may not contain '/' or '%%'"
                               % name)
        elif (group, kind) in _LABEL_NAMED_KINDS:
            if len(name) > 63 or not _DNS1123_LABEL.match(name):
                raise _invalid(kind, group, name, "metadata.name", "Invalid value: %r: a lowercase RFC 1123 label "
                               "must consist of lower case alphanumeric characters or '-'" % name)
        elif len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
            raise _invalid(kind, group, name, "metadata.name", "Invalid value: %r: a lowercase RFC 1123 subdomain "
                           "must consist of lower case alphanumeric characters, '-' or '.'" % name)
        for path, labels in _label_maps(new):
            for label_key, value in (labels or {}).items():
                prefix, label_name = label_key.rpartition("/")[::2]
                if (len(label_name) > 63 or not _LABEL_NAME.match(label_name) or
                        (prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)))):
                    raise _invalid(kind, group, name, path, "Invalid value: %r: name part must consist of "
                                   "alphanumeric characters, '-', '_' or '.'" % label_key)
                if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
                    raise _invalid(kind, group, name, "%s.%s" % (path, label_key), "Invalid value: %r: a valid "
                                   "label must be an empty string or consist of alphanumeric characters, '-', '_' "
                                   "or '.'" % (value,))
        if current is not None:
            self._check_immutable(kind, group, name, new, current)

    @staticmethod
    def _check_immutable(kind, group, name, new, current):
        old_spec, new_spec = current.get("spec") or {}, new.get("spec") or {}

        def immutable(field, old_value, new_value, message="field is immutable"):
            if old_value != new_value:
                raise _invalid(kind, group, name, field, "Invalid value: %s: %s" % (json.dumps(new_value), message))

        if (group, kind) == ("batch", "Job"):
            for field in ("selector", "template", "completionMode"):
                immutable("spec." + field, old_spec.get(field), new_spec.get(field))
        elif (group, kind) == ("apps", "Deployment"):
            immutable("spec.selector", old_spec.get("selector"), new_spec.get("selector"))
        elif (group, kind) == ("apps", "StatefulSet"):
            if _without(old_spec, _STATEFULSET_MUTABLE) != _without(new_spec, _STATEFULSET_MUTABLE):
                raise _invalid(kind, group, name, "spec", "Forbidden: updates to statefulset spec for fields other "
                               "than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
                               "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
        elif (group, kind) == ("", "PersistentVolumeClaim"):
            mutable = {"resources", "volumeAttributesClassName"}
            if _without(old_spec, mutable) != _without(new_spec, mutable):
                raise _invalid(kind, group, name, "spec", "Forbidden: spec is immutable after creation except "
                               "resources.requests and volumeAttributesClassName for bound claims")
        elif (group, kind) == ("", "PersistentVolume"):
            if _without(old_spec, _PV_NON_SOURCE_FIELDS) != _without(new_spec, _PV_NON_SOURCE_FIELDS):
                raise _invalid(kind, group, name, "spec.persistentvolumesource", "Forbidden: "
                               "spec.persistentvolumesource is immutable after creation")
        elif kind in ("RoleBinding", "ClusterRoleBinding") and group == "rbac.authorization.k8s.io":
            immutable("roleRef", current.get("roleRef"), new.get("roleRef"), "cannot change roleRef")
        elif (group, kind) == ("storage.k8s.io", "CSIDriver"):
            for field in ("attachRequired", "volumeLifecycleModes"):
                immutable("spec." + field, old_spec.get(field), new_spec.get(field))
        elif (group, kind) == ("", "Service"):
            if old_spec.get("clusterIP") and new_spec.get("clusterIP"):
                immutable("spec.clusterIP", old_spec.get("clusterIP"), new_spec.get("clusterIP"))
        elif (group, kind) in (("", "Secret"), ("", "ConfigMap")) and current.get("immutable"):
            for field in ("data", "binaryData"):
                immutable(field, current.get(field), new.get(field), "field is immutable when `immutable` is set")

    def _simulate_status(self, new, current, timestamp):
        """Fill ``status`` the way healthy controllers would (``workload_status='ready'``)."""
        kind = new["kind"]
        group = new["apiVersion"].rpartition("/")[0]
        spec = new.get("spec") or {}
        generation = new["metadata"].get("generation")
        if (group, kind) == ("", "Namespace"):
            new["status"] = {"phase": "Active"}
            return
        if self.workload_status != "ready":
            return
        old_status = (current or {}).get("status") or {}

        def condition(kind_of_condition, reason, message):
            for old in old_status.get("conditions") or []:
                if old.get("type") == kind_of_condition and old.get("status") == "True":
                    return old
            return {"type": kind_of_condition, "status": "True", "reason": reason, "message": message,
                    "lastTransitionTime": timestamp, "lastUpdateTime": timestamp}

        replicas = spec.get("replicas", 1)
        if (group, kind) == ("apps", "Deployment"):
            new["status"] = {
                "observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                "readyReplicas": replicas, "availableReplicas": replicas,
                "conditions": [condition("Available", "MinimumReplicasAvailable",
                                         "Deployment has minimum availability (emulated)."),
                               condition("Progressing", "NewReplicaSetAvailable",
                                         "ReplicaSet has successfully progressed (emulated).")],
            }
        elif (group, kind) == ("apps", "StatefulSet"):
            revision = "%s-%s" % (new["metadata"]["name"], _digest(spec.get("template"))[:10])
            new["status"] = {
                "observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
                "currentReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas,
                "currentRevision": revision, "updateRevision": revision, "collisionCount": 0,
            }
        elif (group, kind) == ("apps", "DaemonSet"):
            new["status"] = {"observedGeneration": generation, "currentNumberScheduled": 1, "desiredNumberScheduled": 1,
                             "numberReady": 1, "updatedNumberScheduled": 1, "numberAvailable": 1,
                             "numberMisscheduled": 0}
        elif (group, kind) == ("batch", "Job"):
            if old_status.get("completionTime") or spec.get("suspend"):
                return
            new["status"] = {
                "startTime": timestamp, "completionTime": timestamp, "succeeded": spec.get("completions", 1) or 1,
                "ready": 0, "terminating": 0, "uncountedTerminatedPods": {},
                "conditions": [condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of "
                                         "succeeded pods (emulated)"),
                               condition("Complete", "CompletionsReached", "Reached expected number of succeeded "
                                         "pods (emulated)")],
            }
        elif (group, kind) == ("", "Pod"):
            new["status"] = {
                "phase": "Running", "startTime": old_status.get("startTime", timestamp),
                "conditions": [condition("Ready", "", ""), condition("ContainersReady", "", "")],
                "containerStatuses": [{"name": container.get("name"), "ready": True, "started": True,
                                       "restartCount": 0, "image": container.get("image"),
                                       "state": {"running": {"startedAt": timestamp}}}
                                      for container in spec.get("containers") or []],
            }
        elif (group, kind) == ("", "PersistentVolumeClaim"):
            new["status"] = {"phase": "Bound", "accessModes": spec.get("accessModes") or [],
                             "capacity": ((spec.get("resources") or {}).get("requests") or {})}
        elif (group, kind) == ("", "PersistentVolume"):
            new["status"] = {"phase": "Bound" if spec.get("claimRef") else "Available"}


def _apply_defaults(kind, group, obj):
    """The few API-server defaults that ``wait`` and idempotence depend on."""
    spec = obj.get("spec")
    if (group, kind) in (("apps", "Deployment"), ("apps", "StatefulSet")) and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        if kind == "StatefulSet" and not (spec.get("updateStrategy") or {}).get("type"):
            spec["updateStrategy"] = dict(spec.get("updateStrategy") or {}, type="RollingUpdate")
            spec["updateStrategy"].setdefault("rollingUpdate", {"partition": 0})
    elif (group, kind) == ("", "Namespace"):
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    elif (group, kind) == ("", "Secret"):
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None) or {}
        if string_data:
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode("utf-8")).decode("ascii")


def _label_maps(obj):
    """(field path, labels dict) for the object's labels and its pod template's labels."""
    maps = [("metadata.labels", obj["metadata"].get("labels"))]
    template = (obj.get("spec") or {}).get("template")
    if isinstance(template, dict):
        maps.append(("spec.template.metadata.labels", (template.get("metadata") or {}).get("labels")))
    return [(path, labels) for path, labels in maps if isinstance(labels, dict)]


def _comparable(obj):
    """What must differ for a write to count as a change (not resourceVersion, times or status)."""
    result = _without(obj, ("status",), ("resourceVersion", "generation", "managedFields"))
    result["managedFields"] = [dict(entry, time=None) for entry in obj["metadata"].get("managedFields") or []]
    return result


def _strip_directives(patch):
    """Drop strategic-merge-patch directives (``$patch``, ``$retainKeys``, ...) we do not implement."""
    if isinstance(patch, dict):
        return {key: _strip_directives(value) for key, value in patch.items() if not key.startswith("$")}
    return patch


def _digest(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


def _group_version(resource):
    return "%s/%s" % (resource.group, resource.version) if resource.group else resource.version


def _version_priority(version):
    """Sort key: newest stable first (v2 < v1 < v2beta1 < v1beta1 < v1alpha1 in sort order)."""
    match = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", version)
    if not match:
        return (3, 0, 0, version)
    major, stage, minor = match.groups()
    return ({None: 0, "beta": 1, "alpha": 2}[stage], -int(major), -int(minor or 0), version)


def _request_verb(raw_request):
    """The Kubernetes verb of a raw request, for the request log (``discovery`` for the rest)."""
    try:
        parsed = _kmock_parsing.parse_path(raw_request.path)
    except ValueError:
        return "unknown"
    if parsed.group is None or not parsed.plural:
        return "discovery"
    method = raw_request.method.upper()
    if raw_request.query.get("watch") in ("true", "1"):
        return "watch"
    if method == "PATCH":
        content_type = raw_request.headers.get("Content-Type", "")
        return "apply" if content_type.startswith("application/apply-patch") else "patch"
    if parsed.name is None:
        return {"GET": "list", "POST": "create", "DELETE": "deletecollection"}.get(method, method.lower())
    return {"GET": "get", "PUT": "update", "DELETE": "delete"}.get(method, method.lower())


# --------------------------------------------------------------------------------------------
# Serving: in-process and as a command.
# --------------------------------------------------------------------------------------------

@attrs.define
class RunningEmulator:
    """A serving emulator: its ``url`` and the :class:`ClusterEmulator` (``emulator.objects``)."""

    url: str
    emulator: ClusterEmulator


@contextlib.asynccontextmanager
async def serve(host="127.0.0.1", port=0, workload_status="ready", request_log=None, resources=()):
    """Serve a :class:`ClusterEmulator` on ``host:port`` (loopback only) until the block exits.

    ``resources`` are ``(group, version, plural, kind, namespaced)`` tuples of custom kinds.
    """
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError("the emulator only listens on loopback addresses, not %s" % host)
    emulator = ClusterEmulator(workload_status=workload_status, request_log_path=request_log)
    for group, version, plural, kind, namespaced in resources:
        emulator.register_resource(group, version, plural, kind, namespaced=namespaced)
    try:
        async with emulator, kmock.Server(emulator, host=host, port=port) as server:
            yield RunningEmulator(url=str(server.url).rstrip("/"), emulator=emulator)
    finally:
        emulator.close()


def write_kubeconfig(path, url, context=DEFAULT_CONTEXT, namespace="default"):
    """Write a kubeconfig (mode 0600, atomically) whose ``context`` points at ``url``."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {"token": "emulator-accepts-any-token"}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}],
        "current-context": context,
        "preferences": {},
    }
    service_process.write_private(path, yaml.safe_dump(config, sort_keys=False))


def _parse_resource_option(text):
    """``group/version/plural=Kind`` (``v1/plural=Kind`` for the core group), ``:cluster`` if cluster-scoped."""
    match = re.match(r"^(?:([^/=]+)/)?([^/=]+)/([^/=]+)=([A-Za-z0-9]+)(:cluster)?$", text)
    if not match:
        raise argparse.ArgumentTypeError("expected GROUP/VERSION/PLURAL=Kind[:cluster], got %r" % text)
    group, version, plural, kind, cluster = match.groups()
    return (group or "", version, plural, kind, cluster is None)


def _argument_parser():
    parser = argparse.ArgumentParser(description="Kubernetes API emulator (kmock 0.8 based) for tests and benchmarks.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 for a free one (default 0)")
    parser.add_argument("--kubeconfig", help="write a kubeconfig (mode 0600) pointing at the emulator here")
    parser.add_argument("--context", default=DEFAULT_CONTEXT, help="kubeconfig context name (default emulator)")
    parser.add_argument("--pidfile", help="write the process id here; removed on shutdown")
    parser.add_argument("--request-log", help="append one JSON line per request (method, path, status, ...)")
    parser.add_argument("--ready-file", help="write the URL here once serving; removed on shutdown")
    parser.add_argument("--workload-status", choices=WORKLOAD_STATUS_MODES, default="ready",
                        help="'ready' marks Deployments available and Jobs complete; 'none' leaves status empty")
    parser.add_argument("--resource", action="append", default=[], type=_parse_resource_option,
                        help="register a custom kind: GROUP/VERSION/PLURAL=Kind[:cluster] (repeatable)")
    return parser


async def _run(arguments):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    async with serve(host=arguments.host, port=arguments.port, workload_status=arguments.workload_status,
                     request_log=arguments.request_log, resources=arguments.resource) as running:
        if arguments.kubeconfig:
            write_kubeconfig(arguments.kubeconfig, running.url, context=arguments.context)
        with service_process.announce(running.url, arguments.pidfile, arguments.ready_file):
            await stop.wait()


def main(argv=None):
    """Command-line entry point; returns the exit code."""
    arguments = _argument_parser().parse_args(argv)
    try:
        if not ipaddress.ip_address(arguments.host).is_loopback:
            raise ValueError("--host must be a loopback address")
    except ValueError as error:
        sys.stderr.write("k8s_emulator: %s\n" % error)
        return 2
    asyncio.run(_run(arguments))
    return 0


# --------------------------------------------------------------------------------------------
# Managing the emulator as a subprocess (pytest fixtures, Molecule, benchmarks).
# --------------------------------------------------------------------------------------------

class EmulatorStartError(RuntimeError):
    """The emulator process did not become ready."""


@attrs.define
class EmulatorProcess:
    """An emulator running in a child process, with its files in ``workdir``."""

    process: subprocess.Popen
    url: str
    kubeconfig: str
    request_log: str
    pidfile: str
    ready_file: str
    context: str = DEFAULT_CONTEXT

    @classmethod
    def start(cls, workdir, workload_status="ready", timeout=30.0, python=None, extra_args=()):
        """Start ``python k8s_emulator.py`` with its files in ``workdir`` and wait until it serves."""
        workdir = os.fspath(workdir)
        os.makedirs(workdir, mode=0o700, exist_ok=True)
        paths = {name: os.path.join(workdir, filename) for name, filename in (
            ("kubeconfig", "kubeconfig"), ("request_log", "requests.jsonl"), ("pidfile", "emulator.pid"),
            ("ready_file", "emulator.ready"), ("output", "emulator.log"))}
        command = [python or sys.executable, os.path.abspath(__file__), "--port", "0",
                   "--kubeconfig", paths["kubeconfig"], "--pidfile", paths["pidfile"],
                   "--request-log", paths["request_log"], "--ready-file", paths["ready_file"],
                   "--workload-status", workload_status] + list(extra_args)
        process, url = service_process.start_and_wait(command, paths["ready_file"], paths["output"], timeout,
                                                      error=EmulatorStartError, name="the emulator")
        return cls(process=process, url=url, kubeconfig=paths["kubeconfig"], request_log=paths["request_log"],
                   pidfile=paths["pidfile"], ready_file=paths["ready_file"])

    def read_request_log(self):
        """Every request record logged so far (list of dicts)."""
        if not os.path.exists(self.request_log):
            return []
        with open(self.request_log, encoding="utf-8") as stream:
            return [json.loads(line) for line in stream if line.strip()]

    def stop(self, timeout=10.0):
        """SIGTERM, wait, and SIGKILL if it does not exit in time; returns the exit code."""
        return service_process.stop(self.process, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
