# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render mode of the sink: a run's objects as YAML manifests in a folder, one file per object.

The whole work of the ``render_manifests`` module, as plain functions: the module runs them in its
process, and the module's action plugin runs them in the controller process when the task's
connection is local. Both validate their options with :func:`argument_spec` and return what
:func:`render_manifests` returns; errors are :class:`RenderError` (their messages never contain a
Secret's content).

Folders get mode 0700, Secret manifests 0600 and the others 0644, set explicitly (``os.open`` with
the mode, then ``chmod``), so the process umask never loosens them. A file is rewritten only when
its content or mode differs, through a temporary file in the same folder and a rename.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import os

from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests

MARKER = ".airflow_k8s_cloud"
MARKER_TEXT = "Rendered by the airflow_k8s.cloud collection; files here are replaced on every run.\n"
KUSTOMIZATION = "kustomization.yaml"
DIR_MODE = 0o700
FILE_MODE = 0o644
SECRET_MODE = 0o600


class RenderError(Exception):
    """Nothing (more) can be written; the message says why."""


def argument_spec():
    """The options of the render_manifests module and action plugin (a new dict on every call)."""
    return dict(
        copy.deepcopy(manifests.RUN_OBJECTS_ARGUMENT_SPEC),
        path=dict(type="path", required=True),
        prune=dict(type="bool", default=False),
        kustomization=dict(type="bool", default=True),
    )


def check_folder(path):
    """Fail when path is a non-empty folder this collection did not create."""
    if not os.path.exists(path):
        return
    if not os.path.isdir(path):
        raise RenderError("path (sink_render_dir) %s exists and is not a folder" % path)
    if os.listdir(path) and not os.path.exists(os.path.join(path, MARKER)):
        raise RenderError(
            "path (sink_render_dir) %s exists, is not empty and was not made by this collection. "
            "Render mode removes stale manifests from its folder, so choose an empty folder or one "
            "made by an earlier run." % path)


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def current_mode(path):
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def write(path, data, mode, move):
    """Write atomically: temp file with the final mode, then ``move(temp, path)`` (a rename)."""
    folder = os.path.dirname(path)
    temp = os.path.join(folder, ".%s.tmp" % os.path.basename(path))
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
    os.chmod(temp, mode)
    move(temp, path)
    os.chmod(path, mode)


def ensure_folder(path):
    """Create a folder with mode 0700, or tighten its mode; return whether anything changed."""
    if not os.path.isdir(path):
        os.makedirs(path, DIR_MODE)
        os.chmod(path, DIR_MODE)
        return True
    if current_mode(path) != DIR_MODE:
        os.chmod(path, DIR_MODE)
        return True
    return False


def existing_manifests(root):
    """Relative paths of the manifests under root (kustomization.yaml excluded)."""
    found = []
    if not os.path.isdir(root):
        return found
    for folder, dummy, names in os.walk(root):
        for name in names:
            if name.endswith(".yaml") and not name.startswith("."):
                relative = os.path.relpath(os.path.join(folder, name), root)
                if relative != KUSTOMIZATION:
                    found.append(relative)
    return sorted(found)


def rendered_reader(root, existing, no_log_values):
    """``read(kind, namespace, name)`` for manifests.with_checksums: an object the run does not hold,
    from its manifest of an earlier render under root (``existing``: their relative paths). The values
    of a Secret read this way join ``no_log_values``: only its digest is used, its values are masked
    all the same."""
    def read_rendered(kind, namespace, name):
        prefix = kind.lower() + "-"
        for relative in existing:
            base = os.path.basename(relative)
            if not (base == "%s%s.yaml" % (prefix, name) or (base.startswith(prefix) and base.endswith("-%s.yaml" % name))):
                continue
            try:
                obj = manifests.load_yaml(read(os.path.join(root, relative)) or b"")
            except manifests.yaml.YAMLError:  # an unreadable file is no source
                continue
            if not isinstance(obj, dict):
                continue
            metadata = obj.get("metadata") or {}
            if obj.get("kind") == kind and metadata.get("name") == name and (metadata.get("namespace") or "") == namespace:
                no_log_values.update(manifests.secret_values(obj))
                return obj
        return None
    return read_rendered


def plan(root, objects, labels):
    """(files, planned writes, diffs, secret count) for the objects, without writing anything."""
    files, planned, diffs, secrets = [], [], [], 0
    for component, obj, relative in manifests.manifest_paths(objects):
        secret = obj["kind"] == "Secret"
        secrets += 1 if secret else 0
        text = manifests.to_yaml(manifests.with_labels(obj, labels))
        absolute = os.path.join(root, relative)
        before = read(absolute)
        mode = SECRET_MODE if secret else FILE_MODE
        if relative in files:
            raise RenderError("two objects of component %s would be written to %s (the same kind, name and namespace)"
                              % (component, relative))
        files.append(relative)
        if before == to_bytes(text) and current_mode(absolute) == mode:
            continue
        planned.append((relative, text, mode))
        if secret:
            diffs.append(dict(before_header=relative, after_header=relative,
                              before=manifests.SECRET_HIDDEN if before is not None else "", after=manifests.SECRET_HIDDEN))
        else:
            diffs.append(dict(before_header=relative, after_header=relative,
                              before=to_native(before) if before is not None else "", after=text))
    return sorted(files), planned, diffs, secrets


def render_manifests(params, objects, check_mode, diff, move, no_log_values=None):
    """Write (or in check mode, plan) the manifests of ``objects``; return the module's result.

    :arg params: the validated options (path, labels, prune, kustomization).
    :arg objects: the run's objects and Secrets by component (:func:`manifests.merge_run_objects`).
    :arg move: ``move(temp, path)`` renames a written temporary file over its manifest.
    :arg no_log_values: a set the values of Secrets read from earlier manifests are added to (masked
        by the caller).
    :raises RenderError: nothing can be written, or writing failed.
    """
    if not manifests.HAS_YAML:
        raise RenderError("PyYAML is required")  # callers report it as a missing library first
    root = params["path"]
    for component in objects:
        if not component or "/" in component or component in (".", ".."):
            raise RenderError("objects: %r is not a plain folder name (a component)" % component)
    check_folder(root)

    existing = existing_manifests(root)
    # Each workload's pods carry the checksum of every ConfigMap and Secret they read: from the run,
    # else from the folder's earlier manifest (a Secret not made by the collection is unknown here).
    objects = manifests.with_checksums(objects, rendered_reader(root, existing, set() if no_log_values is None else no_log_values))
    files, planned, diffs, secrets = plan(root, objects, params["labels"])
    removed = [relative for relative in existing if relative not in files] if params["prune"] else []
    for relative in removed:
        diffs.append(dict(before_header=relative, after_header="(removed)",
                          before=manifests.SECRET_HIDDEN if os.path.basename(relative).startswith("secret-")
                          else to_native(read(os.path.join(root, relative)) or b""), after=""))
    kustomization_text = None
    if params["kustomization"]:
        listed = sorted(set(existing) - set(removed) | set(files))
        kustomization_text = manifests.to_yaml({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": listed})
        if read(os.path.join(root, KUSTOMIZATION)) == to_bytes(kustomization_text):
            kustomization_text = None

    folders = [root] + sorted(set(os.path.join(root, os.path.dirname(relative)) for relative in files))
    folders_change = any(not os.path.isdir(folder) or current_mode(folder) != DIR_MODE for folder in folders)
    changed = bool(planned or removed or kustomization_text is not None or folders_change)
    if changed and not check_mode:
        try:
            for folder in folders:
                ensure_folder(folder)
            if read(os.path.join(root, MARKER)) != to_bytes(MARKER_TEXT):
                write(os.path.join(root, MARKER), to_bytes(MARKER_TEXT), SECRET_MODE, move)
            for relative, text, mode in planned:
                write(os.path.join(root, relative), to_bytes(text), mode, move)
            for relative in removed:
                os.remove(os.path.join(root, relative))
            if kustomization_text is not None:
                write(os.path.join(root, KUSTOMIZATION), to_bytes(kustomization_text), FILE_MODE, move)
        except (IOError, OSError) as error:
            raise RenderError("cannot write the manifests under %s: %s" % (root, to_native(error)))

    result = dict(changed=changed, files=files, changed_files=[relative for relative, dummy, dummy2 in planned],
                  removed_files=removed, components=sorted(objects), secrets=secrets)
    if diff:
        result["diff"] = diffs
    return result
