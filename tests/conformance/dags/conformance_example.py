# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minimal Airflow 3 DAG that the conformance suite drops into a temporary DAG share.

It uses only the Task SDK (``airflow.sdk``) and the standard provider, the way DAGs are written for
Airflow 3, so that a parse failure points at the deployment, not at the DAG.
"""

from __future__ import annotations

import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag, task


@dag(
    dag_id="conformance_example",
    schedule=None,
    start_date=datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    tags=["airflow_k8s.cloud", "conformance"],
)
def conformance_example():
    """Two tasks: a Python task and a Bash task after it."""

    @task
    def say_hello() -> str:
        return "hello from the DAG share"

    echo = BashOperator(task_id="echo", bash_command="echo {{ ti.xcom_pull(task_ids='say_hello') }}")
    say_hello() >> echo


conformance_example()
