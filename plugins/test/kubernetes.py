# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for values Kubernetes and container registries accept, used by the roles' preflight rules."""

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


class TestModule(object):
    """Kubernetes and registry value tests."""

    def tests(self):
        return {
            "k8s_quantity": k8s_quantity,
            "k8s_resources": k8s_resources,
            "k8s_label_value": k8s_label_value,
            "k8s_labels": k8s_labels,
            "k8s_annotations": k8s_annotations,
            "k8s_name": k8s_name,
            "k8s_label": k8s_label,
            "image_repository": image_repository,
            "image_tag": image_tag,
            "cidr": cidr,
            "url": url,
        }
