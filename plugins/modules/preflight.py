#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: preflight
short_description: Check every setting of this collection's roles in one task, before anything changes
version_added: 0.3.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Runs, for each role of this collection in the play, the validation Ansible would run when the role
    starts (its C(meta/argument_specs.yml) main entry point) and the role's own rules, the list
    C(<role>_rules) in its C(vars/main.yml). Every broken rule is reported, each naming its variable,
    in one failure, before the first file is written, object applied or cloud call made.
  - Also refuses what Ansible's validator converts without a word - a mapping or a list where a string
    is declared, a list element of the wrong kind - and the settings of earlier releases
    (C(airflow_removed_settings)), and warns about variables that start like a role's variables but are
    none (a typo such as C(scheduler_replica)), naming the likely intended one.
  - A rule is a mapping with C(variable) (the name it checks), C(applies) (a template, true when
    omitted), C(valid) (a template that must be true) and C(message) (a template naming the variable and
    the one rule that failed). C(applies) is templated first, C(valid) only when it applies, C(message)
    only when it failed; a value that breaks the test itself (for example C(int) of a mapping) counts as
    failed. A rule C({variable, spec}) checks the variable against another option's argument spec (every
    C(<component>_pod) against C(airflow_pod)); a rule C({workload}) applies the workload model's rules to
    the component with that prefix (replicas, grace period, resources, node selector, pod knobs).
    failed. A rule with C(warning) set to true states a trade-off rather than an error; its message is a warning
    of the run, which goes on.
  - No message contains a secret. The values of options marked C(no_log) in any argument spec are
    replaced by C(********) wherever they appear, and the credentials of every URL are masked
    (C(scheme://***@host), C(password=***)).
  - An action that runs in the controller; it reads variables and the roles' files and changes nothing.
    Why not Ansible's own validation tasks - one task per role and rule list, run only when the role
    runs, so a C(--tags) run or a later role's mistake would be found after earlier roles had acted.
options:
  roles:
    description:
      - The roles to check, by short name (C(scheduler)).
      - Default is every role of this collection the play imported (C(import_role), C(roles:)), and their
        dependencies, whose defaults are therefore known.
    type: list
    elements: str
  strict_variables:
    description:
      - Make unknown variables with a role's prefix an error instead of a warning.
      - Default is the value of C(airflow_strict_variables).
    type: bool
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Changes nothing in any mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
notes:
  - Runs in the controller whatever the host's connection; needs no module process.
"""

EXAMPLES = r"""
- name: Check every setting of the play's roles before anything changes
  airflow_k8s.cloud.preflight:
  tags: [always]

- name: Check only the database role's settings, and make typos errors
  airflow_k8s.cloud.preflight:
    roles: [database]
    strict_variables: true
"""

RETURN = r"""
roles:
  description: The roles checked.
  returned: always
  type: list
  elements: str
  sample: [airflow, namespace, database]
rules:
  description: How many rules the checked roles have (applicable or not).
  returned: always
  type: int
  sample: 120
unknown_variables:
  description: Set variables that start like a role's variables but are none.
  returned: always
  type: list
  elements: str
  sample: [scheduler_replica]
problems:
  description: One message per broken rule, secrets masked.
  returned: failed
  type: list
  elements: str
  sample: ["scheduler_replicas must be at least 1 (got 0)."]
"""
