# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Kubernetes and container registries accept: quantities, resources, labels, names, image
references, CIDRs and URLs; and what the API server would refuse in the workload model's pod knobs.

The test plugins (plugins/test/kubernetes.py), the pod_settings_problems filter and the preflight
action use these functions.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress
import re
from decimal import Decimal, InvalidOperation

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six import string_types
from ansible.module_utils.six.moves.urllib.parse import urlsplit


# k8s.io/apimachinery resource.Quantity: a signed decimal number with a binary (Ki..Ei), decimal
# (n, u, m, k, M..E) or exponent suffix.
_QUANTITY = re.compile(r"^(?P<number>[+-]?(\d+(\.\d*)?|\.\d+))(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")
_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1, "k": 10 ** 3, "M": 10 ** 6,
            "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
# distribution/reference: [host[:port]/]path-component(/path-component)*, no tag or digest.
_REPOSITORY = re.compile(r"^(?:(?P<host>[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]+)?)/)?"
                         r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def quantity(value):
    """The value of a Kubernetes quantity as a Decimal, or None when it is not one."""
    if isinstance(value, bool):
        return None
    match = _QUANTITY.match(to_text(value).strip()) if isinstance(value, string_types + (int, float)) else None
    if not match or to_text(value) != to_text(value).strip():
        return None
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation:
        return None
    suffix = match.group("suffix") or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * Decimal(_DECIMAL[suffix])
    return number * (Decimal(10) ** int(suffix[1:]))


def k8s_quantity(value):
    """A Kubernetes quantity: ``500m``, ``2``, ``1.5Gi``, ``64Mi`` (not ``1Gb``, not ``abc``)."""
    return quantity(value) is not None


def k8s_resources(value):
    """A container's ``resources``: only ``requests`` and ``limits``, each a mapping of resource name to
    quantity, and no request above its limit."""
    if not isinstance(value, dict) or set(value) - {"requests", "limits", "claims"}:
        return False
    amounts = {}
    for part in ("requests", "limits"):
        entries = value.get(part) or {}
        if not isinstance(entries, dict):
            return False
        for name, amount in entries.items():
            if not _QUALIFIED_NAME.match(to_text(name)) or quantity(amount) is None:
                return False
        amounts[part] = dict((name, quantity(amount)) for name, amount in entries.items())
    return all(amounts["requests"][name] <= limit for name, limit in amounts["limits"].items() if name in amounts["requests"])


def k8s_label_value(value):
    """A label value: at most 63 characters, letters, digits, ``-``, ``_``, ``.``, alphanumeric at both ends."""
    return isinstance(value, string_types + (int, float)) and not isinstance(value, bool) \
        and len(to_text(value)) <= 63 and bool(_LABEL_VALUE.match(to_text(value)))


def k8s_labels(value):
    """A mapping of labels: qualified names (``[prefix/]name``) to label values."""
    return isinstance(value, dict) and all(_QUALIFIED_NAME.match(to_text(key)) and k8s_label_value(item)
                                           for key, item in value.items())


def k8s_annotations(value):
    """A mapping of annotations: qualified names to strings."""
    return isinstance(value, dict) and all(_QUALIFIED_NAME.match(to_text(key)) and isinstance(item, string_types)
                                           for key, item in value.items())


def k8s_name(value, max_length=253):
    """An object name (DNS-1123 subdomain: lowercase letters, digits, ``-`` and ``.``), at most ``max_length``."""
    return isinstance(value, string_types) and 0 < len(value) <= max_length and bool(_DNS1123_SUBDOMAIN.match(value))


def k8s_label(value, max_length=63):
    """A DNS-1123 label (namespace, Service, container or port name), at most ``max_length`` characters."""
    return isinstance(value, string_types) and 0 < len(value) <= max_length and bool(_DNS1123_LABEL.match(value))


def image_repository(value):
    """An image repository without tag or digest: ``apache/airflow``, ``registry.example.com:5000/team/airflow``."""
    return isinstance(value, string_types) and len(value) <= 255 and bool(_REPOSITORY.match(value))


def image_tag(value):
    """An image tag: up to 128 letters, digits, ``_``, ``.``, ``-``, not starting with ``.`` or ``-``."""
    return isinstance(value, string_types + (int, float)) and not isinstance(value, bool) and bool(_TAG.match(to_text(value)))


def cidr(value):
    """An IPv4 or IPv6 network in CIDR notation: ``10.0.0.0/16``, ``2001:db8::/32``."""
    if not isinstance(value, string_types) or "/" not in value:
        return False
    try:
        ipaddress.ip_network(to_text(value), strict=False)
    except ValueError:
        return False
    return True


def url(value, schemes=("http", "https")):
    """An absolute URL with one of ``schemes`` and a host: ``https://airflow.example.com/``."""
    if not isinstance(value, string_types):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname) and " " not in value


# Kubernetes accepts any C identifier-like environment variable name made of these characters.
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_MOUNT_PATH = re.compile(r"^/")


def _named_items(name, key, items, problems, need):
    for index, item in enumerate(items or []):
        where = "%s.%s[%d]" % (name, key, index)
        if not isinstance(item, dict):
            problems.append("%s must be a mapping" % where)
            continue
        for field, test, rule in need:
            if not test(item.get(field)):
                problems.append("%s.%s %s" % (where, field, rule))


def pod_settings_problems(pair):
    """``[name, value]`` of a pod-knobs variable -> one message per thing Kubernetes would refuse, naming
    the key (``scheduler_pod.labels``); values are never part of a message."""
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise ValueError("pod_settings_problems needs [variable name, value], got %r" % (pair,))
    name, value = pair
    problems = []
    if not isinstance(value, dict):
        return ["%s must be a mapping" % name]
    if "labels" in value and not k8s_labels(value["labels"]):
        problems.append("%s.labels must map label names ([prefix/]name) to label values (at most 63 letters, digits, '-', '_', '.')" % name)
    for key in ("annotations", "service_account_annotations"):
        if key in value and not k8s_annotations(value[key]):
            problems.append("%s.%s must map annotation names ([prefix/]name) to strings" % (name, key))
    if value.get("priority_class_name") and not k8s_name(value["priority_class_name"]):
        problems.append("%s.priority_class_name must be the name of a PriorityClass (lowercase letters, digits, '-', '.')" % name)
    is_name = (k8s_label, "must be a DNS-1123 label (lowercase letters, digits, '-')")
    _named_items(name, "env", value.get("env"), problems,
                 [("name", lambda text: isinstance(text, string_types) and bool(_ENV_NAME.match(text)),
                   "must be an environment variable name (letters, digits, '_', '-', '.')")])
    for key in ("sidecars", "init_containers"):
        _named_items(name, key, value.get(key), problems,
                     [("name",) + is_name, ("image", lambda text: isinstance(text, string_types) and bool(text) and " " not in text,
                                            "must be an image reference")])
    _named_items(name, "volumes", value.get("volumes"), problems, [("name",) + is_name])
    _named_items(name, "volume_mounts", value.get("volume_mounts"), problems,
                 [("name",) + is_name, ("mountPath", lambda text: isinstance(text, string_types) and bool(_MOUNT_PATH.match(text)),
                                        "must be an absolute path")])
    return problems


# The settings every component of the workload model has, by suffix of its role prefix.
WORKLOAD_SETTINGS = ("replicas", "termination_grace_period_seconds", "resources", "node_selector", "pod")


def workload_problems(prefix, values):
    """The workload model's rules for one component: ``values`` maps each of :data:`WORKLOAD_SETTINGS`
    the component has to its value (``{"replicas": 0, ...}`` for ``<prefix>_replicas``). One message per
    broken rule, naming the variable; a secret-free value is quoted where it helps."""
    problems = []

    def integer(key):
        try:
            return int(values[key])
        except (TypeError, ValueError):
            return None

    if "replicas" in values and (integer("replicas") is None or integer("replicas") < 1):
        problems.append("%s_replicas must be at least 1 (got '%s')." % (prefix, values["replicas"]))
    if "termination_grace_period_seconds" in values and (integer("termination_grace_period_seconds") is None
                                                         or integer("termination_grace_period_seconds") < 0):
        problems.append("%s_termination_grace_period_seconds must not be negative (got '%s')."
                        % (prefix, values["termination_grace_period_seconds"]))
    if "resources" in values and not k8s_resources(values["resources"]):
        problems.append("%s_resources must be {requests: {...}, limits: {...}} with Kubernetes quantities such as 500m, 2 or 1Gi, "
                        "and no request above its limit (got %s)." % (prefix, values["resources"]))
    if "node_selector" in values and not k8s_labels(values["node_selector"]):
        problems.append("%s_node_selector must map node label names to label values (got %s)." % (prefix, values["node_selector"]))
    if "pod" in values:
        problems.extend("%s." % problem for problem in pod_settings_problems(["%s_pod" % prefix, values["pod"]]))
    return problems
