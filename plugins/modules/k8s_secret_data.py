#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_secret_data
short_description: Read the values of the Secrets that match a label selector, decoded, in one list call
version_added: 0.3.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Lists the Secrets of O(namespace) that match O(label_selectors) and returns what they hold, by
    Secret name and key, decoded from base64. The collection reads back, once per run, the Secrets it
    stored (generated passwords and keys), so that a re-run keeps them.
  - Why not M(kubernetes.core.k8s_info) or its lookup; they return whole objects with base64 values,
    which the play would decode and keep in a fact in one more step, and the lookup runs in a fresh
    worker process that imports the Kubernetes client again. This module uses kubernetes.core's
    client and connection options, decodes in the same step, and on a local connection runs in the
    controller process with the client imported once per run (its action plugin).
  - The values are returned on purpose; give the task C(no_log) so that they appear nowhere else.
options:
  namespace:
    description: The namespace of the Secrets.
    type: str
    required: true
  label_selectors:
    description: Label selectors every Secret read must match (C(key=value), C(key!=value), C(key)).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - airflow_k8s.cloud.kubernetes
attributes:
  check_mode:
    support: full
    description: Read only; reads in check mode too.
  diff_mode:
    support: none
    description: Returns no diff.
notes:
  - A namespace that does not exist yet holds no Secrets; RV(secrets) is then empty.
  - A value that is not base64-encoded UTF-8 text fails the task, naming the Secret and key, never the value.
seealso:
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Read back the Secrets this collection stored
  airflow_k8s.cloud.k8s_secret_data:
    namespace: airflow
    label_selectors: [app.kubernetes.io/managed-by=airflow_k8s.cloud]
  register: stored
  no_log: true
"""

RETURN = r"""
secrets:
  description: "The values, C({<Secret name>: {<key>: <decoded value>}})."
  returned: success
  type: dict
  sample: {airflow-fernet-key: {fernet-key: "<the key>"}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import k8s_client, manifests
from ansible_collections.airflow_k8s.cloud.plugins.module_utils.k8s_client import CoreException


def argument_spec():
    """This module's own options (the connection options come from k8s_client)."""
    return dict(
        namespace=dict(type="str", required=True),
        label_selectors=dict(type="list", elements="str", default=[]),
    )


def main(module_class=AnsibleModule):
    """The module; the action plugin runs this code in the controller with its own ``module_class``."""
    module = k8s_client.build_module(module_class, argument_spec(), supports_check_mode=True)
    params = module.params
    service = k8s_client.connect(module)
    try:
        found = k8s_client.list_objects(service, "v1", "Secret", params["namespace"], label_selectors=params["label_selectors"])
        secrets = manifests.decoded_secrets([dict(obj, kind="Secret") for obj in found])
    except (CoreException, ValueError) as error:
        module.fail_json(msg="cannot read the Secrets of namespace %s (%s): %s"
                         % (params["namespace"], ", ".join(params["label_selectors"]) or "all", error))
    module.exit_json(changed=False, secrets=secrets)


if __name__ == "__main__":
    main()
