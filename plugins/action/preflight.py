# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of the preflight module: every check of the play's roles, in the controller, in one task.
The module file (plugins/modules/preflight.py) holds the documentation."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import k8s_values, preflight
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.heap import freeze_heap
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.templating import install_compile_cache, templar_over, warm_plugins

# The preflight is site.yml's first task, and the linear strategy imports a task's action plugin in
# the controller's main process before it forks the worker: every later task's worker inherits the
# compile cache, the loaded Jinja plugins (plugin_utils/templating.py says why) and a frozen heap
# (plugin_utils/heap.py).
install_compile_cache()
warm_plugins()
freeze_heap()

COLLECTION = "airflow_k8s.cloud"

ARGUMENT_SPEC = {
    "roles": {"type": "list", "elements": "str"},
    "strict_variables": {"type": "bool"},
}


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def _play_roles(self):
        """The roles of this collection the play imported (import_role and roles: make them public),
        and their dependencies."""
        block = self._task._parent
        while block is not None and getattr(block, "_play", None) is None:
            block = block._parent
        play = getattr(block, "_play", None)
        names = []
        imported = play.get_roles() if play else []
        for role in imported + [dependency for role in imported for dependency in role.get_all_dependencies()]:
            name = role.get_name(include_role_fqcn=True)
            if name.startswith(COLLECTION + ".") and name.split(".")[-1] not in names:
                names.append(name.split(".")[-1])
        return names

    def _template(self, value):
        return self._lazy_templar.template(value)

    def _specs(self, roles, task_vars, problems, secrets):
        """Each role's argument spec, checked the way the role's own validation would, plus the
        strict type rule; collects the values of no_log options for masking. Returns every option
        spec by name (for rules of the form ``spec: <option>``)."""
        known = {}
        for role in roles:
            options = preflight.role_argument_spec(role)
            known.update(options)
            if not options:
                continue
            values = {}
            for name in options:
                if name not in task_vars:
                    continue
                try:
                    values[name] = self._template(task_vars[name])
                except AnsibleError as error:
                    problems.append("%s cannot be evaluated: %s" % (name, to_text(error.message)))
            secrets.extend(preflight.no_log_values(options, values))
            strict = dict((name, preflight.strict_type_problems(name, options[name] or {}, value)) for name, value in values.items())
            for name in [name for name in strict if strict[name]]:
                # Reported in the strict type's words; Ansible's validator would only add "unable to convert".
                problems.extend(problem for problem in strict[name] if problem not in problems)
                del values[name]
            result = ArgumentSpecValidator(options).validate(values, validate_role_argument_spec=True)
            # A variable several roles declare is reported once.
            problems.extend(message for message in result.error_messages if message not in problems)
        return known

    def _shaped_like(self, variable, option, task_vars, specs, secrets):
        """Problems of ``variable`` checked against the spec of ``option`` (a variable of the same
        shape declared once, such as every <component>_pod against airflow_pod)."""
        if option not in specs:
            raise AnsibleError("preflight: rule for %s names spec %s, which no checked role declares" % (variable, option))
        if variable not in task_vars:
            return []
        spec = dict(specs[option] or {}, default=None)
        value = self._template(task_vars[variable])
        secrets.extend(preflight.no_log_values({variable: spec}, {variable: value}))
        strict = preflight.strict_type_problems(variable, spec, value)
        if strict:
            # Ansible's validator would only say the same, less clearly ("unable to convert ...").
            return strict
        result = ArgumentSpecValidator({variable: spec}).validate({variable: value}, validate_role_argument_spec=True)
        return list(result.error_messages)

    def _workload(self, prefix, task_vars, specs, secrets, reported):
        """The workload model's rules for the component whose variables start with ``prefix``: its
        replicas, grace period, resources, node selector and pod knobs (shaped like airflow_pod)."""
        problems, values = [], {}
        for key in k8s_values.WORKLOAD_SETTINGS:
            name = "%s_%s" % (prefix, key)
            if name in task_vars and name not in reported:
                values[key] = self._template(task_vars[name])
        if "pod" in values:
            shape = self._shaped_like(prefix + "_pod", "airflow_pod", task_vars, specs, secrets)
            problems.extend(shape)
            if shape:
                del values["pod"]
        return problems + k8s_values.workload_problems(prefix, values)

    def _rules(self, roles, task_vars, problems, specs, secrets, warnings):
        """``<role>_rules`` of each role (its vars/main.yml): ``applies``, then ``valid``, then the
        ``message`` of a broken rule, each templated only when needed. A rule with ``spec: <option>``
        instead checks its variable against that option's argument spec; ``workload: <prefix>`` the
        workload model's rules of a component (module_utils/k8s_values.workload_problems).
        A rule with ``warning: true`` adds its message to ``warnings`` instead of ``problems``: the run goes on."""
        count = 0
        # A variable whose type or choice is already wrong is not checked again, nor is a rule that
        # reads it (the rule would only repeat it, or misfire: airflow_platform "moon" is no cloud).
        reported = set(word.strip("'\":,").split("[")[0].split(".")[0] for problem in problems for word in problem.split()) & set(task_vars)
        for role in roles:
            for rule in task_vars.get("%s_rules" % role) or []:
                count += 1
                reads = "%s %s" % (rule.get("applies", ""), rule.get("valid", ""))
                if rule.get("variable") in reported or any(name in reads for name in reported):
                    continue
                if "spec" in rule:
                    problems.extend(self._shaped_like(rule["variable"], rule["spec"], task_vars, specs, secrets))
                    continue
                if "workload" in rule:
                    problems.extend(self._workload(rule["workload"], task_vars, specs, secrets, reported))
                    continue
                try:
                    if not boolean(self._template(rule.get("applies", True)), strict=False):
                        continue
                    valid = boolean(self._template(rule["valid"]), strict=False)
                except Exception:  # pylint: disable=broad-except
                    # A value of the wrong kind breaks the test itself (int of a mapping): a broken rule.
                    valid = False
                if valid:
                    continue
                found = warnings if boolean(rule.get("warning", False), strict=False) else problems
                try:
                    found.append(to_text(self._template(rule["message"])).strip())
                except Exception:  # pylint: disable=broad-except
                    found.append("%s: %s" % (rule.get("variable", role), rule.get("rule", "invalid value")))
        return count

    def _removed(self, task_vars, problems):
        removed = task_vars.get("airflow_removed_settings") or {}
        for name in sorted(removed):
            if name in task_vars:
                problems.append("%s was removed in 0.2.0: %s." % (name, self._template(removed[name])))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        # Hundreds of rules and values templated over the same variables: wrapped once (plugin_utils/templating.py).
        self._lazy_templar = templar_over(self._templar, task_vars)
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        roles = args["roles"] or self._play_roles()
        strict = args["strict_variables"]
        if strict is None:
            strict = boolean(self._template(task_vars.get("airflow_strict_variables", False)), strict=False)

        problems, secrets, warnings = [], [], []
        self._removed(task_vars, problems)
        specs = self._specs(roles, task_vars, problems, secrets)
        rules = self._rules(roles, task_vars, problems, specs, secrets, warnings)
        if warnings:
            result.setdefault("warnings", []).extend(preflight.mask(warning, secrets) for warning in warnings)

        known = preflight.role_variables()
        unknown = preflight.unknown_variables(list(task_vars), known["variables"], known["roles"],
                                              ignore=list(task_vars.get("airflow_removed_settings") or {}))
        if unknown and strict:
            problems.append("airflow_strict_variables is true and these variables are not variables of this collection: %s."
                            % preflight.describe_unknown(unknown))
        elif unknown:
            result.setdefault("warnings", []).append(
                "not variables of this collection, so ignored: %s. Set airflow_strict_variables: true to make this an error "
                "(CI, AWX)." % preflight.describe_unknown(unknown))

        result.update(changed=False, roles=roles, rules=rules, unknown_variables=[item["name"] for item in unknown])
        if problems:
            problems = [preflight.mask(problem, secrets) for problem in problems]
            result.update(failed=True, problems=problems,
                          msg="%d setting(s) to fix before anything is changed:\n- %s" % (len(problems), "\n- ".join(problems)))
        else:
            result["msg"] = "%d roles and %d rules checked" % (len(roles), rules)
        return result
