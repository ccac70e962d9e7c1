# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inventory values fail before anything is written, with a message naming the variable.

Real components: ``ansible-playbook site.yml`` from the checkout's .venv, in render mode, with
one bad value passed as an extra variable. The role argument specs and the roles' ``validate``
entry points (run by the namespace role before the first object is written) must stop the run:
non-zero exit, the variable named in the output, and no manifest in the render folder. Values
that are secrets must not be echoed in the failure message.
"""

import concurrent.futures
import os

import pytest

from tests.support import manifests

pytestmark = [pytest.mark.slow]

SECRET_SENTINEL = "NotAFernetKey-sentinel-7f3a9c"

# (id, inventory, extra variables, variable the message must name)
CASES = [
    ("platform_moon", "local", {"airflow_platform": "moon"}, "airflow_platform"),
    ("bad_namespace_name", "local", {"airflow_namespace": "Not_A_Namespace"}, "airflow_namespace"),
    ("bad_efs_id", "aws", {"storage_efs_file_system_id": "fs-12345"}, "storage_efs_file_system_id"),
    ("bad_efs_access_point", "aws", {"storage_efs_logs_access_point_id": "fsap-xyz"}, "storage_efs_logs_access_point_id"),
    # RDS naming rules, checked before anything is created (the inventory provisions RDS; the no-cloud
    # overrides turn that off, so it is turned on again here).
    ("bad_rds_identifier", "aws", {"database_manage": True, "database_aws_instance_identifier": "Airflow--db"},
     "database_aws_instance_identifier"),
    ("reserved_rds_username", "aws", {"database_manage": True, "database_aws_username": "rdsadmin"}, "database_aws_username"),
    ("missing_azure_share", "azure", {"storage_azure_dags_share_name": ""}, "storage_azure_dags_share_name"),
    ("missing_cloud_database_host", "gcp", {"database_external_host": ""}, "database_external_host"),
    ("same_filestore_instance", "gcp", {"storage_filestore_logs_instance": "airflow-dags-example"},
     "storage_filestore_logs_instance"),
    ("bad_pod_security_level", "local", {"namespace_pod_security_enforce": "strict"}, "namespace_pod_security_enforce"),
    ("namespaces_without_multi_namespace_mode", "local", {"rbac_multi_namespace_namespaces": ["other"]},
     "rbac_multi_namespace_namespaces"),
    ("bad_fernet_key", "local", {"secrets_fernet_key": SECRET_SENTINEL}, "secrets_fernet_key"),
    ("bad_storage_driver", "local", {"storage_driver": "ceph"}, "storage_driver"),
    # Rotating and dropping the old key in one run would lose every value encrypted with it.
    ("rotate_and_drop_fernet_key", "local", {"secrets_fernet_key_rotate": True, "secrets_fernet_key_keep": 0},
     "secrets_fernet_key_keep=0 cannot be combined with secrets_fernet_key_rotate=true"),
    # Component settings are checked before the sink writes anything (it writes once, at the end).
    ("zero_scheduler_replicas", "local", {"scheduler_replicas": 0}, "scheduler_replicas"),
    # Values that carry credentials are named with the credentials masked.
    ("database_host_as_url_with_password", "gcp", {"database_external_host": "postgresql://airflow:%s@db.example.com/airflow" % SECRET_SENTINEL},
     "postgresql://***@db.example.com/airflow"),
    ("git_url_with_token_and_bad_ref", "local",
     {"airflow_dags_source": "git", "config_dags_git_url": "https://bot:%s@git.example.com/dags.git" % SECRET_SENTINEL,
      "config_dags_git_ref": ""}, "config_dags_git_ref must name a branch or tag"),
    ("bad_git_url_with_token", "local",
     {"airflow_dags_source": "git", "config_dags_git_url": "ftp://bot:%s@git.example.com/dags.git" % SECRET_SENTINEL},
     "ftp://***@git.example.com/dags.git"),
    # A mistyped variable is named with the likely intended one (an error with the strict switch).
    ("typo_with_strict_switch", "local", {"scheduler_replica": 3, "airflow_strict_variables": True},
     "scheduler_replica (did you mean scheduler_replicas?)"),
    # Executors (issue 13): an unknown executor, two autoscalers, an external broker without its Secret,
    # Azure's built-in PgBouncer off Azure, a Redis password that would break the broker URL.
    ("unknown_executor", "local", {"airflow_executor": "LocalExecutor"}, "airflow_executor"),
    ("keda_and_hpa", "local", {"airflow_executor": "CeleryExecutor", "workers_keda_enabled": True, "workers_hpa_enabled": True},
     "pick one autoscaler"),
    ("external_broker_without_secret", "local", {"airflow_executor": "CeleryExecutor", "broker_type": "external"},
     "broker_external_secret_name"),
    ("azure_pgbouncer_off_azure", "local", {"pgbouncer_azure_builtin": True}, "pgbouncer_azure_builtin"),
    ("multi_namespace_without_kubernetes_executor", "local", {"airflow_executor": "CeleryExecutor", "rbac_multi_namespace_mode": True},
     "rbac_multi_namespace_mode"),
    ("short_grace_for_workers", "local", {"airflow_executor": "CeleryExecutor", "workers_termination_grace_period_seconds": 5},
     "workers_termination_grace_period_seconds"),
    ("pod_template_without_kubernetes_executor", "local", {"airflow_executor": "CeleryExecutor", "config_pod_template_file": "/etc/hostname"},
     "config_pod_template_file is the task pod template of KubernetesExecutor"),
    ("bad_redis_password", "local", {"airflow_executor": "CeleryExecutor", "secrets_redis_password": SECRET_SENTINEL},
     "secrets_redis_password"),
    # A setting of an earlier release names its replacement.
    ("removed_sink_health_check", "local", {"sink_health_check": False}, "sink_health_check was removed in 0.2.0"),
]


@pytest.fixture(scope="module")
def failed_runs(tmp_path_factory):
    """Run every case, two at a time; {case id: (render folder, PlaybookRun)}."""
    root = str(tmp_path_factory.mktemp("validation"))
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for case_id, inventory, extra_vars, _variable in CASES:
            folder = os.path.join(root, case_id)
            futures[case_id] = (folder, pool.submit(manifests.run_playbook, inventory, folder, extra_vars=extra_vars))
        for case_id, (folder, future) in futures.items():
            results[case_id] = (folder, future.result())
    return results


@pytest.mark.parametrize("case_id, inventory, extra_vars, variable", CASES, ids=[case[0] for case in CASES])
def test_bad_input_fails_before_anything_is_written(failed_runs, case_id, inventory, extra_vars, variable):
    folder, run = failed_runs[case_id]
    assert run.returncode != 0, "site.yml -i inventories/%s accepted %s:\n%s" % (inventory, extra_vars, run.tail())
    failure = run.output[run.output.find("fatal:"):] if "fatal:" in run.output else run.output
    assert variable in failure, "the failure does not name %s:\n%s" % (variable, run.tail())
    written = manifests.manifest_files(folder) if os.path.isdir(folder) else []
    assert not written, "manifests were written before the failure: %s" % written
    assert SECRET_SENTINEL not in run.output, "a secret value was echoed in the failure output"
