# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: rendered_manifests
short_description: Read back the manifests an earlier render wrote, in one pass
version_added: 0.2.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Reads the manifests that M(airflow_k8s.cloud.render_manifests) wrote under a render folder
    (C(<folder>/<component>/<kind>-<name>.yaml)) and returns them as objects, sorted by path.
  - The render-mode half of reading stored Secrets back (the apply-mode half is one
    M(kubernetes.core.k8s_info) list call), so that generated values stay the same from run to run.
  - A folder that does not exist yet gives an empty list.
options:
  _terms:
    description: The render folder (one).
    required: true
    type: path
  kind:
    description: Only manifests of this kind (by file name, C(<kind in lower case>-*.yaml)); empty for all.
    type: str
    default: ""
notes:
  - The results may hold Secrets; use them in tasks with C(no_log).
"""

EXAMPLES = r"""
- name: Read the rendered Secrets back
  ansible.builtin.set_fact:
    stored: "{{ lookup('airflow_k8s.cloud.rendered_manifests', sink_render_dir, kind='Secret') | airflow_k8s.cloud.secret_data }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: The objects of the manifests, one list.
  type: list
  elements: list
"""

import glob
import os

import yaml

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("rendered_manifests takes one render folder, got %d" % len(terms))
        root = terms[0]
        pattern = "%s-*.yaml" % self.get_option("kind").lower() if self.get_option("kind") else "*.yaml"
        objects = []
        for path in sorted(glob.glob(os.path.join(glob.escape(root), "*", pattern))):
            try:
                with open(path, "rb") as stream:
                    loaded = manifests.load_yaml(stream)
            except (IOError, OSError, yaml.YAMLError) as error:
                raise AnsibleLookupError("cannot read the rendered manifest %s: %s" % (path, to_native(error)))
            if isinstance(loaded, dict):
                objects.append(loaded)
        return [objects]
