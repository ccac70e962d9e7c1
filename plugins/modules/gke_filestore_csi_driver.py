#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: gke_filestore_csi_driver
short_description: Enable or disable the Filestore CSI driver add-on of a GKE cluster
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Makes the GKE add-on C(GcpFilestoreCsiDriver) (the CSI driver C(filestore.csi.storage.gke.io))
    enabled or disabled on an existing GKE cluster, through the GKE REST API (C(projects.locations.clusters.get)
    and C(setAddons)).
  - Why a module of its own - M(google.cloud.gcp_container_cluster) has no option for this add-on
    (its C(addons_config) knows only HTTP load balancing, horizontal pod autoscaling and network policy),
    and shelling out to C(gcloud) would give no check mode and no idempotence.
  - Reads the cluster first and changes nothing when the add-on is already as requested.
    Otherwise sends the cluster's current add-on configuration with only this add-on changed, so
    the other add-ons stay as they are, and waits for the GKE operation.
  - Authentication uses the options and environment variables of the google.cloud collection
    (C(GCP_AUTH_KIND), C(GCP_SERVICE_ACCOUNT_FILE), C(GCP_SERVICE_ACCOUNT_CONTENTS), C(GCP_ACCESS_TOKEN),
    C(GCP_PROJECT)).
extends_documentation_fragment:
  - airflow_k8s.cloud.gcp
options:
  project:
    description: Project of the cluster. Defaults to the C(GCP_PROJECT) environment variable.
    type: str
    required: true
  location:
    description: Region (regional cluster) or zone (zonal cluster) of the cluster.
    type: str
    required: true
  cluster:
    description: Name of the cluster.
    type: str
    required: true
  enabled:
    description: Whether the Filestore CSI driver add-on should be enabled.
    type: bool
    default: true
  wait:
    description: Wait for the GKE operation that changes the add-on to finish.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait for the operation.
    type: int
    default: 1200
  api_endpoint:
    description:
      - Base URL of the GKE API. Change it only for a private endpoint or a test double.
    type: str
    default: https://container.googleapis.com
attributes:
  check_mode:
    support: full
    description: Reads the cluster and reports whether the add-on would change; sends nothing.
  diff_mode:
    support: full
    description: Shows the add-on's C(enabled) state before and after.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
notes:
  - Changing an add-on updates the cluster's control plane; GKE then deploys the driver, which
    registers the CSIDriver object C(filestore.csi.storage.gke.io) within a few minutes.
  - The Filestore CSI driver needs a Standard or Autopilot cluster on GKE 1.21 or later.
requirements:
  - google-auth (only for O(auth_kind=serviceaccount) and O(auth_kind=application))
seealso:
  - name: Filestore CSI driver on GKE
    description: What the add-on does and its requirements.
    link: https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/filestore-csi-driver
"""

EXAMPLES = r"""
- name: Enable the Filestore CSI driver of the GKE cluster
  airflow_k8s.cloud.gke_filestore_csi_driver:
    project: my-project
    location: europe-west1
    cluster: airflow
  register: filestore_csi

- name: Disable it again, without waiting for the operation
  airflow_k8s.cloud.gke_filestore_csi_driver:
    location: europe-west1
    cluster: airflow
    enabled: false
    wait: false
"""

RETURN = r"""
enabled:
  description: Whether the add-on is enabled after the run (in check mode, would be).
  returned: success
  type: bool
  sample: true
previous_enabled:
  description: Whether the add-on was enabled before the run.
  returned: success
  type: bool
  sample: false
operation:
  description: The GKE operation that changed the add-on (its final state when O(wait=true)); absent when nothing changed.
  returned: changed and not check mode
  type: dict
  sample: {"name": "operation-1700000000000-abcdef", "operationType": "UPDATE_CLUSTER", "status": "DONE"}
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.gcp_rest import (
    GcpRestError,
    finish_operation,
    gcp_auth_argument_spec,
    run_module,
)

ADDON = "gcpFilestoreCsiDriverConfig"


def argument_spec():
    spec = gcp_auth_argument_spec()
    spec.update(
        location=dict(type="str", required=True),
        cluster=dict(type="str", required=True),
        enabled=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1200),
        api_endpoint=dict(type="str", default="https://container.googleapis.com"),
    )
    return spec


def run(module, client):
    params = module.params
    base = "%s/v1/projects/%s/locations/%s" % (params["api_endpoint"].rstrip("/"), params["project"], params["location"])
    cluster_url = "%s/clusters/%s" % (base, params["cluster"])
    try:
        cluster = client.get(cluster_url)
    except GcpRestError as error:
        if error.status == 404:
            module.fail_json(msg="GKE cluster %s not found in project %s, location %s."
                             % (params["cluster"], params["project"], params["location"]))
        raise
    addons = cluster.get("addonsConfig") or {}
    previous = bool((addons.get(ADDON) or {}).get("enabled", False))
    wanted = params["enabled"]
    result = dict(changed=previous != wanted, enabled=wanted, previous_enabled=previous)
    if module._diff:
        result["diff"] = dict(before={ADDON: {"enabled": previous}}, after={ADDON: {"enabled": wanted}})
    if not result["changed"] or module.check_mode:
        return result
    new_addons = copy.deepcopy(addons)
    new_addons[ADDON] = {"enabled": wanted}
    operation = client.post(cluster_url + ":setAddons", {"addonsConfig": new_addons})
    result["operation"] = finish_operation(client, operation, base + "/operations", params["wait"], params["wait_timeout"])
    return result


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), run)


if __name__ == "__main__":
    main()
