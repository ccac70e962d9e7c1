# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """The objects of a run, as the sink's modules take them (k8s_apply, render_manifests;
    plugins/module_utils/manifests.py run_objects)."""

    DOCUMENTATION = r"""
options:
  objects:
    description:
      - The objects of the run that are not Secrets, as a mapping of component name (for example
        C(scheduler)) to a list of objects.
      - Every object needs C(apiVersion), C(kind) and C(metadata.name). Secrets are refused here (they go in
        O(secrets)), so that none is ever written to the module's log entry.
    type: dict
    required: true
  secrets:
    description:
      - The Secrets of the run, by component, as JSON text (a mapping of component to a list of Secrets,
        for example through the C(to_json) filter), written in the same pass as O(objects).
      - JSON text in a C(no_log) option keeps them out of the module's log entry and output without
        masking every name they contain; every value of their C(data) is masked too. A Secret must use
        C(data) (base64), not C(stringData), which server-side apply would report as changed on every run.
    type: str
    default: "{}"
  labels:
    description: Labels added to every object; they win over an object's own labels of the same name.
    type: dict
    default: {}
"""
