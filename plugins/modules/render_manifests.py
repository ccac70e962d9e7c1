#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: render_manifests
short_description: Write Kubernetes objects as YAML manifests, one file per object
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Writes each object of O(objects) to C(<path>/<component>/<kind>-<name>.yaml) (kind in lower
    case), the render mode of the collection's C(sink) role.
  - One call writes a whole component, instead of one M(ansible.builtin.copy) per object, which
    is what keeps rendering the whole deployment fast.
  - Folders are created with mode 0700. Files of objects of kind C(Secret) get mode 0600, all
    other files 0644. Files are only rewritten when their content or mode differs.
  - Refuses to write into an existing, non-empty O(path) that does not hold the marker file
    C(.airflow_k8s_cloud) (which it creates), because the sink removes stale manifests from
    folders it owns.
  - Why a module rather than M(ansible.builtin.copy) in a loop; copy would work, but costs a
    module run per object (about 50 for a deployment), which dominated the render time.
options:
  path:
    description: The render folder (the sink's C(sink_render_dir)).
    type: path
    required: true
  component:
    description: Sub-folder for these objects, the component they belong to (e.g. C(scheduler)).
    type: str
    required: true
  objects:
    description:
      - Kubernetes objects, each with C(kind) and C(metadata.name).
      - When they include Secrets, set C(no_log) on the task; the module never shows a Secret's
        content in its diff, but the task's arguments would.
    type: list
    elements: dict
    required: true
attributes:
  check_mode:
    support: full
    description: Reports which files would change, writes nothing.
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
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Render the scheduler objects to build/local/scheduler/
  airflow_k8s.cloud.render_manifests:
    path: "{{ playbook_dir }}/build/local"
    component: scheduler
    objects:
      - apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: airflow-scheduler
          namespace: airflow

- name: Render Secrets (content stays out of the output)
  airflow_k8s.cloud.render_manifests:
    path: "{{ playbook_dir }}/build/local"
    component: secrets
    objects: "{{ secret_objects }}"
  no_log: true
"""

RETURN = r"""
files:
  description: Paths of the manifests, relative to O(path), in the order of O(objects).
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
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

MARKER = ".airflow_k8s_cloud"
MARKER_TEXT = "Rendered by the airflow_k8s.cloud collection; files here are replaced on every run.\n"
DIR_MODE = 0o700
FILE_MODE = 0o644
SECRET_MODE = 0o600


def manifest_path(obj, component):
    """Relative path of an object's manifest; the same rule as the k8s_manifest_path filter."""
    return "%s/%s-%s.yaml" % (component, obj["kind"].lower(), obj["metadata"]["name"])


if HAS_YAML:
    class ManifestDumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
        """Safe dumper that writes multi-line strings (airflow.cfg, pod templates) as literal blocks."""

    def _represent_str(dumper, data):
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    ManifestDumper.add_representer(str, _represent_str)


def to_yaml(obj):
    """Stable YAML text of an object."""
    return "---\n" + yaml.dump(obj, Dumper=ManifestDumper, default_flow_style=False, sort_keys=True,
                               allow_unicode=True, width=100)


def check_objects(module, objects):
    for index, obj in enumerate(objects):
        metadata = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(metadata, dict) or not obj.get("kind") or not metadata.get("name"):
            module.fail_json(msg="objects[%d] needs kind and metadata.name" % index)
        for part in (obj["kind"], metadata["name"]):
            if "/" in part or part in (".", ".."):
                module.fail_json(msg="objects[%d]: kind and metadata.name must not contain '/'" % index)


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
    """Create a folder with mode 0700; return whether it was created or its mode changed."""
    if not os.path.isdir(path):
        os.makedirs(path, DIR_MODE)
        os.chmod(path, DIR_MODE)
        return True
    if current_mode(path) != DIR_MODE:
        os.chmod(path, DIR_MODE)
        return True
    return False


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            component=dict(type="str", required=True),
            objects=dict(type="list", elements="dict", required=True),
        ),
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))

    root = module.params["path"]
    component = module.params["component"]
    objects = module.params["objects"]
    if not component or "/" in component or component in (".", ".."):
        module.fail_json(msg="component must be a plain folder name, got %r" % component)
    check_objects(module, objects)
    check_folder(module, root)

    files, changed_files, diffs = [], [], []
    planned = []
    for obj in objects:
        relative = manifest_path(obj, component)
        secret = obj["kind"] == "Secret"
        text = to_yaml(obj)
        absolute = os.path.join(root, relative)
        before = read(absolute)
        mode = SECRET_MODE if secret else FILE_MODE
        files.append(relative)
        if before != to_bytes(text) or current_mode(absolute) != mode:
            changed_files.append(relative)
            planned.append((absolute, text, mode))
            if module._diff:
                if secret:
                    diffs.append(dict(before_header=relative, after_header=relative,
                                      before="(Secret content hidden)\n" if before is not None else "",
                                      after="(Secret content hidden)\n"))
                else:
                    diffs.append(dict(before_header=relative, after_header=relative,
                                      before=to_native(before) if before is not None else "", after=text))

    changed = bool(changed_files)
    folders_changed = False
    if not module.check_mode:
        try:
            folders_changed = ensure_folder(root)
            marker = os.path.join(root, MARKER)
            if read(marker) != to_bytes(MARKER_TEXT):
                write(module, marker, to_bytes(MARKER_TEXT), SECRET_MODE)
                folders_changed = True
            folders_changed = ensure_folder(os.path.join(root, component)) or folders_changed
            for absolute, text, mode in planned:
                write(module, absolute, to_bytes(text), mode)
        except (IOError, OSError) as error:
            module.fail_json(msg="cannot write the manifests of %s under %s: %s" % (component, root, to_native(error)))
    else:
        folders_changed = not os.path.isdir(os.path.join(root, component))

    result = dict(changed=changed or folders_changed, files=files, changed_files=changed_files)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
