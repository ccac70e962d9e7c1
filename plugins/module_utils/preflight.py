# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the preflight needs besides Ansible: the roles' argument specs and variable names, the
strict type rule Ansible's validator leaves out, and the masking of secrets in messages.

Used by the ``preflight`` action (every check of a run, in one task), the ``role_variables``
lookup, and the ``redact_url`` and ``unknown_variables`` filters.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import difflib
import glob
import os
import re

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six import string_types

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests

# roles/ of this collection (plugins/module_utils/preflight.py -> the collection's root).
ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")

# The user information of a URL (scheme://user:password@host, scheme://token@host) and of an
# scp-like git address (user@host:path keeps its user: it is not a secret, e.g. git@github.com).
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]*)@")
# A password=... or token=... parameter in a query string or key=value list.
_SECRET_PARAMETER = re.compile(r"(?i)(?P<key>(?:password|passwd|pwd|token|secret|sig|signature|key)=)[^&;\s]*")
MASK = "********"


def redact_url(value):
    """``value`` with the user information of every URL in it replaced by ``***`` and secret-looking
    query parameters emptied: ``https://bot:tok3n@git.example.com/repo.git`` becomes
    ``https://***@git.example.com/repo.git``. Anything else is returned as it is."""
    text = to_text(value, errors="surrogate_or_strict")
    text = _USERINFO.sub(lambda match: "%s***@" % match.group("scheme"), text)
    return _SECRET_PARAMETER.sub(lambda match: "%s***" % match.group("key"), text)


def mask(text, secrets):
    """``text`` with every value of ``secrets`` replaced by ``********`` and URL credentials masked.
    Longer secrets first, so that a secret containing a shorter one is masked whole."""
    text = to_text(text, errors="surrogate_or_strict")
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact_url(text)


#: Parsed files of this process, by path, with the modification time and size they were parsed at.
_PARSED = {}


def load_yaml_file(path):
    """The parsed YAML file (``{}`` if empty). A file already parsed in this process, and unchanged
    since, is not parsed again: the preflight reads every argument spec for the checks and again for
    the list of known variables. Callers must not change what they get."""
    stat = os.stat(path)
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _PARSED.get(path)
    if cached is None or cached[0] != stamp:
        with open(path, encoding="utf-8") as stream:
            cached = _PARSED[path] = (stamp, manifests.load_yaml(stream) or {})
    return cached[1]


def role_argument_spec(role, entry_point="main", roles_dir=ROLES_DIR):
    """The options of ``role``'s entry point (``{}`` when the role has no argument spec)."""
    path = os.path.join(roles_dir, role, "meta", "argument_specs.yml")
    if not os.path.exists(path):
        return {}
    entry = (load_yaml_file(path).get("argument_specs") or {}).get(entry_point) or {}
    return entry.get("options") or {}


def role_variables(roles_dir=ROLES_DIR):
    """``{"roles": [...], "variables": [...]}``: the roles under ``roles_dir`` and every variable name
    they know (the options of every entry point, the names set in ``defaults/`` and ``vars/``)."""
    roles, variables = set(), set()
    for role_dir in sorted(glob.glob(os.path.join(roles_dir, "*", ""))):
        roles.add(os.path.basename(os.path.dirname(role_dir)))
        specs = os.path.join(role_dir, "meta", "argument_specs.yml")
        if os.path.exists(specs):
            for entry in (load_yaml_file(specs).get("argument_specs") or {}).values():
                variables.update((entry or {}).get("options") or {})
        for folder in ("defaults", "vars"):
            for path in glob.glob(os.path.join(role_dir, folder, "main.yml")) + glob.glob(os.path.join(role_dir, folder, "main", "*.yml")):
                loaded = load_yaml_file(path)
                if isinstance(loaded, dict):
                    variables.update(loaded)
    return {"roles": sorted(roles), "variables": sorted(variables)}


def unknown_variables(names, known, roles, ignore=()):
    """The names among ``names`` that start with a role's prefix (``<role>_``), are not ``known``
    variables and are not in ``ignore``; each ``{"name": ..., "suggestion": <closest known name or "">}``."""
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


def describe_unknown(unknown):
    """``a (did you mean b?), c`` for the output of :func:`unknown_variables`."""
    return ", ".join("%s%s" % (item["name"], " (did you mean %s?)" % item["suggestion"] if item["suggestion"] else "")
                     for item in unknown)


def _kind(value):
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, string_types):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    return "a %s" % type(value).__name__


def strict_type_problems(name, spec, value):
    """What Ansible's validator converts silently: a mapping or a list where a string is declared (it
    becomes its Python repr), a string where a mapping or a list is declared (split on commas and
    ``=``), and list elements of the wrong kind. One message per problem."""
    problems = []
    kind = spec.get("type", "str")
    if value is None:
        return problems
    if kind == "str" and isinstance(value, (dict, list, tuple)):
        problems.append("%s must be a string, got %s" % (name, _kind(value)))
    elif kind == "dict" and not isinstance(value, dict):
        # Ansible would read "a=1,b=2" as a mapping: say what was meant instead.
        problems.append("%s must be a mapping, got %s" % (name, _kind(value)))
    elif kind == "list" and not isinstance(value, (list, tuple)):
        # Ansible would split "a,b" into a list.
        problems.append("%s must be a list, got %s" % (name, _kind(value)))
    elif kind == "list" and isinstance(value, (list, tuple)):
        elements = spec.get("elements")
        for index, item in enumerate(value):
            element = "%s[%d]" % (name, index)
            if elements == "str" and isinstance(item, (dict, list, tuple)):
                problems.append("%s must be a string, got %s" % (element, _kind(item)))
            elif elements == "dict" and not isinstance(item, dict):
                problems.append("%s must be a mapping, got %s" % (element, _kind(item)))
            elif elements == "dict" and spec.get("options"):
                problems.extend(_suboption_problems(element, spec["options"], item))
    elif kind == "dict" and isinstance(value, dict) and spec.get("options"):
        problems.extend(_suboption_problems(name, spec["options"], value))
    return problems


def _suboption_problems(name, options, value):
    problems = []
    for option, option_spec in options.items():
        if option in value:
            problems.extend(strict_type_problems("%s.%s" % (name, option), option_spec or {}, value[option]))
    return problems


def no_log_values(options, values):
    """The string values of the options marked ``no_log`` (top level and sub-options)."""
    found = []
    for name, spec in options.items():
        spec = spec or {}
        value = values.get(name) if isinstance(values, dict) else None
        if value is None:
            continue
        if spec.get("no_log") and isinstance(value, string_types + (int, float)) and not isinstance(value, bool):
            found.append(to_text(value))
        elif spec.get("options"):
            items = value if isinstance(value, list) else [value]
            for item in items:
                found.extend(no_log_values(spec["options"], item))
    return found
