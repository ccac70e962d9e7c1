# -*- coding: utf-8 -*-
# Copyright (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: dag_folder
short_description: Read a local folder of DAG files for delivery through a ConfigMap
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Reads every file below a folder on the controller, in one pass, as bytes (binary-safe), and
    returns them with their relative paths, sizes, SHA-256 digests and a ConfigMap key for each.
  - Also returns one checksum of the whole folder, the SHA-256 of its manifest, a text with one line
    C(<sha256 of the file>  <relative path>) per file, sorted by path (what C(sha256sum) prints).
    It changes when a file is added, removed, renamed or edited, and only then.
  - Symbolic links are followed; files and folders matching O(exclude) are left out.
options:
  _terms:
    description: The folder to read (one).
    required: true
    type: path
  exclude:
    description:
      - Shell patterns (C(fnmatch)) matched against every component of a file's relative path
        and against the whole relative path. A match leaves the file (or folder) out.
    type: list
    elements: str
    default: ["__pycache__", "*.pyc", ".*"]
"""

EXAMPLES = r"""
- name: Read the DAG folder
  ansible.builtin.set_fact:
    dags_folder: "{{ lookup('airflow_k8s.cloud.dag_folder', playbook_dir ~ '/dags', exclude=['__pycache__', '*.pyc', '.*', 'tests']) }}"

- name: Show what would be delivered
  ansible.builtin.debug:
    msg: "{{ dags_folder.files | length }} files, {{ dags_folder.total_bytes }} bytes, checksum {{ dags_folder.checksum }}"
"""

RETURN = r"""
_raw:
  description: One mapping describing the folder.
  type: list
  elements: dict
  contains:
    checksum:
      description: SHA-256 of the manifest (see description).
      type: str
    manifest:
      description: One line C(<sha256>  <path>) per file, sorted by path.
      type: str
    total_bytes:
      description: Sum of the file sizes.
      type: int
    files:
      description: The files, sorted by relative path.
      type: list
      elements: dict
      contains:
        path:
          description: Path relative to the folder, with C(/) separators.
          type: str
        key:
          description: A ConfigMap key for the file, unique in this folder (C([-._a-zA-Z0-9]+), at most 253 characters).
          type: str
        size:
          description: Size in bytes.
          type: int
        sha256:
          description: SHA-256 of the content, hexadecimal.
          type: str
        content:
          description: The content, base64-encoded (as ConfigMap C(binaryData) holds it).
          type: str
"""

import base64
import fnmatch
import hashlib
import os
import re

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.lookup import LookupBase

# What Kubernetes allows in a ConfigMap key, and its maximum length.
KEY_DISALLOWED = re.compile(r"[^-._a-zA-Z0-9]")
KEY_MAX_LENGTH = 253


def _excluded(relative_path, patterns):
    parts = relative_path.split("/")
    for pattern in patterns:
        if fnmatch.fnmatchcase(relative_path, pattern):
            return True
        if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return False


def _key_for(relative_path):
    key = KEY_DISALLOWED.sub("_", relative_path.replace("/", "__"))
    if key.startswith("."):
        key = "_" + key[1:]
    return key


def read_folder(folder, exclude):
    """Describe every file below ``folder`` (see RETURN); raises AnsibleLookupError when unusable."""
    if not os.path.isdir(folder):
        raise AnsibleLookupError("the DAG folder %s does not exist or is not a folder" % folder)
    found = []
    for root, dirnames, filenames in os.walk(folder, followlinks=True):
        relative_root = os.path.relpath(root, folder)
        relative_root = "" if relative_root == "." else relative_root.replace(os.sep, "/") + "/"
        dirnames[:] = sorted(name for name in dirnames if not _excluded(relative_root + name, exclude))
        for name in sorted(filenames):
            relative_path = relative_root + name
            if _excluded(relative_path, exclude):
                continue
            path = os.path.join(root, name)
            if not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as stream:
                    content = stream.read()
            except (IOError, OSError) as error:
                raise AnsibleLookupError("cannot read %s: %s" % (path, to_text(error)))
            found.append((to_text(relative_path, errors="surrogate_or_strict"), content))
    found.sort(key=lambda item: item[0])

    keys = {}
    for relative_path, dummy in found:
        key = _key_for(relative_path)
        keys.setdefault(key, []).append(relative_path)
    files = []
    manifest = []
    for relative_path, content in found:
        key = _key_for(relative_path)
        if len(keys[key]) > 1 or len(key) > KEY_MAX_LENGTH:
            # Two paths that differ only in characters a key cannot hold, or a very long path.
            suffix = "-" + hashlib.sha256(to_bytes(relative_path)).hexdigest()[:12]
            key = key[:KEY_MAX_LENGTH - len(suffix)] + suffix
        digest = hashlib.sha256(content).hexdigest()
        manifest.append("%s  %s\n" % (digest, relative_path))
        files.append({
            "path": relative_path,
            "key": key,
            "size": len(content),
            "sha256": digest,
            "content": to_text(base64.b64encode(content)),
        })
    manifest_text = "".join(manifest)
    return {
        "checksum": hashlib.sha256(to_bytes(manifest_text)).hexdigest(),
        "manifest": manifest_text,
        "total_bytes": sum(item["size"] for item in files),
        "files": files,
    }


class LookupModule(LookupBase):
    """Read a DAG folder (see DOCUMENTATION)."""

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("dag_folder takes exactly one folder, got %d" % len(terms))
        exclude = self.get_option("exclude") or []
        return [read_folder(os.path.expanduser(to_text(terms[0])), exclude)]
