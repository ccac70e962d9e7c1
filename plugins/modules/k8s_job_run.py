#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_job_run
short_description: Run a Job once - start it, wait for its outcome, read its log if it failed, remove it
version_added: 0.3.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Runs the Job O(definition) once, as a check; the collection's C(verify) role probes the
    api-server's health with it. In order, in one module run, with kubernetes.core's client
    and connection options, it does the following.
  - 1. Removes a Job of the same name left by an earlier run (background propagation) and waits
    until it is gone.
  - 2. Creates the Job.
  - 3. Reads it every O(delay) seconds until it completed or failed, at most O(timeout) seconds.
  - 4. Unless it completed, reads the log of its pod (as C(kubectl logs job/<name>)).
  - 5. Removes the Job, whatever happened (background propagation, so its pod goes too).
  - Reports the outcome in RV(state) rather than failing on it, so that the task that asks for the
    check can say what the outcome means; fails when the API refuses a step.
  - Why not M(kubernetes.core.k8s), M(kubernetes.core.k8s_info) and M(kubernetes.core.k8s_log);
    the same steps take four to five module runs, and the Job's removal must follow whatever
    happened before it (a block with C(always)).
  - The Job is not an object of the deployment; the module reports C(changed) when it created (and
    removed) one, which a caller that runs it as a check overrides with C(changed_when).
options:
  definition:
    description: The Job, with C(metadata.name) and C(metadata.namespace).
    type: dict
    required: true
  timeout:
    description: How long to wait for the Job to complete or fail, in seconds.
    type: int
    default: 300
  delay:
    description: Seconds between two reads of the Job.
    type: int
    default: 5
  removal_timeout:
    description: How long to wait for a Job of an earlier run to be gone, in seconds.
    type: int
    default: 120
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - airflow_k8s.cloud.kubernetes
attributes:
  check_mode:
    support: full
    description: Nothing is created, read or removed; RV(state) is null.
  diff_mode:
    support: none
    description: Returns no diff.
seealso:
  - module: kubernetes.core.k8s
  - module: kubernetes.core.k8s_log
"""

EXAMPLES = r"""
- name: Ask the api-server's health endpoint from inside the cluster
  airflow_k8s.cloud.k8s_job_run:
    definition: "{{ lookup('ansible.builtin.template', 'probe-job.yml.j2') | from_yaml }}"
    timeout: 480
  register: probe
  changed_when: false
"""

RETURN = r"""
state:
  description: C(complete), C(failed), C(timeout) (neither within O(timeout)), or null in check mode.
  returned: always
  type: str
  sample: complete
log:
  description: The log of the Job's pod when it did not complete; empty otherwise or when it could not be read.
  returned: always
  type: str
  sample: "metadatabase: unhealthy"
log_error:
  description: Why the log could not be read (empty when it was, or was not needed).
  returned: always
  type: str
  sample: "no pod of Job airflow/airflow-health-probe"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import k8s_client, manifests
from ansible_collections.airflow_k8s.cloud.plugins.module_utils.k8s_client import CoreException

#: What a Job's outcome is called in RV(state), by manifests.rollout_state.
STATES = {"ready": "complete", "failed": "failed"}


def argument_spec():
    """This module's own options (the connection options come from k8s_client)."""
    return dict(
        definition=dict(type="dict", required=True),
        timeout=dict(type="int", default=300),
        delay=dict(type="int", default=5),
        removal_timeout=dict(type="int", default=120),
    )


def read_log(service, namespace, name):
    """``(log, error)`` of the Job's pod (the first, as kubectl logs job/<name> takes)."""
    try:
        pods = k8s_client.list_objects(service, "v1", "Pod", namespace, label_selectors=["job-name=%s" % name])
        if not pods:
            return "", "no pod of Job %s/%s" % (namespace, name)
        pod = pods[0]["metadata"]["name"]
        answer = service.find_resource("Pod", "v1", fail=True).log.get(name=pod, namespace=namespace, serialize=False)
        return answer.data.decode("utf-8", "replace"), ""
    except Exception as error:  # pylint: disable=broad-except
        # Any reason is reported; the Job's outcome stands without its log.
        return "", "cannot read the log of Job %s/%s: %s" % (namespace, name, error)


def main(module_class=AnsibleModule):
    """The module; the action plugin runs this code in the controller with its own ``module_class``."""
    module = k8s_client.build_module(module_class, argument_spec(), supports_check_mode=True)
    params = module.params
    job = params["definition"]
    metadata = job.get("metadata") or {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if job.get("kind") != "Job" or not name or not namespace:
        module.fail_json(msg="definition must be a Job with metadata.name and metadata.namespace")
    if module.check_mode:
        module.exit_json(changed=False, state=None, log="", log_error="")
    params.update(delete_options=dict(propagationPolicy="Background"), label_selectors=None)
    service = k8s_client.connect(module)
    what = "Job %s/%s" % (namespace, name)

    def current():
        found = k8s_client.list_objects(service, job.get("apiVersion") or "batch/v1", "Job", namespace, name=name)
        return found[0] if found else None

    def remove():
        existing = service.retrieve(jobs, job)
        if existing is not None:
            service.delete(jobs, job, existing)

    try:
        jobs = service.find_resource("Job", job.get("apiVersion") or "batch/v1", fail=True)
        remove()
        gone, _rounds = k8s_client.poll(lambda: current() is None, params["removal_timeout"], 1)
        if not gone:
            module.fail_json(msg="%s of an earlier run was still being removed after %d s" % (what, params["removal_timeout"]))
        service.create(jobs, job)
    except CoreException as error:
        module.fail_json(msg="cannot start %s: %s" % (what, error))

    outcome = {}
    try:
        def finished():
            outcome["state"] = STATES.get(manifests.rollout_state(dict(current() or {}, kind="Job")))
            return outcome["state"] is not None

        k8s_client.poll(finished, params["timeout"], params["delay"])
        state = outcome.get("state") or "timeout"
        log, log_error = read_log(service, namespace, name) if state != "complete" else ("", "")
    except CoreException as error:
        module.fail_json(msg="cannot read %s: %s" % (what, error))
    finally:
        try:
            remove()
        except CoreException as error:
            module.warn("could not remove %s: %s; its ttlSecondsAfterFinished, if set, removes it" % (what, error))
    module.exit_json(changed=True, state=state, log=log, log_error=log_error)


if __name__ == "__main__":
    main()
