# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pod_settings_problems: what Kubernetes would refuse in a pod-knobs variable (airflow_pod, <component>_pod)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.airflow_k8s.cloud.plugins.test import kubernetes as k8s

# Kubernetes accepts any C identifier-like environment variable name made of these characters.
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_MOUNT_PATH = re.compile(r"^/")


def _named_items(name, key, items, problems, need):
    for index, item in enumerate(items or []):
        where = "%s.%s[%d]" % (name, key, index)
        if not isinstance(item, dict):
            problems.append("%s must be a mapping" % where)
            continue
        for field, test, rule in need:
            if not test(item.get(field)):
                problems.append("%s.%s %s" % (where, field, rule))


def pod_settings_problems(pair):
    """``[name, value]`` of a pod-knobs variable -> one message per thing Kubernetes would refuse, naming
    the key (``scheduler_pod.labels``); values are never part of a message."""
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise AnsibleFilterError("pod_settings_problems needs [variable name, value], got %r" % (pair,))
    name, value = pair
    problems = []
    if not isinstance(value, dict):
        return ["%s must be a mapping" % name]
    if "labels" in value and not k8s.k8s_labels(value["labels"]):
        problems.append("%s.labels must map label names ([prefix/]name) to label values (at most 63 letters, digits, '-', '_', '.')" % name)
    for key in ("annotations", "service_account_annotations"):
        if key in value and not k8s.k8s_annotations(value[key]):
            problems.append("%s.%s must map annotation names ([prefix/]name) to strings" % (name, key))
    if value.get("priority_class_name") and not k8s.k8s_name(value["priority_class_name"]):
        problems.append("%s.priority_class_name must be the name of a PriorityClass (lowercase letters, digits, '-', '.')" % name)
    is_name = (lambda text: k8s.k8s_label(text), "must be a DNS-1123 label (lowercase letters, digits, '-')")
    _named_items(name, "env", value.get("env"), problems,
                 [("name", lambda text: isinstance(text, string_types) and bool(_ENV_NAME.match(text)),
                   "must be an environment variable name (letters, digits, '_', '-', '.')")])
    for key in ("sidecars", "init_containers"):
        _named_items(name, key, value.get(key), problems,
                     [("name",) + is_name, ("image", lambda text: isinstance(text, string_types) and bool(text) and " " not in text,
                                            "must be an image reference")])
    _named_items(name, "volumes", value.get("volumes"), problems, [("name",) + is_name])
    _named_items(name, "volume_mounts", value.get("volume_mounts"), problems,
                 [("name",) + is_name, ("mountPath", lambda text: isinstance(text, string_types) and bool(_MOUNT_PATH.match(text)),
                                        "must be an absolute path")])
    return problems


class FilterModule(object):
    """Checks of the workload model's pod knobs."""

    def filters(self):
        return {"pod_settings_problems": pod_settings_problems}
