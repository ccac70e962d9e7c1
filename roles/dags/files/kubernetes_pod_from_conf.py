# Copyright (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run any container chosen at trigger time: image, command, arguments and environment come from
the DagRun configuration (``--conf`` / the REST API's ``conf``), validated by the DAG's params.

The task starts a pod of its own with the cncf.kubernetes provider's KubernetesPodOperator, in
the task pod's namespace. The task pods' ServiceAccount needs the right to manage pods there:
set ``rbac_task_rules`` (see roles/dags/README.md). Trigger it with, e.g.:

    airflow dags trigger kubernetes_pod_from_conf --conf '{"image": "busybox:1.36",
        "cmds": ["sh", "-c"], "arguments": ["echo $GREETING"], "env": {"GREETING": "hi"}}'

Templates render as native Python objects (``render_template_as_native_obj``), so ``cmds`` and
``arguments`` stay lists and ``env`` stays a mapping.
"""

from __future__ import annotations

import pendulum

from kubernetes.client import models as k8s

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG, Param

with DAG(
    dag_id="kubernetes_pod_from_conf",
    description="Runs the container image, command and environment given in the DagRun configuration.",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=8,
    render_template_as_native_obj=True,
    tags=["example", "airflow_k8s.cloud", "kubernetes"],
    params={
        "image": Param("busybox:1.36", type="string", minLength=1, description="Container image to run."),
        "cmds": Param(["sh", "-c"], type="array", items={"type": "string"},
                      description="Entrypoint (the container's command); empty keeps the image's."),
        "arguments": Param(["echo \"Hello from $HOSTNAME: $GREETING\""], type="array", items={"type": "string"},
                           description="Arguments of the command."),
        "env": Param({"GREETING": "hello"}, type="object", additionalProperties={"type": "string"},
                     description="Environment variables of the container (name: value)."),
    },
) as dag:
    KubernetesPodOperator(
        task_id="run",
        name="run-from-conf",
        image="{{ params.image }}",
        cmds="{{ params.cmds }}",
        arguments="{{ params.arguments }}",
        env_vars="{{ params.env }}",
        # Runs where the task pod runs; no API token is needed inside the launched container.
        in_cluster=True,
        automount_service_account_token=False,
        get_logs=True,
        on_finish_action="delete_pod",
        container_resources=k8s.V1ResourceRequirements(requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "256Mi"}),
        # Restricted Pod Security: non-root, no privilege escalation, no capabilities. Images that
        # must run as root need a namespace (and these settings) of their own.
        security_context={"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                          "seccompProfile": {"type": "RuntimeDefault"}},
        container_security_context={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    )
