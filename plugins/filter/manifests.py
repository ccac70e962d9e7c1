# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
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


def k8s_object_problems(objects, variable="sink_objects"):
    """Problems that make objects unusable, one message per object, naming it by position.

    An empty list means every object has apiVersion, kind and metadata.name, and no Secret uses
    stringData (which server-side apply would report as changed on every run).
    """
    if not isinstance(objects, (list, tuple)):
        return ["%s must be a list of Kubernetes objects" % variable]
    problems = []
    for index, obj in enumerate(objects):
        where = "%s[%d]" % (variable, index)
        if not isinstance(obj, dict):
            problems.append("%s is not a mapping" % where)
            continue
        metadata = obj.get("metadata")
        missing = [field for field, value in (("apiVersion", obj.get("apiVersion")), ("kind", obj.get("kind")),
                                              ("metadata.name", metadata.get("name") if isinstance(metadata, dict) else None))
                   if not value]
        if missing:
            problems.append("%s needs %s" % (where, ", ".join(missing)))
        if obj.get("kind") == "Secret" and "stringData" in obj:
            problems.append("%s is a Secret with stringData: use data (base64) so a re-apply is a no-op" % where)
    return problems


class FilterModule(object):
    """Filters for naming and accounting for Kubernetes objects."""

    def filters(self):
        return {
            "k8s_manifest_path": k8s_manifest_path,
            "k8s_ledger_entry": k8s_ledger_entry,
            "k8s_object_problems": k8s_object_problems,
        }
