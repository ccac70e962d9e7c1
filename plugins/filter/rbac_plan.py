# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rbac role's decision: which ServiceAccounts, Roles and bindings to describe, in order."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean

# The component whose ServiceAccount the task pods use; in multi-namespace mode it is also
# created in every other namespace task pods may run in.
TASK_COMPONENT = "task"


def _text(value, what):
    if not isinstance(value, str) or not value:
        raise AnsibleFilterError("rbac_plan: %s must be a non-empty string, got %r" % (what, value))
    return value


def _flag(value, what):
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise AnsibleFilterError("rbac_plan: %s must be a boolean, got %r" % (what, value))


def _grants(grants, service_accounts):
    if not is_sequence(grants):
        raise AnsibleFilterError("rbac_plan: grants must be a list of mappings, got %s" % type(grants).__name__)
    checked = []
    for index, grant in enumerate(grants):
        where = "grants[%d]" % index
        if not isinstance(grant, dict):
            raise AnsibleFilterError("rbac_plan: %s must be a mapping, got %s" % (where, type(grant).__name__))
        missing = [key for key in ("component", "name", "rules", "description") if key not in grant]
        if missing:
            raise AnsibleFilterError("rbac_plan: %s needs %s" % (where, ", ".join(missing)))
        component = _text(grant["component"], where + ".component")
        if component not in service_accounts:
            raise AnsibleFilterError("rbac_plan: %s.component %r has no ServiceAccount (known: %s)"
                                     % (where, component, ", ".join(service_accounts)))
        if not is_sequence(grant["rules"]):
            raise AnsibleFilterError("rbac_plan: %s.rules must be a list of RBAC rules" % where)
        if not isinstance(grant["description"], str):
            raise AnsibleFilterError("rbac_plan: %s.description must be a string" % where)
        checked.append({
            "component": component,
            "name": _text(grant["name"], where + ".name"),
            "rules": grant["rules"],
            "description": grant["description"],
            "enabled": _flag(grant.get("enabled", True), where + ".enabled"),
            "in_task_namespaces": _flag(grant.get("in_task_namespaces", False), where + ".in_task_namespaces"),
        })
    return checked


def _step(template, **template_vars):
    return {"template": template, "vars": dict(("rbac_" + key, value) for key, value in template_vars.items())}


def rbac_plan(service_accounts, grants, namespace=None, multi_namespace_mode=False, namespaces=None):
    """The objects of the rbac role, in order, as {template, vars} steps for the role's templates.

    1. A ServiceAccount per component, in the order of ``service_accounts``.
    2. Per enabled grant, in order: without multi-namespace mode, or when the grant is not
       ``in_task_namespaces``, a Role and a RoleBinding in ``namespace``. Otherwise a ClusterRole
       named <namespace>-<name>, bound by a ClusterRoleBinding (no ``namespaces``: all of them)
       or by a RoleBinding named <name> in each of ``namespaces``.
    3. In multi-namespace mode, the task ServiceAccount in each of ``namespaces`` but ``namespace``.
    """
    if not isinstance(service_accounts, dict) or not service_accounts:
        raise AnsibleFilterError("rbac_plan: the input must be the ServiceAccounts, a non-empty mapping of component to "
                                 "{name, automount}, got %r" % (service_accounts,))
    namespace = _text(namespace, "namespace")
    multi_namespace_mode = _flag(multi_namespace_mode, "multi_namespace_mode")
    if namespaces is None:
        namespaces = []
    if not is_sequence(namespaces):
        raise AnsibleFilterError("rbac_plan: namespaces must be a list of namespace names, got %r" % (namespaces,))
    namespaces = [_text(target, "namespaces[%d]" % index) for index, target in enumerate(namespaces)]
    if namespaces and not multi_namespace_mode:
        raise AnsibleFilterError("rbac_plan: namespaces are only used in multi-namespace mode (multi_namespace_mode=true)")
    if multi_namespace_mode and TASK_COMPONENT not in service_accounts:
        raise AnsibleFilterError("rbac_plan: multi-namespace mode needs a %r ServiceAccount for the task pods" % TASK_COMPONENT)

    plan = [_step("service_account.yml.j2", component=component) for component in service_accounts]
    for grant in _grants(grants, service_accounts):
        if not grant["enabled"]:
            continue
        common = dict(component=grant["component"], role_rules=grant["rules"], role_description=grant["description"])
        if not (multi_namespace_mode and grant["in_task_namespaces"]):
            plan.append(_step("role.yml.j2", role_name=grant["name"], **common))
            plan.append(_step("role_binding.yml.j2", role_name=grant["name"], role_kind="Role", **common))
            continue
        cluster_name = "%s-%s" % (namespace, grant["name"])
        plan.append(_step("cluster_role.yml.j2", role_name=cluster_name, **common))
        if not namespaces:
            plan.append(_step("cluster_role_binding.yml.j2", role_name=cluster_name, **common))
        for target in namespaces:
            plan.append(_step("role_binding.yml.j2", role_name=cluster_name, role_kind="ClusterRole",
                              binding_name=grant["name"], target_namespace=target, **common))
    if multi_namespace_mode:
        plan.extend(_step("service_account.yml.j2", component=TASK_COMPONENT, target_namespace=target)
                    for target in namespaces if target != namespace)
    return plan


class FilterModule(object):
    """The rbac role's plan."""

    def filters(self):
        return {"rbac_plan": rbac_plan}
