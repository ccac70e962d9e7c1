# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# Apache License 2.0 (see LICENSE)
"""Filters the sink role uses to name and account for Kubernetes objects."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError


def _identity(obj):
    if not isinstance(obj, dict):
        raise AnsibleFilterError("expected a Kubernetes object (a mapping), got %s" % type(obj).__name__)
    metadata = obj.get("metadata") or {}
    kind = obj.get("kind")
    name = metadata.get("name")
    if not kind or not name:
        raise AnsibleFilterError("a Kubernetes object needs kind and metadata.name")
    return kind, name, metadata.get("namespace", "")


def k8s_manifest_path(obj, component):
    """Relative path of an object's manifest in render mode: <component>/<kind>-<name>.yaml.

    Secrets are named secret-<name>.yaml, so they are recognisable and kept at mode 0600.
    """
    kind, name, dummy = _identity(obj)
    return "%s/%s-%s.yaml" % (component, kind.lower(), name)


def k8s_ledger_entry(obj, component):
    """What the summary needs to know about an object, without its content (Secrets!)."""
    kind, name, namespace = _identity(obj)
    return {
        "component": component,
        "apiVersion": obj.get("apiVersion", ""),
        "kind": kind,
        "name": name,
        "namespace": namespace,
        "secret": kind == "Secret",
        "path": k8s_manifest_path(obj, component),
    }


class FilterModule(object):
    """Filters for naming and accounting for Kubernetes objects."""

    def filters(self):
        return {
            "k8s_manifest_path": k8s_manifest_path,
            "k8s_ledger_entry": k8s_ledger_entry,
        }
