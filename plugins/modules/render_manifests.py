#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: render_manifests
short_description: Write a whole run's Kubernetes objects as YAML manifests, one file per object
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - The render mode of the collection's C(sink) role, in one module run for the whole deployment.
    Writes each object of O(objects) to C(<path>/<component>/<kind>-<name>.yaml) (kind in lower
    case), adds O(labels) to every object, removes manifests it did not write this time when
    O(prune) is set, and writes C(kustomization.yaml) listing every manifest in the folder.
  - Folders are created with mode 0700. Files of objects of kind C(Secret) get mode 0600, all
    other files 0644. Files are only rewritten when their content or mode differs.
  - Secrets travel in the same run as everything else, in O(secrets), a C(no_log) option, so
    Ansible keeps them out of the module's log entry and its output. Their values never leave the
    module (their diff names the file only), and every value of their C(data) is registered as a
    C(no_log) value, so it is masked wherever else it could show.
  - Refuses to write into an existing, non-empty O(path) that does not hold the marker file
    C(.airflow_k8s_cloud) (which it creates), because it removes stale manifests from folders it owns.
  - Every object is checked before anything is written.
  - Pods follow what they read. The pod template of every Deployment, StatefulSet, DaemonSet and
    CronJob gets one annotation C(checksum.airflow-k8s.cloud/<kind>-<name>) per ConfigMap and Secret
    of its namespace it reads, whose value is the SHA-256 of that object's C(data), C(stringData)
    and C(binaryData) (as M(airflow_k8s.cloud.k8s_apply) does). An object the run does not hold
    (a C(--tags) run) is taken from its manifest of an earlier render under O(path). One found
    nowhere gets no annotation; render mode cannot know a Secret made outside the collection.
    Jobs get none, because their pod template is immutable.
  - Why a module rather than M(ansible.builtin.copy) in a loop; copy would work, but costs a
    module run per object (about 50 for a deployment), which dominated the render time.
options:
  path:
    description: The render folder (the sink's C(sink_render_dir)).
    type: path
    required: true
  prune:
    description:
      - Remove the manifests under O(path) that this run did not write. Set it only when
        O(objects) is the complete deployment (a run without C(--tags)).
    type: bool
    default: false
  kustomization:
    description: Write C(kustomization.yaml) listing every manifest in O(path), for C(kubectl apply -k).
    type: bool
    default: true
extends_documentation_fragment:
  - airflow_k8s.cloud.run_objects
attributes:
  check_mode:
    support: full
    description: Reports which files would change or be removed, writes nothing.
  diff_mode:
    support: full
    description: Shows the YAML before and after for every changed file; for Secrets only the file name.
  action:
    support: full
    description:
      - When the task's connection is local (the local inventory, or C(delegate_to=localhost)), the
        module's action plugin writes the files itself, in the controller process, with the module's
        code, which saves a module process (about half a second). It runs the module instead when the
        connection is not local, or with C(become), a task C(environment) or C(async), where a module
        process could differ from the controller's.
      - In-process, the Secrets are masked in the result as by the module, and no module log entry
        (syslog or journald) is written at all.
  platform:
    support: full
    platforms: posix
    description: Writes files on the host it runs on, normally the controller (connection local).
notes:
  - Manifests are written with sorted keys and a leading C(---), so the output is stable from run to run.
seealso:
  - module: airflow_k8s.cloud.k8s_apply
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Render the whole deployment to build/local/
  airflow_k8s.cloud.render_manifests:
    path: "{{ playbook_dir }}/build/local"
    objects:
      scheduler:
        - apiVersion: v1
          kind: ServiceAccount
          metadata:
            name: airflow-scheduler
            namespace: airflow
    secrets: "{{ {'secrets': secret_objects} | to_json }}"
    labels:
      app.kubernetes.io/managed-by: airflow_k8s.cloud
    prune: true
"""

RETURN = r"""
files:
  description: Paths of every manifest of this run, relative to O(path), sorted.
  returned: always
  type: list
  elements: str
  sample: [scheduler/serviceaccount-airflow-scheduler.yaml]
changed_files:
  description: The subset of RV(files) that was (or in check mode would be) written.
  returned: always
  type: list
  elements: str
  sample: []
removed_files:
  description: Manifests removed (or in check mode to be removed) because this run did not produce them (O(prune)).
  returned: always
  type: list
  elements: str
  sample: [network_policy/networkpolicy-airflow-api-server.yaml]
components:
  description: The components of this run, sorted.
  returned: always
  type: list
  elements: str
  sample: [config, scheduler]
secrets:
  description: How many of the manifests are Secrets.
  returned: always
  type: int
  sample: 6
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests
from ansible_collections.airflow_k8s.cloud.plugins.module_utils.render import (
    RenderError,
    argument_spec,
    render_manifests,
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not manifests.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))

    objects = manifests.run_objects(module)
    try:
        result = render_manifests(module.params, objects, module.check_mode, module._diff, module.atomic_move,
                                  no_log_values=module.no_log_values)
    except RenderError as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
