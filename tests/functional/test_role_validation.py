# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad inventory values fail in the preflight, before anything is written or called, naming the variable.

Real components: ``ansible-playbook`` from the checkout's .venv with the real site.yml, roles and
preflight (the airflow role's only task, plugins/action/preflight.py: the argument spec and
``<role>_rules`` of every role the play imports), on the local and the cloud inventories (render
mode; the cloud ones with their no-cloud overrides, and with ``database_manage`` or
``cluster_access_manage`` turned on again where a case checks the settings of what a run would
provision). Nothing is faked.

The proof is split in two, with a control, because a run of site.yml that the preflight stops is
almost all ansible-playbook starting and loading the 24 roles (about 1 s of CPU) around the preflight
itself (about 0.25 s): one site.yml run per case cost 140 s of CPU (over a minute of a 2-core machine)
for the same checks, while one run for many cases pays the start once and then about 0.35 s a case.

1. ``test_site_yml_stops_before_anything_is_written`` (SITE_RUNS: a case of each inventory, among them
   cases whose bad value is a secret): ``site.yml`` exactly as a user runs it, the bad value as an extra
   variable. The run must fail, with a message that names the variable and says "before anything is
   changed"; no task but the preflight ran (so no cloud call, no API request and no file written:
   nothing else had a chance to); no manifest in the render folder; no secret value in the output.
   This proves, end to end, that the preflight is site.yml's first task and stops the run.

2. ``test_preflight_refuses_the_value`` (every case, SITE_RUNS too): a few ansible-playbook runs (per
   inventory, at most CASES_PER_RUN cases each) of a playbook generated from site.yml itself (parsed,
   not copied): site.yml's play header, then for each case an ``import_role`` of the airflow role with
   the case's values as ``vars:`` and ``ignore_errors``, then ``meta: end_play``, then site.yml's tasks
   unchanged. The play imports the same roles as site.yml, so each preflight checks exactly what it
   checks there (the control below proves it by the roles the preflight reports). Each case's own
   preflight result (the JSON stdout callback: every task's result in the order the tasks ran; nothing
   but the preflights may have run) must be failed, name the variable and say "before anything is
   changed"; no secret value anywhere in the run's output. Precedence (ansible-core's VariableManager):
   an ``import_role``'s ``vars:`` are the task variables of the tasks it imports (and the ``vars`` of
   that role instance), above the inventory, play variables and role variables, below
   set_fact/include_vars (nothing sets any before the preflight) and extra variables. So the no-cloud
   overrides are the play's ``vars_files`` here (as extra variables they would beat a case's
   ``database_manage: true`` or its bad ``storage_efs_file_system_id``), and each case's values win as
   its extra variables win in its own site.yml run: that each case fails for the reason it names checks
   it. The generated playbook is private JSON, like the runner's extra-vars files. Its ``playbook_dir``
   is a temporary folder: only the defaults of the kubeconfig path and of the render folder follow it,
   and the render folder is set.

3. ``test_preflight_passes_without_a_bad_value`` (control, each generated run): after the cases, the
   playbook imports the role once more without vars; that preflight must pass and report site.yml's
   roles. A preflight that refuses everything, or a case's value that leaks into a later import, fails
   this test.
"""

import concurrent.futures
import json
import os
import re

import pytest
import yaml

from tests.support import manifests, playbook

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

# Cases that also run site.yml end to end: a case of each inventory; those of the local and the cloud
# inventories whose bad value is a secret (the sentinel); the Azure one turns the database's provisioning on.
SITE_RUNS = ("bad_fernet_key", "ca_is_a_private_key", "azure_pgbouncer_on_burstable", "database_host_as_url_with_password")

SITE_YML = os.path.join(manifests.REPOSITORY_ROOT, "site.yml")
PREFLIGHT_ROLE = "airflow_k8s.cloud.airflow"
# The only task that may run before the failure: the preflight (the airflow role, site.yml's first step).
PREFLIGHT_TASK = "airflow_k8s.cloud.airflow : Check every setting of the play's roles before anything changes"
# At most this many cases in one run of a generated playbook: the local inventory's cases in two runs,
# so that the two runs at a time take about as long as each other.
CASES_PER_RUN = 45


def _rule_runs():
    """``[(name, inventory, cases)]``: the runs of generated playbooks; each case in exactly one."""
    runs = []
    for inventory in manifests.INVENTORIES:
        cases = [case for case in CASES if case[1] == inventory]
        size = -(-len(cases) // -(-len(cases) // CASES_PER_RUN))
        chunks = [cases[start:start + size] for start in range(0, len(cases), size)]
        runs.extend(("%s-%d" % (inventory, number), inventory, chunk) for number, chunk in enumerate(chunks, 1))
    return runs


RULE_RUNS = _rule_runs()


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


def _values(extra_vars, folders):
    """A case's values with the folder placeholders replaced by the folders."""
    return dict((name, folders.get(value, value) if isinstance(value, str) else value) for name, value in extra_vars.items())


def _site_play():
    """site.yml's one play, checked to be of the shape the generated playbook relies on."""
    with open(SITE_YML, encoding="utf-8") as stream:
        plays = yaml.safe_load(stream)
    assert len(plays) == 1, "site.yml has %d plays; the generated playbook follows one" % len(plays)
    play = plays[0]
    # Nothing may run before the tasks (pre_tasks, roles), nor variables be loaded relative to site.yml's folder.
    unexpected = sorted(set(play) & {"pre_tasks", "roles", "vars_files"})
    assert not unexpected, "site.yml's play has %s: the generated playbook does not follow them" % unexpected
    first = play["tasks"][0].get("ansible.builtin.import_role") or {}
    assert first.get("name") == PREFLIGHT_ROLE, "site.yml's first task is not the import of %s: %s" % (PREFLIGHT_ROLE, play["tasks"][0])
    return play


def _site_roles(play):
    """The collection roles site.yml imports, short names: what the preflight must report it checked."""
    names = [task["ansible.builtin.import_role"]["name"] for task in play["tasks"] if "ansible.builtin.import_role" in task]
    return sorted(set(name.split(".")[-1] for name in names))


def _preflight_import(name, values=None):
    task = {"name": name, "ansible.builtin.import_role": {"name": PREFLIGHT_ROLE, "rolespec_validate": False}, "ignore_errors": True}
    if values is not None:
        task["vars"] = values
    return task


def _rule_playbook(path, inventory, cases, folders, render_dir):
    """Write the playbook that checks ``cases`` (of ``inventory``) in one run to ``path``.

    JSON (which is YAML), private like the runner's extra-vars files: it holds the cases' secret values."""
    site = _site_play()
    play = dict((key, value) for key, value in site.items() if key != "tasks")
    play["vars"] = dict(site.get("vars") or {}, sink_render_dir=render_dir)
    no_cloud = os.path.join(manifests.REPOSITORY_ROOT, "tests", "functional", "vars", "no_cloud_%s.yml" % inventory)
    if os.path.exists(no_cloud):
        play["vars_files"] = [no_cloud]
    checks = [_preflight_import("Case %s" % case_id, _values(extra_vars, folders)) for case_id, _inventory, extra_vars, _variable in cases]
    checks.append(_preflight_import("Control: no bad value, after the cases"))
    play["tasks"] = checks + [{"name": "Nothing past the preflights", "ansible.builtin.meta": "end_play"}] + site["tasks"]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump([play], stream, indent=1)


class RuleRun(object):
    """The run of one generated playbook: ``run`` (PlaybookRun), ``render_dir``, ``cases``."""

    def __init__(self, run, render_dir, cases):
        self.run, self.render_dir, self.cases = run, render_dir, cases
        self._results = None

    def results(self):
        """The preflight's result of each import, in the order they ran: each case's, then the control's.
        Asserts that nothing but those preflights ran, each on the one host."""
        if self._results is None:
            assert self.run.returncode == 0, "the generated playbook failed (exit code %d):\n%s" % (self.run.returncode, self.run.tail())
            tasks = [task for play in self.run.json_report()["plays"] for task in play["tasks"] if task["hosts"]]
            ran = [task["task"]["name"] for task in tasks]
            assert ran == [PREFLIGHT_TASK] * (len(self.cases) + 1), "not the %d preflights, only they: %s" % (len(self.cases) + 1, ran)
            assert all(len(task["hosts"]) == 1 for task in tasks), "the inventory has several hosts: %s" % tasks[0]["hosts"]
            self._results = [next(iter(task["hosts"].values())) for task in tasks]
        return self._results

    def result_of(self, case_id):
        return self.results()[[case[0] for case in self.cases].index(case_id)]

    def control(self):
        return self.results()[-1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every run, two at a time: ``{"rules": {run name: RuleRun}, "site": {case id: (render folder, PlaybookRun)}}``."""
    root = str(tmp_path_factory.mktemp("validation"))
    folders = _dag_folders(root)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        rules = {}
        # The longest first.
        for name, inventory, cases in sorted(RULE_RUNS, key=lambda run: -len(run[2])):
            render_dir, path = os.path.join(root, "render-%s" % name), os.path.join(root, "validate-%s.json" % name)
            _rule_playbook(path, inventory, cases, folders, render_dir)
            future = pool.submit(playbook.run_playbook, path, inventory=os.path.join("inventories", inventory), env=playbook.JSON_CALLBACK)
            rules[name] = (render_dir, cases, future)
        site = {}
        for case_id, inventory, extra_vars, _variable in [case for case in CASES if case[0] in SITE_RUNS]:
            render_dir = os.path.join(root, "render-site-%s" % case_id)
            site[case_id] = (render_dir, pool.submit(manifests.run_playbook, inventory, render_dir, extra_vars=_values(extra_vars, folders)))
        return {"rules": dict((name, RuleRun(future.result(), render_dir, cases)) for name, (render_dir, cases, future) in rules.items()),
                "site": dict((case_id, (render_dir, future.result())) for case_id, (render_dir, future) in site.items())}


def _written(render_dir):
    return manifests.manifest_files(render_dir) if os.path.isdir(render_dir) else []


@pytest.mark.parametrize("case_id, inventory, extra_vars, variable", CASES, ids=[case[0] for case in CASES])
def test_preflight_refuses_the_value(runs, case_id, inventory, extra_vars, variable):
    name = [run[0] for run in RULE_RUNS if case_id in [case[0] for case in run[2]]][0]
    rules = runs["rules"][name]
    result = rules.result_of(case_id)
    message = result.get("msg") or ""
    assert result.get("failed") is True, "the preflight on inventories/%s accepted %s: %s" % (inventory, extra_vars, message)
    assert variable in message, "the failure does not name %s:\n%s" % (variable, message)
    assert "before anything is changed" in message, "not refused by the preflight:\n%s" % message
    assert SECRET_SENTINEL not in rules.run.output, "a secret value was echoed in the output of the run %s" % name


@pytest.mark.parametrize("name", [run[0] for run in RULE_RUNS])
def test_preflight_passes_without_a_bad_value(runs, name):
    rules = runs["rules"][name]
    control = rules.control()
    assert not control.get("failed"), "the preflight without a bad value (after the cases) failed:\n%s" % control.get("msg")
    assert re.match(r"^\d+ roles and \d+ rules checked$", control.get("msg") or ""), control.get("msg")
    assert sorted(control["roles"]) == _site_roles(_site_play()), "the preflight did not check site.yml's roles: %s" % control["roles"]
    assert [bool(result.get("failed")) for result in rules.results()] == [True] * len(rules.cases) + [False]
    stats = rules.run.json_report()["stats"]
    assert all(counters.get("changed") == 0 for counters in stats.values()), stats
    assert not _written(rules.render_dir), "manifests were written: %s" % _written(rules.render_dir)


@pytest.mark.parametrize("case_id, inventory, extra_vars, variable", [case for case in CASES if case[0] in SITE_RUNS],
                         ids=[case[0] for case in CASES if case[0] in SITE_RUNS])
def test_site_yml_stops_before_anything_is_written(runs, case_id, inventory, extra_vars, variable):
    folder, run = runs["site"][case_id]
    assert run.returncode != 0, "site.yml -i inventories/%s accepted %s:\n%s" % (inventory, extra_vars, run.tail())
    failure = run.output[run.output.find("fatal:"):] if "fatal:" in run.output else run.output
    assert variable in failure, "the failure does not name %s:\n%s" % (variable, run.tail())
    assert not _written(folder), "manifests were written before the failure: %s" % _written(folder)
    assert SECRET_SENTINEL not in run.output, "a secret value was echoed in the failure output"
    ran = [line[len("TASK ["):line.index("]")] for line in run.output.splitlines() if line.startswith("TASK [")]
    assert ran and all(task == PREFLIGHT_TASK for task in ran), "tasks ran before the preflight stopped the run: %s" % ran
    assert "before anything is changed" in failure, "not refused by the preflight:\n%s" % run.tail()


def test_the_runs_cover_every_case_and_inventory():
    """Each case is checked in exactly one generated run; site.yml runs end to end for a case of each
    inventory, and for one whose bad value is the secret sentinel."""
    checked = [case[0] for _name, _inventory, cases in RULE_RUNS for case in cases]
    assert sorted(checked) == sorted(case[0] for case in CASES) and len(set(checked)) == len(CASES)
    by_id = dict((case[0], case) for case in CASES)
    assert set(SITE_RUNS) <= set(by_id), set(SITE_RUNS) - set(by_id)
    assert set(by_id[case_id][1] for case_id in SITE_RUNS) == set(manifests.INVENTORIES)
    assert any(SECRET_SENTINEL in json.dumps(by_id[case_id][2]) for case_id in SITE_RUNS)
