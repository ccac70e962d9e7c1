# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""unknown_variables: names that look like a role's variables but are none, with the likely intended one."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import preflight


def unknown_variables(names, known, roles, ignore=()):
    """The names among ``names`` that start with a role's prefix (``<role>_``), are not ``known``
    variables and are not in ``ignore``; each ``{"name": ..., "suggestion": <closest known name or "">}``."""
    if not all(isinstance(value, (list, tuple)) for value in (names, known, roles, ignore)):
        raise AnsibleFilterError("unknown_variables needs lists of names, known variables, roles and names to ignore")
    return preflight.unknown_variables(names, known, roles, ignore)


class FilterModule(object):
    """Spotting mistyped variable names (the preflight action warns with the same function)."""

    def filters(self):
        return {"unknown_variables": unknown_variables}
