# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: manifests
short_description: Render a role's object templates into Kubernetes objects, without copying every variable
version_added: 0.2.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Renders each template (searched like M(ansible.builtin.template) does, in the role's
    C(templates/) folder first) with every variable of the task, and returns the YAML documents
    it produced as one list of objects.
  - Why not C(lookup('ansible.builtin.template', ...) | from_yaml); ansible-core's template lookup
    deep-copies every variable of the play for each template it renders, so its cost grows with
    everything the run holds (facts, the objects the run collected) and a run of about 50
    templates spent most of its time copying. This lookup layers the template's own variables
    over the task's instead, wrapped for lazy templating once, and compiles each template text
    once (plugin_utils/templating.py, which says why).
  - One call renders many templates, each optionally with variables of its own.
options:
  _terms:
    description:
      - The templates. Each is a file name (C(deployment.yml.j2)), or a mapping with C(template)
        (the file name), C(vars) (variables for that template only, over O(template_vars)) and
        C(role) (a role of this collection whose C(templates/) folder holds the template, for a template
        several roles share, such as the airflow role's C(workload.yml.j2)).
      - A mapping with C(file) instead of C(template) names a file of the role's C(files/) folder, returned
        as it is, not rendered (a program an object embeds), without trailing whitespace like
        M(ansible.builtin.file); only with O(parse=false).
    required: true
    type: list
    elements: raw
  role:
    description:
      - The role of this collection whose C(templates/) folder holds the templates named without a
        C(role) of their own. Without it they are searched like M(ansible.builtin.template) does,
        from the role of the task that renders them.
      - A component role whose objects are data (a variable the sink renders, not a task of the role)
        names itself here, since the task that renders its variable is the sink's.
    type: str
  template_vars:
    description: Variables for every template, over the task's own.
    type: dict
    default: {}
  parse:
    description:
      - Parse the rendered text as YAML and return the documents (objects). With C(false), return
        the rendered text of each template instead (for a configuration file).
    type: bool
    default: true
notes:
  - Templates render with the same engine and options as M(ansible.builtin.template)'s lookup
    (backslashes are not escaped, C(ansible_managed) and C(template_path) are available).
"""

EXAMPLES = r"""
- name: Describe a Deployment and, with more than one replica, its PodDisruptionBudget
  ansible.builtin.set_fact:
    objects: >-
      {{ lookup('airflow_k8s.cloud.manifests', 'deployment.yml.j2',
                *(['pod_disruption_budget.yml.j2'] if replicas | int > 1 else [])) }}

- name: A component's objects as data, rendered from its own templates by whichever task reads the variable
  ansible.builtin.set_fact:
    objects: "{{ lookup('airflow_k8s.cloud.manifests', 'namespace.yml.j2', role='namespace') }}"

- name: A program an object embeds, from the role's files/ folder, as it is
  ansible.builtin.set_fact:
    program: "{{ lookup('airflow_k8s.cloud.manifests', {'file': 'create_admin_user.py'}, parse=false, role='migrations') | first }}"

- name: The same template with different variables
  ansible.builtin.set_fact:
    volumes: >-
      {{ lookup('airflow_k8s.cloud.manifests', {'template': 'persistent_volume.yml.j2', 'vars': {'share': 'dags'}},
                {'template': 'persistent_volume.yml.j2', 'vars': {'share': 'logs'}}) }}
"""

RETURN = r"""
_raw:
  description:
    - The objects, in the order of the templates (a template may produce several documents).
      With O(parse=false), the rendered texts.
  type: list
  elements: raw
"""

import os

import yaml

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase
from ansible.template import trust_as_template
from ansible._internal._templating import _template_vars
from ansible._internal._templating._engine import TemplateOptions

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests, preflight
from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils.templating import templar_over


class LookupModule(LookupBase):

    def _search_path(self, variables, found):
        """The Jinja search path of M(ansible.builtin.template)'s lookup (for includes)."""
        searchpath = []
        for path in variables.get("ansible_search_path", []):
            searchpath += [os.path.join(path, "templates"), path]
        return [os.path.dirname(found)] + searchpath

    def _file(self, term, default_role, variables):
        """The text of a file of a role's files/ folder ({file: <name>, role: <role>}), as it is."""
        name, role = term.get("file"), term.get("role") or default_role
        if self.get_option("parse") or not isinstance(name, str) or not name or os.sep in name or set(term) - {"file", "role"}:
            raise AnsibleLookupError("manifests: a file term is {file: <name in the role's files/ folder>, role: <role>}, with parse=false;"
                                     " got %r" % (term,))
        # Without trailing whitespace, as ansible.builtin.file returns it.
        return self._loader.get_text_file_contents(self._find(variables, role, "files", name, "file")).rstrip()

    def _find(self, variables, role, folder, name, what):
        """The path of ``name`` in ``folder`` (templates, files) of ``role`` (a role of this collection),
        or without a role where M(ansible.builtin.template) would look, from the task's role."""
        if role:
            found = os.path.join(preflight.ROLES_DIR, role, folder, name)
            found = found if os.path.isfile(found) else None
        else:
            found = self.find_file_in_search_path(variables, folder, name)
        if not found:
            raise AnsibleLookupError("manifests: the %s %s could not be found" % (what, name))
        return found

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        variables = variables or {}
        common_vars = self.get_option("template_vars") or {}
        default_role = self.get_option("role")
        results = []
        for term in terms:
            if isinstance(term, dict) and "file" in term:
                results.append(self._file(term, default_role, variables))
                continue
            if isinstance(term, dict):
                name, own_vars, role = term.get("template"), term.get("vars") or {}, term.get("role")
            else:
                name, own_vars, role = term, {}, None
            role = role or default_role
            if not isinstance(name, str) or not name or not isinstance(own_vars, dict) or not isinstance(role, (str, type(None))):
                raise AnsibleLookupError("manifests: each term is a template file name or {template: <name>, vars: {...}, role: <role>},"
                                         " got %r" % (term,))
            # With a role: that role's templates/ (the role of a data variable, or the airflow role's shared workload model).
            found = self._find(variables, role, "templates", name, "template")
            source = trust_as_template(self._loader.get_text_file_contents(found))
            ansible_vars = _template_vars.generate_ansible_template_vars(
                path=name, fullpath=found, include_ansible_managed="ansible_managed" not in variables)
            templar = templar_over(self._templar, own_vars, common_vars, ansible_vars, variables,
                                   searchpath=self._search_path(variables, found))
            text = templar._engine.template(source, options=TemplateOptions(escape_backslashes=False))
            if not self.get_option("parse"):
                results.append(text)
                continue
            try:
                results.extend(manifests.load_yaml_documents(str(text)))
            except yaml.YAMLError as error:
                raise AnsibleLookupError("manifests: %s did not render to valid YAML: %s" % (name, to_native(error)))
        return [results]
