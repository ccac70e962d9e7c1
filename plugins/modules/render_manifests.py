#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: render_manifests
short_description: Write a whole run's Kubernetes objects as YAML manifests, one file per object
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - The render mode of the collection's C(sink) role, in one module run for the whole deployment.
    Writes each object of O(objects) to C(<path>/<component>/<kind>-<name>.yaml) (kind in lower
    case), adds O(labels) to every object, removes manifests it did not write this time when
    O(prune) is set, and writes C(kustomization.yaml) listing every manifest in the folder.
  - Folders are created with mode 0700. Files of objects of kind C(Secret) get mode 0600, all
    other files 0644. Files are only rewritten when their content or mode differs.
  - Secrets travel in the same run as everything else, in O(secrets), a C(no_log) option, so
    Ansible keeps them out of the module's log entry and its output. Their values never leave the
    module (their diff names the file only), and every value of their C(data) is registered as a
    C(no_log) value, so it is masked wherever else it could show.
  - Refuses to write into an existing, non-empty O(path) that does not hold the marker file
    C(.airflow_k8s_cloud) (which it creates), because it removes stale manifests from folders it owns.
  - Every object is checked before anything is written.
  - Pods follow what they read. The pod template of every Deployment, StatefulSet, DaemonSet and
    CronJob gets one annotation C(checksum.airflow-k8s.cloud/<kind>-<name>) per ConfigMap and Secret
    of its namespace it reads, whose value is the SHA-256 of that object's C(data), C(stringData)
    and C(binaryData) (as M(airflow_k8s.cloud.k8s_apply) does). An object the run does not hold
    (a C(--tags) run) is taken from its manifest of an earlier render under O(path). One found
    nowhere gets no annotation; render mode cannot know a Secret made outside the collection.
    Jobs get none, because their pod template is immutable.
  - Why a module rather than M(ansible.builtin.copy) in a loop; copy would work, but costs a
    module run per object (about 50 for a deployment), which dominated the render time.
options:
  path:
    description: The render folder (the sink's C(sink_render_dir)).
    type: path
    required: true
  prune:
    description:
      - Remove the manifests under O(path) that this run did not write. Set it only when
        O(objects) is the complete deployment (a run without C(--tags)).
    type: bool
    default: false
  kustomization:
    description: Write C(kustomization.yaml) listing every manifest in O(path), for C(kubectl apply -k).
    type: bool
    default: true
extends_documentation_fragment:
  - airflow_k8s.cloud.run_objects
attributes:
  check_mode:
    support: full
    description: Reports which files would change or be removed, writes nothing.
  diff_mode:
    support: full
    description: Shows the YAML before and after for every changed file; for Secrets only the file name.
  platform:
    support: full
    platforms: posix
    description: Writes files on the host it runs on, normally the controller (connection local).
notes:
  - Manifests are written with sorted keys and a leading C(---), so the output is stable from run to run.
seealso:
  - module: airflow_k8s.cloud.k8s_apply
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Render the whole deployment to build/local/
  airflow_k8s.cloud.render_manifests:
    path: "{{ playbook_dir }}/build/local"
    objects:
      scheduler:
        - apiVersion: v1
          kind: ServiceAccount
          metadata:
            name: airflow-scheduler
            namespace: airflow
    secrets: "{{ {'secrets': secret_objects} | to_json }}"
    labels:
      app.kubernetes.io/managed-by: airflow_k8s.cloud
    prune: true
"""

RETURN = r"""
files:
  description: Paths of every manifest of this run, relative to O(path), sorted.
  returned: always
  type: list
  elements: str
  sample: [scheduler/serviceaccount-airflow-scheduler.yaml]
changed_files:
  description: The subset of RV(files) that was (or in check mode would be) written.
  returned: always
  type: list
  elements: str
  sample: []
removed_files:
  description: Manifests removed (or in check mode to be removed) because this run did not produce them (O(prune)).
  returned: always
  type: list
  elements: str
  sample: [network_policy/networkpolicy-airflow-api-server.yaml]
components:
  description: The components of this run, sorted.
  returned: always
  type: list
  elements: str
  sample: [config, scheduler]
secrets:
  description: How many of the manifests are Secrets.
  returned: always
  type: int
  sample: 6
"""

import copy
import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests

MARKER = ".airflow_k8s_cloud"
MARKER_TEXT = "Rendered by the airflow_k8s.cloud collection; files here are replaced on every run.\n"
KUSTOMIZATION = "kustomization.yaml"
DIR_MODE = 0o700
FILE_MODE = 0o644
SECRET_MODE = 0o600


def check_folder(module, path):
    """Fail when path is a non-empty folder this collection did not create."""
    if not os.path.exists(path):
        return
    if not os.path.isdir(path):
        module.fail_json(msg="path (sink_render_dir) %s exists and is not a folder" % path)
    if os.listdir(path) and not os.path.exists(os.path.join(path, MARKER)):
        module.fail_json(
            msg="path (sink_render_dir) %s exists, is not empty and was not made by this collection. "
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


def write(module, path, data, mode):
    """Write atomically: temp file with the final mode, then rename."""
    folder = os.path.dirname(path)
    temp = os.path.join(folder, ".%s.tmp" % os.path.basename(path))
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
    os.chmod(temp, mode)
    module.atomic_move(temp, path)
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


def rendered_reader(module, root, existing):
    """``read(kind, namespace, name)`` for manifests.with_checksums: an object the run does not hold,
    from its manifest of an earlier render under root (``existing``: their relative paths)."""
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
                # Only its digest is used; its values are masked all the same.
                module.no_log_values.update(manifests.secret_values(obj))
                return obj
        return None
    return read_rendered


def plan(module, root, objects, labels):
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
            module.fail_json(msg="two objects of component %s would be written to %s (the same kind, name and namespace)"
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            copy.deepcopy(manifests.RUN_OBJECTS_ARGUMENT_SPEC),
            path=dict(type="path", required=True),
            prune=dict(type="bool", default=False),
            kustomization=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    if not manifests.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))

    root = module.params["path"]
    objects = manifests.run_objects(module)
    for component in objects:
        if not component or "/" in component or component in (".", ".."):
            module.fail_json(msg="objects: %r is not a plain folder name (a component)" % component)
    check_folder(module, root)

    existing = existing_manifests(root)
    # Each workload's pods carry the checksum of every ConfigMap and Secret they read: from the run,
    # else from the folder's earlier manifest (a Secret not made by the collection is unknown here).
    objects = manifests.with_checksums(objects, rendered_reader(module, root, existing))
    files, planned, diffs, secrets = plan(module, root, objects, module.params["labels"])
    removed = [relative for relative in existing if relative not in files] if module.params["prune"] else []
    for relative in removed:
        diffs.append(dict(before_header=relative, after_header="(removed)",
                          before=manifests.SECRET_HIDDEN if os.path.basename(relative).startswith("secret-")
                          else to_native(read(os.path.join(root, relative)) or b""), after=""))
    kustomization_text = None
    if module.params["kustomization"]:
        listed = sorted(set(existing) - set(removed) | set(files))
        kustomization_text = manifests.to_yaml({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": listed})
        if read(os.path.join(root, KUSTOMIZATION)) == to_bytes(kustomization_text):
            kustomization_text = None

    folders = [root] + sorted(set(os.path.join(root, os.path.dirname(relative)) for relative in files))
    folders_change = any(not os.path.isdir(folder) or current_mode(folder) != DIR_MODE for folder in folders)
    changed = bool(planned or removed or kustomization_text is not None or folders_change)
    if changed and not module.check_mode:
        try:
            for folder in folders:
                ensure_folder(folder)
            if read(os.path.join(root, MARKER)) != to_bytes(MARKER_TEXT):
                write(module, os.path.join(root, MARKER), to_bytes(MARKER_TEXT), SECRET_MODE)
            for relative, text, mode in planned:
                write(module, os.path.join(root, relative), to_bytes(text), mode)
            for relative in removed:
                os.remove(os.path.join(root, relative))
            if kustomization_text is not None:
                write(module, os.path.join(root, KUSTOMIZATION), to_bytes(kustomization_text), FILE_MODE)
        except (IOError, OSError) as error:
            module.fail_json(msg="cannot write the manifests under %s: %s" % (root, to_native(error)))

    result = dict(changed=changed, files=files, changed_files=[relative for relative, dummy, dummy2 in planned],
                  removed_files=removed, components=sorted(objects), secrets=secrets)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
