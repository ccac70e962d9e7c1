# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pod_settings_problems: what Kubernetes would refuse in a pod-knobs variable (airflow_pod, <component>_pod)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import k8s_values


def pod_settings_problems(pair):
    """``[name, value]`` of a pod-knobs variable -> one message per thing Kubernetes would refuse, naming
    the key (``scheduler_pod.labels``); values are never part of a message."""
    try:
        return k8s_values.pod_settings_problems(pair)
    except ValueError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    """Checks of the workload model's pod knobs."""

    def filters(self):
        return {"pod_settings_problems": pod_settings_problems}
