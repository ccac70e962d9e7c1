#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_wait
short_description: Wait for rollouts and Jobs, with one list call per kind and namespace per round
version_added: 0.3.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Waits until every Deployment, StatefulSet and DaemonSet of O(objects) is rolled out (its current
    generation observed, every replica updated, ready and available) and every Job has completed or
    failed. Each round reads every kind and namespace still waited for with one list call (what
    M(kubernetes.core.k8s_info) would return), and decides for all its objects from that answer;
    the next round follows O(delay) seconds later, until O(timeout).
  - Fails when the timeout passes, naming every object still pending, or when a Job failed, naming
    it with the message of its Failed condition and the C(kubectl) commands that show why.
  - Why not M(kubernetes.core.k8s_info) with O(kubernetes.core.k8s_info#module:wait=true) or
    M(kubernetes.core.k8s) with O(kubernetes.core.k8s#module:wait=true); they wait for one object
    per module run (a run of the collection rolls out a dozen workloads and Jobs), and their Job
    condition waits for C(Complete) only, so a failed Job is noticed at the timeout. This module uses
    kubernetes.core's client and connection options, and the conditions of its waiters.
  - Read only. In check mode nothing was applied, so nothing is waited for; the result says what
    would have been.
options:
  objects:
    description:
      - The objects to wait for - C(apiVersion), C(kind), C(namespace), C(name) each (other keys are
        ignored, so the C(objects) of M(airflow_k8s.cloud.k8s_apply)'s result can be passed as they
        are). Kinds other than Deployment, StatefulSet, DaemonSet and Job are never ready.
    type: list
    elements: dict
    required: true
  timeout:
    description: How long to wait in all, in seconds, from the first round.
    type: int
    default: 900
  delay:
    description: Seconds between two rounds.
    type: int
    default: 5
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - airflow_k8s.cloud.kubernetes
attributes:
  check_mode:
    support: full
    description: Nothing is read or waited for; RV(objects) lists what would have been waited for.
  diff_mode:
    support: none
    description: Returns no diff.
seealso:
  - module: airflow_k8s.cloud.k8s_apply
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Wait for what the apply rolled out
  airflow_k8s.cloud.k8s_wait:
    objects:
      - {apiVersion: apps/v1, kind: Deployment, namespace: airflow, name: airflow-scheduler}
      - {apiVersion: batch/v1, kind: Job, namespace: airflow, name: airflow-migrations-1a2b3c4d}
    timeout: 600
"""

RETURN = r"""
objects:
  description: Every object waited for, with its state when the wait ended.
  returned: always
  type: list
  elements: dict
  contains:
    apiVersion: {description: "Its apiVersion.", type: str, sample: apps/v1}
    kind: {description: "Its kind.", type: str, sample: Deployment}
    namespace: {description: "Its namespace.", type: str, sample: airflow}
    name: {description: "Its name.", type: str, sample: airflow-scheduler}
    state:
      description: C(ready), C(failed) (Jobs), C(pending), or null in check mode.
      type: str
      sample: ready
groups:
  description: The list calls of one round, C({apiVersion, kind, namespace, names}) each.
  returned: always
  type: list
  elements: dict
  sample: [{apiVersion: apps/v1, kind: Deployment, namespace: airflow, names: [airflow-scheduler]}]
failed_jobs:
  description: The Jobs that failed, with the message of their Failed condition.
  returned: always
  type: list
  elements: dict
  sample: [{namespace: airflow, name: airflow-migrations-1a2b3c4d, message: Job has reached the specified backoff limit}]
rounds:
  description: How many rounds of list calls were made (0 in check mode).
  returned: always
  type: int
  sample: 1
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import k8s_client, manifests
from ansible_collections.airflow_k8s.cloud.plugins.module_utils.k8s_client import CoreException


def argument_spec():
    """This module's own options (the connection options come from k8s_client)."""
    return dict(
        objects=dict(type="list", elements="dict", required=True),
        timeout=dict(type="int", default=900),
        delay=dict(type="int", default=5),
    )


def failed_jobs_message(failed):
    return "Jobs of this run failed. " + " ".join(
        "Job {namespace}/{name}: {message}. See `kubectl -n {namespace} describe job {name}` and "
        "`kubectl -n {namespace} logs job/{name}`.".format(**job) for job in failed)


def main(module_class=AnsibleModule):
    """The module; the action plugin runs this code in the controller with its own ``module_class``."""
    module = k8s_client.build_module(module_class, argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        groups = manifests.wait_groups(params["objects"])
    except ValueError as error:
        module.fail_json(msg="objects: %s" % error)
    # The state of each object, by (index of its group, name); None until read.
    states = dict(((index, name), None) for index, group in enumerate(groups) for name in group["names"])

    def entries():
        return [dict(apiVersion=group["apiVersion"], kind=group["kind"], namespace=group["namespace"], name=name,
                     state=states[index, name])
                for index, group in enumerate(groups) for name in group["names"]]

    if module.check_mode or not groups:
        module.exit_json(changed=False, objects=entries(), groups=groups, failed_jobs=[], rounds=0)

    service = k8s_client.connect(module)
    failed = []
    open_groups = list(range(len(groups)))

    def round_done():
        for index in list(open_groups):
            group = groups[index]
            try:
                resources = k8s_client.list_objects(service, group["apiVersion"], group["kind"], group["namespace"])
            except CoreException as error:
                module.fail_json(msg="cannot list %s in namespace %s to wait for %s: %s"
                                 % (group["kind"], group["namespace"] or "(cluster)", ", ".join(group["names"]), error),
                                 objects=entries(), groups=groups, failed_jobs=failed)
            by_name = dict(((obj.get("metadata") or {}).get("name"), obj) for obj in resources)
            group_state = manifests.group_states(resources, group)
            for name, state in group_state.items():
                states[index, name] = state
                if state == "failed":
                    failed.append(dict(namespace=group["namespace"], name=name, message=manifests.failure_message(by_name[name])))
            if all(state in ("ready", "failed") for state in group_state.values()):
                open_groups.remove(index)
        return not open_groups

    done, rounds = k8s_client.poll(round_done, params["timeout"], params["delay"])
    result = dict(changed=False, objects=entries(), groups=groups, failed_jobs=failed, rounds=rounds)
    if not done:
        pending = ["%s %s/%s" % (entry["kind"], entry["namespace"], entry["name"]) for entry in result["objects"] if entry["state"] == "pending"]
        module.fail_json(msg="Timed out after %d s waiting for the rollout of: %s. See `kubectl get events` in their namespace."
                         % (params["timeout"], ", ".join(pending)), **result)
    if failed:
        module.fail_json(msg=failed_jobs_message(failed), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
