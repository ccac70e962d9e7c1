#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_apply
short_description: Server-side apply a whole run's Kubernetes objects in one ordered pass
version_added: 0.2.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - The apply mode of the collection's C(sink) role. Applies every object of O(objects) with
    server-side apply and one fixed field manager, in the order a cluster accepts them (the
    Namespace, then cluster-scoped objects, ServiceAccounts, Secrets and ConfigMaps, RBAC, claims
    and Services, and the workloads last), in one module run.
  - Each object goes through kubernetes.core's own code (C(perform_action) of its C(k8s) module
    utilities, the code behind M(kubernetes.core.k8s) with O(kubernetes.core.k8s#module:apply=true)),
    so connection options, server-side dry run in check mode and the change and diff semantics are
    exactly those of M(kubernetes.core.k8s).
  - One difference, in the requests. M(kubernetes.core.k8s) reads each object twice before a
    server-side apply (once to compare with the server's answer, once more in its apply path, whose
    answer it discards); here the apply request goes to the server directly (the client's
    C(server_side_apply), with kubernetes.core's dry run and response decoding), so each object
    costs one GET and one apply, as with C(kubectl apply --server-side).
  - Why not M(kubernetes.core.k8s) with a list of definitions; with a list it returns the
    per-object diffs nested in its result, where C(--diff) does not show them, and it has no way to
    keep Secret content out of its diff and arguments while showing everything else. This module
    returns one diff per changed object (Ansible shows them), takes the Secrets in a C(no_log)
    option (kept out of the module's log entry and output, in the same ordered pass), names changed
    Secrets without their content, registers every value of a Secret's C(data) as a C(no_log)
    value, and reports per object whether it changed and how its rollout stands, for the
    C(verify) role.
  - Every object is checked before the first one is applied.
  - Pods follow what they read. The pod template of every Deployment, StatefulSet, DaemonSet and
    CronJob gets one annotation C(checksum.airflow-k8s.cloud/<kind>-<name>) per ConfigMap and Secret
    of its namespace it reads (C(env), C(envFrom), C(secret), C(configMap) and C(projected)
    volumes, containers and init containers), whose value is the SHA-256 of that object's
    C(data), C(stringData) and C(binaryData); so a changed value rolls exactly the workloads that
    read it. An object the run does not hold (a Secret made outside the collection) is read from
    the server once (a GET with the module's own client); its values are never returned. One
    found nowhere gets no annotation. Jobs get none, because their pod template is immutable.
options:
  field_manager:
    description: The server-side apply field manager; keep it fixed so that a re-run owns the same fields.
    type: str
    default: airflow-k8s-cloud
  force_conflicts:
    description: Take over fields another manager set (C(kubectl edit)); this is what makes a re-run repair drift.
    type: bool
    default: true
  prune:
    description:
      - Retire what an earlier run with O(prune=true) applied and this run no longer describes (a component
        switched off), and record what this run applied, in the ConfigMap O(record), for the next run.
      - A retired object is deleted only if it still exists, carries every label of O(owner_labels) and
        O(field_manager) manages some of its fields; one that does not (an object of the same name made
        by someone else) is left alone, with a warning.
      - Never retired, so never recorded - Namespaces (deleting one deletes everything in it), Jobs (the
        record of one run, cleaned up by their role) and objects annotated C(airflow-k8s.cloud/retire=never).
      - Set it only when O(objects) is everything the deployment has (the C(sink) role sets it on runs
        without C(--tags)/C(--skip-tags)); a partial run would retire the rest.
      - Workloads are deleted first, with background propagation (their pods go too). In check mode,
        nothing is deleted and the record is not written; the retired objects are named.
    type: bool
    default: false
  record:
    description: The ConfigMap that records what the last run with O(prune=true) applied; required with O(prune=true).
    type: dict
    suboptions:
      name: {description: Its name., type: str, required: true}
      namespace: {description: Its namespace., type: str, required: true}
  owner_labels:
    description: The labels an object must carry to be retired (with O(prune=true)), e.g. the managed-by and environment labels.
    type: dict
    default: {}
extends_documentation_fragment:
  - airflow_k8s.cloud.run_objects
  - kubernetes.core.k8s_auth_options
  - airflow_k8s.cloud.kubernetes
requirements:
  - PyYAML
attributes:
  check_mode:
    support: full
    description: Server-side dry run, as M(kubernetes.core.k8s); reports what would change.
  diff_mode:
    support: full
    description: One diff per changed object (the changed fields before and after); Secrets by name only.
notes:
  - Applies in one pass; an object that fails stops the run there and is named in the message.
    Objects applied before it stay applied, and a re-run converges.
seealso:
  - module: kubernetes.core.k8s
  - module: airflow_k8s.cloud.render_manifests
"""

EXAMPLES = r"""
- name: Apply everything the run produced
  airflow_k8s.cloud.k8s_apply:
    objects:
      namespace:
        - {apiVersion: v1, kind: Namespace, metadata: {name: airflow}}
      config:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: airflow-config, namespace: airflow}
          data: {parallelism: "32"}
    secrets: "{{ {'secrets': secret_objects} | to_json }}"
    labels:
      app.kubernetes.io/managed-by: airflow_k8s.cloud
    kubeconfig: ~/.kube/config
  register: applied
"""

RETURN = r"""
objects:
  description: Every object in the order it was applied, without its content.
  returned: always
  type: list
  elements: dict
  contains:
    component: {description: "The component that described it.", type: str, sample: scheduler}
    apiVersion: {description: "Its apiVersion.", type: str, sample: apps/v1}
    kind: {description: "Its kind.", type: str, sample: Deployment}
    namespace: {description: "Its namespace; empty for cluster-scoped objects.", type: str, sample: airflow}
    name: {description: "Its name.", type: str, sample: airflow-scheduler}
    secret: {description: "Whether it is a Secret.", type: bool, sample: false}
    changed: {description: "Whether it was (or in check mode would be) created or changed.", type: bool, sample: false}
    rollout:
      description:
        - For Deployments, StatefulSets and DaemonSets C(ready) or C(pending), for Jobs also
          C(failed), as the server's answer shows them; null for other kinds and in check mode.
      type: str
      sample: ready
changed_objects:
  description:
    - C(Kind namespace/name) of every object that changed (or would change in check mode), the record
      included; retired objects that were (or would be) deleted are in RV(retired).
  returned: always
  type: list
  elements: str
  sample: [ConfigMap airflow/airflow-config]
retired:
  description:
    - With O(prune=true), every object the record lists and this run no longer describes, in the order
      they were handled, and what became of it.
  returned: always
  type: list
  elements: dict
  contains:
    apiVersion: {description: "Its apiVersion.", type: str, sample: apps/v1}
    kind: {description: "Its kind.", type: str, sample: StatefulSet}
    namespace: {description: "Its namespace.", type: str, sample: airflow}
    name: {description: "Its name.", type: str, sample: airflow-worker}
    action:
      description:
        - C(deleted), C(would delete) (check mode), C(gone) (it no longer exists) or C(left alone)
          (not owned by this collection, see RV(retired[].reason)).
      type: str
      sample: deleted
    reason: {description: "Why it was left alone.", type: str, sample: "it lacks the label app.kubernetes.io/managed-by=airflow_k8s.cloud"}
deleted_objects:
  description: C(Kind namespace/name) of every retired object that was (or in check mode would be) deleted.
  returned: always
  type: list
  elements: str
  sample: [StatefulSet airflow/airflow-worker]
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import k8s_client, manifests
from ansible_collections.airflow_k8s.cloud.plugins.module_utils.k8s_client import CoreException

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.runner import perform_action
except ImportError:  # pragma: no cover - kubernetes.core is a declared dependency (k8s_client says so)
    perform_action = None


def argument_spec():
    """This module's own options (the connection options come from k8s_client)."""
    spec = copy.deepcopy(manifests.RUN_OBJECTS_ARGUMENT_SPEC)
    spec.update(
        field_manager=dict(type="str", default="airflow-k8s-cloud"),
        force_conflicts=dict(type="bool", default=True),
        prune=dict(type="bool", default=False),
        record=dict(type="dict", options=dict(name=dict(type="str", required=True), namespace=dict(type="str", required=True))),
        owner_labels=dict(type="dict", default={}),
    )
    return spec


def ordered(objects, labels):
    """(component, labelled object) pairs in the order a cluster accepts them."""
    pairs = [(component, manifests.with_labels(obj, labels)) for component in sorted(objects) for obj in objects[component]]
    return sorted(pairs, key=lambda pair: manifests.kind_rank(pair[1]))


def diff_entry(obj, diff):
    """One diff for Ansible to show: the changed fields as YAML, or only the name of a Secret."""
    header = manifests.identity(obj)
    if obj["kind"] == "Secret":
        return dict(before_header=header, after_header=header, before=manifests.SECRET_HIDDEN, after=manifests.SECRET_HIDDEN)
    before, after = (diff or {}).get("before"), (diff or {}).get("after")
    return dict(before_header=header, after_header=header,
                before=manifests.to_yaml(before, document_start=False) if before else "",
                after=manifests.to_yaml(after, document_start=False) if after else "")


def server_reader(module, service):
    """``read(kind, namespace, name)`` for manifests.with_checksums: the server's copy of an object the
    run does not hold, by one GET through kubernetes.core's client; None when it does not exist."""
    def read(kind, namespace, name):
        if not namespace:
            return None
        try:
            found = service.retrieve(service.find_resource(kind, "v1", fail=True),
                                     dict(apiVersion="v1", kind=kind, metadata=dict(name=name, namespace=namespace)))
        except CoreException as error:
            module.fail_json(msg="cannot read %s %s/%s, whose checksum the pods that read it carry: %s"
                             % (kind, namespace, name, error))
        obj = found.to_dict() if found is not None else None
        # Only its digest is used; its values are masked all the same.
        module._module.no_log_values.update(manifests.secret_values(obj))
        return obj
    return read


def retire(module, service, applied):
    """Retire what the record lists and ``applied`` (this run's objects) does not; write the new record.

    Returns (the retired entries with their action, C(Kind namespace/name) of those deleted, whether the record changed).
    """
    params = module.params
    record = params["record"]
    config_maps = service.find_resource("ConfigMap", "v1", fail=True)
    try:
        stored = service.retrieve(config_maps, dict(apiVersion="v1", kind="ConfigMap", metadata=record))
        recorded = manifests.read_record(stored.to_dict() if stored is not None else None)
    except (CoreException, ValueError) as error:
        module.fail_json(msg="cannot read the record of applied objects, ConfigMap %s/%s: %s (nothing was retired)"
                         % (record["namespace"], record["name"], error))
    entries, deleted = [], []
    params["delete_options"] = dict(propagationPolicy="Background")
    for entry in manifests.retired_objects(recorded, [manifests.record_entry(obj) for _component, obj in applied]):
        definition = dict(apiVersion=entry["apiVersion"], kind=entry["kind"], metadata=dict(name=entry["name"], namespace=entry["namespace"] or None))
        name = manifests.identity(definition)
        try:
            resource = service.find_resource(entry["kind"], entry["apiVersion"], fail=False)
            existing = service.retrieve(resource, definition) if resource is not None else None
        except CoreException as error:
            module.fail_json(msg="cannot read %s, which an earlier run applied and this one retires: %s" % (name, error),
                             retired=entries, deleted_objects=deleted)
        if existing is None:
            entries.append(dict(entry, action="gone"))
            continue
        problem = manifests.ownership_problem(existing.to_dict(), params["owner_labels"], params["field_manager"])
        if problem:
            module.warn("%s is no longer described, but was left alone: %s." % (name, problem))
            entries.append(dict(entry, action="left alone", reason=problem))
            continue
        if not module.check_mode:
            try:
                service.delete(resource, definition, existing)
            except CoreException as error:
                module.fail_json(msg="cannot delete %s, which this run retires: %s; a re-run tries again." % (name, error),
                                 retired=entries, deleted_objects=deleted)
        entries.append(dict(entry, action="would delete" if module.check_mode else "deleted"))
        deleted.append(name)
    if module.check_mode:
        return entries, deleted, False
    record_map = manifests.record_config_map(record["name"], record["namespace"],
                                             [manifests.record_entry(obj) for _component, obj in applied if manifests.retirable(obj)],
                                             params["labels"])
    try:
        written = perform_action(service, record_map, params)
    except CoreException as error:
        module.fail_json(msg="cannot write the record of applied objects, ConfigMap %s/%s: %s; a re-run writes it."
                         % (record["namespace"], record["name"], error), retired=entries, deleted_objects=deleted)
    return entries, deleted, bool(written.get("changed"))


def main(module_class=AnsibleModule):
    """The module; the action plugin runs this code in the controller with its own ``module_class``."""
    module = k8s_client.build_module(module_class, argument_spec(), supports_check_mode=True,
                                     required_if=[("prune", True, ("record",))])
    objects = manifests.run_objects(module._module)

    module.params.update(state="present", apply=True, wait=False, force=False, label_selectors=None,
                         hidden_fields=["metadata.managedFields"],
                         server_side_apply=dict(field_manager=module.params["field_manager"],
                                                force_conflicts=module.params["force_conflicts"]))
    service = k8s_client.connect(module)

    objects = manifests.with_checksums(objects, server_reader(module, service))

    reports, diffs, changed_objects = [], [], []
    applied = ordered(objects, module.params["labels"])
    for component, obj in applied:
        metadata = obj["metadata"]
        report = dict(component=component, apiVersion=obj["apiVersion"], kind=obj["kind"],
                      namespace=metadata.get("namespace") or "", name=metadata["name"], secret=obj["kind"] == "Secret")
        try:
            result = perform_action(service, obj, module.params)
        except CoreException as error:
            module.fail_json(msg="%s (%s of component %s); %d objects were applied before it: a re-run converges."
                             % (error, manifests.identity(obj), component, len(reports)),
                             objects=reports, changed_objects=changed_objects)
        report["changed"] = bool(result.get("changed"))
        server_copy = result.get("result") or {}
        report["rollout"] = None if module.check_mode else manifests.rollout_state(server_copy)
        reports.append(report)
        if report["changed"]:
            changed_objects.append(manifests.identity(obj))
            diffs.append(diff_entry(obj, result.get("diff")))

    retired, deleted = [], []
    if module.params["prune"]:
        retired, deleted, record_changed = retire(module, service, applied)
        if record_changed:
            changed_objects.append("ConfigMap %s/%s" % (module.params["record"]["namespace"], module.params["record"]["name"]))
        diffs.extend(dict(before_header=name, after_header=name, before="(%s)\n" % name, after="(deleted: no component describes it any more)\n")
                     for name in deleted)

    outcome = dict(changed=bool(changed_objects or deleted), objects=reports, changed_objects=changed_objects,
                   retired=retired, deleted_objects=deleted)
    if module._diff:
        outcome["diff"] = diffs
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
