# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""unknown_variables: names that look like a role's variables but are none, with the likely intended one."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import difflib

from ansible.errors import AnsibleFilterError


def unknown_variables(names, known, roles, ignore=()):
    """The names among ``names`` that start with a role's prefix (``<role>_``), are not ``known``
    variables and are not in ``ignore``; each ``{"name": ..., "suggestion": <closest known name or "">}``."""
    if not all(isinstance(value, (list, tuple)) for value in (names, known, roles, ignore)):
        raise AnsibleFilterError("unknown_variables needs lists of names, known variables, roles and names to ignore")
    known_set, ignored = set(known), set(ignore)
    prefixes = tuple("%s_" % role for role in roles)
    found = []
    for name in sorted(set(names)):
        if not name.startswith(prefixes) or name in known_set or name in ignored:
            continue
        same_role = [candidate for candidate in known if candidate.startswith(name.split("_", 1)[0] + "_")]
        close = difflib.get_close_matches(name, same_role or list(known), n=1, cutoff=0.8)
        found.append({"name": name, "suggestion": close[0] if close else ""})
    return found


class FilterModule(object):
    """Spotting mistyped variable names."""

    def filters(self):
        return {"unknown_variables": unknown_variables}
