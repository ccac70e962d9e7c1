# Copyright (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hello world: the smallest pipeline, to check that a new deployment schedules and runs tasks.

Two tasks in a task pod each (KubernetesExecutor): the first returns a greeting, the second
prints it (XCom through the execution API). Trigger it from the UI, or:

    airflow dags trigger hello_world --conf '{"name": "Kubernetes"}'
"""

from __future__ import annotations

import pendulum

from airflow.sdk import Param, dag, task


@dag(
    dag_id="hello_world",
    description="Says hello from a task pod: proves scheduling, task pods, XCom and logs work.",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "airflow_k8s.cloud"],
    params={"name": Param("world", type="string", minLength=1, description="Who to greet.")},
)
def hello_world():
    @task
    def greeting(params=None) -> str:
        return "Hello, %s!" % params["name"]

    @task
    def say(message: str) -> None:
        print(message)

    say(greeting())


hello_world()
