# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inventory values fail in the preflight, before anything is written or called, naming the variable.

Real components: ``ansible-playbook site.yml`` from the checkout's .venv, on the local and the cloud
inventories (render mode; the cloud ones with their no-cloud overrides, and with ``database_manage``
turned on again where a case checks the settings of a provisioned database), with one bad value
passed as an extra variable. The preflight (the airflow role's first task: every role's argument
spec and ``<role>_rules``) must stop the run: non-zero exit, the message names the variable and the
rule, no task but the preflight ran (so no cloud call, no API request and no file written: nothing
else had a chance to), no manifest in the render folder, and no secret value in the output.
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
    # Private access needs the delegated subnet AND the private DNS zone (the inventory sets both).
    ("azure_delegated_subnet_without_dns_zone", "azure", {"database_manage": True, "database_azure_private_dns_zone_id": ""},
     "database_azure_private_dns_zone_id"),
    ("azure_dns_zone_not_a_postgres_zone", "azure",
     {"database_manage": True, "database_azure_private_dns_zone_id":
      "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/example.com"},
     "database_azure_private_dns_zone_id must be the resource id of a private DNS zone"),
    ("azure_interactive_kubelogin", "azure", {"cluster_access_azure_kubelogin_login": "devicecode"},
     "cluster_access_azure_kubelogin_login"),
    ("missing_cloud_database_host", "gcp", {"database_external_host": ""}, "database_external_host"),
    # One Filestore instance for both shares needs a folder for each (no_cloud_gcp.yml: dags, logs).
    ("same_filestore_instance", "gcp", {"storage_filestore_logs_folder": ""}, "storage_filestore_logs_instance"),
    ("filestore_folder_escapes", "gcp", {"storage_filestore_logs_folder": "../logs"}, "storage_filestore_logs_folder must be a relative path"),
    ("filestore_folders_nested", "gcp", {"storage_filestore_logs_folder": "dags/logs"}, "must not be the same folder nor one inside the other"),
    ("share_setup_in_airflow_namespace", "gcp", {"storage_share_setup_namespace": "airflow"}, "storage_share_setup_namespace must be"),
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
    # Auth manager: the choice, the simple auth manager's users, and FAB-only settings with another one.
    ("bad_auth_manager", "local", {"config_auth_manager": "ldap manager"}, "config_auth_manager must be fab, simple or"),
    ("simple_user_with_colon", "local", {"config_auth_manager": "simple",
                                         "config_simple_auth_manager_users": [{"username": "a:b", "role": "admin"}]},
     "config_simple_auth_manager_users must list"),
    ("webserver_config_without_fab", "local", {"config_auth_manager": "simple", "config_webserver_config": "AUTH_TYPE = 1"},
     "config_webserver_config and config_webserver_config_file configure the FAB auth manager only"),
    ("rate_limit_storage_not_redis", "local", {"config_fab_rate_limit_storage_uri": "postgresql://u:%s@db/x" % SECRET_SENTINEL},
     "config_fab_rate_limit_storage_uri is for the FAB auth manager"),
    ("missing_local_settings_file", "local", {"config_local_settings_file": "/nonexistent/airflow_local_settings.py"},
     "config_local_settings_file must be a readable file"),
    # Housekeeping: schedules and retentions.
    ("bad_db_clean_schedule", "local", {"housekeeping_db_clean_schedule": "every night"}, "housekeeping_db_clean_schedule"),
    ("zero_log_retention", "local", {"housekeeping_logs_retention_days": 0}, "housekeeping_logs_retention_days must be at least 1"),
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
    ("azure_pgbouncer_on_burstable", "azure", {"pgbouncer_azure_builtin": True, "database_manage": True,
                                               "database_azure_sku_name": "Standard_B2s", "database_azure_sku_tier": "Burstable"},
     "built-in PgBouncer on the GeneralPurpose and MemoryOptimized tiers only"),
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
    # Components and their knobs.
    ("negative_api_server_replicas", "local", {"api_server_replicas": -1}, "api_server_replicas must be at least 1"),
    ("service_type_ingress", "local", {"api_server_service_type": "Ingress"}, "api_server_service_type must be one of"),
    ("ingress_without_host", "local", {"api_server_ingress_enabled": True}, "api_server_ingress_enabled needs api_server_ingress_host"),
    ("uppercase_ingress_host", "local", {"api_server_ingress_enabled": True, "api_server_ingress_host": "Airflow.Example.com"},
     "api_server_ingress_enabled needs api_server_ingress_host"),
    ("tls_secret_with_space", "local", {"api_server_ingress_enabled": True, "api_server_ingress_host": "airflow.example.com",
                                        "api_server_ingress_tls_secret": "My TLS"}, "api_server_ingress_tls_secret must be the name"),
    ("load_balancer_range_33", "local", {"api_server_load_balancer_source_ranges": ["10.0.0.0/33"]},
     "api_server_load_balancer_source_ranges entries must be networks in CIDR notation"),
    ("memory_in_gb", "local", {"scheduler_resources": {"requests": {"memory": "1Gb"}}}, "scheduler_resources must be"),
    ("cpu_abc", "local", {"triggerer_resources": {"limits": {"cpu": "abc"}}}, "triggerer_resources must be"),
    ("requests_above_limits", "local", {"dag_processor_resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "500m"}}},
     "no request above its limit"),
    ("task_resources_above_limits", "local", {"config_task_resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}},
     "config_task_resources must be"),
    ("unknown_pod_knob", "local", {"scheduler_pod": {"sidecar": []}}, "scheduler_pod"),
    ("pod_env_not_a_list", "local", {"api_server_pod": {"env": {"A": "b"}}}, "api_server_pod"),
    ("task_pod_annotations_not_a_mapping", "local", {"config_task_pod": {"annotations": ["a"]}}, "config_task_pod"),
    ("pod_label_with_space", "local", {"scheduler_pod": {"labels": {"team": "data platform"}}}, "scheduler_pod.labels must map label names"),
    ("sidecar_without_image", "local", {"api_server_pod": {"sidecars": [{"name": "proxy"}]}}, "api_server_pod.sidecars[0].image must be"),
    ("missing_pod_template_file", "local", {"config_pod_template_file": "/nonexistent/pod.yaml"}, "config_pod_template_file must be a YAML file"),
    ("zero_statsd_replicas", "local", {"statsd_replicas": 0}, "statsd_replicas must be at least 1"),
    ("empty_statsd_tag", "local", {"statsd_image_tag": ""}, "statsd_image_tag must be an image tag"),
    ("statsd_interval", "local", {"statsd_service_monitor_interval": "30 seconds"}, "statsd_service_monitor_interval must be"),
    # Shared settings.
    ("image_tag_with_space", "local", {"airflow_image_tag": "3.3 2"}, "airflow_image_tag must be the tag of an Airflow 3 image"),
    ("airflow_2_image", "local", {"airflow_image_tag": "2.10.5"}, "airflow_image_tag must be the tag of an Airflow 3 image"),
    ("repository_with_tag", "local", {"airflow_image_repository": "apache/airflow:3.3.2"}, "airflow_image_repository must be an image repository"),
    ("pull_secret_as_mapping", "local", {"airflow_image_pull_secrets": [{"name": "x"}]}, "airflow_image_pull_secrets[0] must be a string"),
    ("label_value_with_space", "local", {"airflow_extra_labels": {"team": "data platform"}}, "airflow_extra_labels must map label names"),
    ("root_uid", "local", {"airflow_uid": 0}, "airflow_uid must not be 0"),
    ("relative_dags_path", "local", {"airflow_dags_path": "dags"}, "airflow_dags_path must be an absolute path"),
    ("long_name_prefix", "local", {"airflow_name_prefix": "a" * 41}, "airflow_name_prefix must be a DNS-1123 label of at most 40"),
    ("environment_name_with_space", "local", {"airflow_environment_name": "prod eu"}, "airflow_environment_name must be a valid label value"),
    ("string_for_a_mapping", "local", {"scheduler_node_selector": "pool=airflow"}, "scheduler_node_selector"),
    # Configuration.
    ("base_url_without_scheme", "local", {"config_api_base_url": "airflow.example.com"}, "config_api_base_url must be the absolute URL"),
    ("dags_source_github", "local", {"airflow_dags_source": "github"}, "airflow_dags_source must be one of"),
    ("git_without_url", "local", {"airflow_dags_source": "git"}, "config_dags_git_url must be the repository URL"),
    ("remote_logging_without_bucket", "local", {"config_remote_logging_enabled": True, "config_remote_logging_provider": "aws"},
     "config_remote_logging_bucket must name the bucket"),
    ("remote_logging_bucket_as_url", "local", {"config_remote_logging_enabled": True, "config_remote_logging_provider": "aws",
                                               "config_remote_logging_bucket": "s3://logs/airflow"}, "config_remote_logging_bucket must be the bare bucket"),
    ("remote_logging_other_cloud", "aws", {"config_remote_logging_enabled": True, "config_remote_logging_provider": "gcp",
                                           "config_remote_logging_bucket": "logs"}, "config_remote_logging_provider must match airflow_platform"),
    ("override_managed_setting", "local", {"config_overrides": {"core": {"executor": "CeleryExecutor"}}}, "config_overrides may not set core.executor"),
    ("override_secret_option", "local", {"config_overrides": {"database": {"sql_alchemy_conn": "postgresql://u:%s@h/d" % SECRET_SENTINEL}}},
     "config_overrides may not set database.sql_alchemy_conn"),
    ("override_not_sections", "local", {"config_overrides": {"core": "parallelism=4"}}, "config_overrides must map an airflow.cfg section"),
    ("missing_dags_source_dir", "local", {"dags_source_dir": "/nonexistent/dags"}, "dags_source_dir must be a folder"),
    # The DAG folder must fit in one ConfigMap: refused before the cloud roles act, not when the dags role runs.
    ("oversized_dags_folder", "local", {"dags_source_dir": "{oversized_dags}"}, "must fit in one ConfigMap"),
    ("empty_dags_folder", "local", {"dags_source_dir": "{empty_dags}"}, "It must hold at least one file"),
    ("negative_dags_backoff", "local", {"dags_backoff_limit": -1}, "dags_backoff_limit must be 0 or more"),
    ("bad_admin_email", "local", {"migrations_admin_email": "admin"}, "migrations_admin_email must be an e-mail address"),
    # Namespace, storage, database, RBAC.
    ("bad_quota_quantity", "local", {"namespace_resource_quota_enabled": True, "namespace_resource_quota_hard": {"requests.memory": "1Gb"}},
     "namespace_resource_quota_hard values must be Kubernetes quantities"),
    ("bad_dags_size", "local", {"storage_dags_size": "10 GB"}, "storage_dags_size must be a Kubernetes quantity"),
    ("short_local_password", "local", {"database_local_password": SECRET_SENTINEL[:10]}, "database_local_password must be empty"),
    ("bad_rbac_rule", "local", {"rbac_task_rules": [{"resources": ["pods"]}]}, "rbac_task_rules must be a namespaced RBAC rule"),
    ("sink_mode_typo", "local", {"sink_mode": "dry-run"}, "sink_mode must be one of"),
    ("typo_of_a_config_variable", "local", {"config_remote_logging_enable": True, "airflow_strict_variables": True},
     "config_remote_logging_enable (did you mean config_remote_logging_enabled?)"),
    # Clouds: the settings of a database the run would provision, refused before any cloud call.
    ("bad_rds_instance_class", "aws", {"database_manage": True, "database_aws_instance_class": "t3.medium"},
     "database_aws_instance_class must be an RDS instance class"),
    ("rds_storage_too_small", "aws", {"database_manage": True, "database_aws_allocated_storage": 5}, "database_aws_allocated_storage must be 20 to 65536"),
    ("azure_sku_with_space", "azure", {"database_manage": True, "database_azure_sku_name": "Standard D2ds v5"}, "database_azure_sku_name must be"),
    ("azure_sku_tier_mismatch", "azure", {"database_manage": True, "database_azure_sku_name": "Standard_B2s", "database_azure_sku_tier": "GeneralPurpose"},
     "database_azure_sku_tier must match database_azure_sku_name"),
    ("azure_location_display_name", "azure", {"database_manage": True, "database_azure_location": "West Europe"},
     "database_azure_location must be an Azure region"),
    ("gcp_tier_typo", "gcp", {"database_manage": True, "database_gcp_tier": "db-custom-2"}, "database_gcp_tier must be a Cloud SQL machine tier"),
    ("gcp_version", "gcp", {"database_manage": True, "database_gcp_database_version": "POSTGRES_9_6"}, "database_gcp_database_version must be"),
    # The pods' cloud identity the run would create (the inventories create it; the no-cloud overrides turn
    # cluster_access_manage off, so it is turned on again here).
    ("gcp_identity_for_no_service_account", "gcp", {"cluster_access_manage": True, "cluster_access_workload_identity_service_accounts": []},
     "cluster_access_workload_identity_service_accounts is empty"),
    ("gcp_identity_bad_account_id", "gcp", {"cluster_access_manage": True, "cluster_access_gcp_workload_identity_account_id": "Airflow_Pods"},
     "cluster_access_gcp_workload_identity_account_id must be a Google service account id"),
    ("gcp_identity_created_and_named", "gcp", {"cluster_access_manage": True, "cluster_access_gcp_workload_identity_service_account":
                                               "mine@example-project.iam.gserviceaccount.com"}, "set only one of them"),
    ("azure_identity_wildcard_service_account", "azure", {"cluster_access_manage": True,
                                                          "cluster_access_workload_identity_service_accounts": ["airflow-*"]},
     "cluster_access_workload_identity_service_accounts must list ServiceAccount names"),
    ("azure_identity_bad_name", "azure", {"cluster_access_manage": True, "cluster_access_azure_workload_identity_name": "id airflow"},
     "cluster_access_azure_workload_identity_name must be 3 to 128"),
    ("azure_identity_too_many_service_accounts", "azure", {"cluster_access_manage": True, "cluster_access_workload_identity_service_accounts":
                                                           ["sa-%d" % number for number in range(21)]}, "at most 20 federated credentials"),
    ("azure_identity_log_scope_not_a_storage_id", "azure", {"cluster_access_manage": True,
                                                            "cluster_access_azure_workload_identity_log_scope": "airflowlogs/airflow-logs"},
     "cluster_access_azure_workload_identity_log_scope must be the resource id of a storage account"),
    # TLS of the metadata connection: verify-full needs a CA that is PEM certificates, on a cloud, without PgBouncer.
    ("verify_full_on_local", "local", {"database_tls_mode": "verify-full"}, "database_tls_mode verify-full is for the clouds"),
    ("verify_full_without_a_ca", "gcp", {"database_tls_mode": "verify-full"}, "database_tls_mode verify-full needs the CA"),
    ("ca_is_a_private_key", "aws", {"database_tls_mode": "verify-full", "database_tls_ca_pem":
                                    "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % SECRET_SENTINEL},
     "database_tls_ca_pem must be PEM text holding only the CA certificate(s)"),
    ("ca_file_missing", "azure", {"database_tls_mode": "verify-full", "database_tls_ca_file": "/nonexistent/ca.pem"},
     "database_tls_ca_file must be a readable PEM file"),
    ("ca_url_not_https", "aws", {"database_tls_mode": "verify-full", "database_tls_ca_urls": ["http://example.com/ca.pem"]},
     "database_tls_ca_urls must be HTTPS URLs"),
    ("verify_full_with_pgbouncer", "azure", {"database_tls_mode": "verify-full", "pgbouncer_enabled": True},
     "database_tls_mode verify-full cannot be combined with pgbouncer_enabled"),
    ("verify_full_with_keda", "azure", {"database_tls_mode": "verify-full", "airflow_executor": "CeleryExecutor", "workers_keda_enabled": True},
     "database_tls_mode verify-full cannot be combined with workers_keda_enabled"),
]

# The only task that may run before the failure: the preflight (the airflow role, site.yml's first step).
PREFLIGHT_TASKS = ("airflow_k8s.cloud.airflow : Check every setting of the play's roles before anything changes",)


def _dag_folders(root):
    """Folders some cases name: {placeholder: path}."""
    oversized, empty = os.path.join(root, "oversized-dags"), os.path.join(root, "empty-dags")
    os.makedirs(oversized)
    os.makedirs(empty)
    with open(os.path.join(oversized, "big_dag.py"), "w", encoding="utf-8") as stream:
        stream.write("# padding\n" * 120000)  # 1.2 MB, over the 1 MiB of a ConfigMap
    with open(os.path.join(empty, ".hidden"), "w", encoding="utf-8") as stream:
        stream.write("excluded by dags_exclude's default\n")
    return {"{oversized_dags}": oversized, "{empty_dags}": empty}


@pytest.fixture(scope="module")
def failed_runs(tmp_path_factory):
    """Run every case, two at a time; {case id: (render folder, PlaybookRun)}."""
    root = str(tmp_path_factory.mktemp("validation"))
    folders = _dag_folders(root)
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for case_id, inventory, extra_vars, _variable in CASES:
            folder = os.path.join(root, case_id)
            extra_vars = dict((name, folders.get(value, value) if isinstance(value, str) else value) for name, value in extra_vars.items())
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
    ran = [line[len("TASK ["):line.index("]")] for line in run.output.splitlines() if line.startswith("TASK [")]
    assert all(task.startswith(PREFLIGHT_TASKS) for task in ran), "tasks ran before the preflight stopped the run: %s" % ran
    assert "before anything is changed" in failure, "not refused by the preflight:\n%s" % run.tail()
