# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""section_options: the options of an airflow.cfg-shaped mapping as 'section.option' names."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping


def section_options(sections):
    """``{"core": {"executor": ..}, "api": ["port"]}`` -> ``["api.port", "core.executor"]``: every option
    (a key of a mapping, or an element of a list) under its section. Sections of another kind have none."""
    if not isinstance(sections, Mapping):
        raise AnsibleFilterError("section_options needs a mapping of section -> options, got %s" % type(sections).__name__)
    names = []
    for section, options in sections.items():
        if isinstance(options, (Mapping, list, tuple)):
            names.extend("%s.%s" % (section, option) for option in options)
    return sorted(names)


class FilterModule(object):
    """airflow.cfg helpers."""

    def filters(self):
        return {"section_options": section_options}
