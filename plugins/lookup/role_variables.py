# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: role_variables
short_description: The variable names this collection's roles know
version_added: 0.2.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Reads every role of the collection once and returns the names of its variables - the options
    of every entry point of C(meta/argument_specs.yml), and the names set in C(defaults/) and C(vars/) -
    with the role names (the prefixes of their variables).
  - Used to spot inventory variables that look like a role's but are not one (a typo such as
    C(scheduler_replica)), which Ansible would otherwise ignore silently.
options: {}
"""

EXAMPLES = r"""
- name: Known variables
  ansible.builtin.debug:
    msg: "{{ lookup('airflow_k8s.cloud.role_variables').roles }}"
"""

RETURN = r"""
_raw:
  description: One mapping with C(roles) (the role names) and C(variables) (every known variable name), both sorted.
  type: list
  elements: dict
"""

import yaml

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import preflight


def role_variables(roles_dir=preflight.ROLES_DIR):
    """``{"roles": [...], "variables": [...]}`` of the roles under ``roles_dir``."""
    try:
        return preflight.role_variables(roles_dir)
    except (IOError, OSError, yaml.YAMLError) as error:
        raise AnsibleLookupError("cannot read the roles' variables: %s" % to_native(error))


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [role_variables()]
