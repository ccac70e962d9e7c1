# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.cloud_sql_instance_protection`` module.

Real components: the module runs unmodified through ansible-core's real ``AnsibleModule``
(``run_module``: argument handling, check and diff mode) and makes real HTTP requests (``open_url``)
to ``tests/support/fake_cloud_sql.py``, a small HTTP server that answers the Cloud SQL Admin v1
REST calls the module makes (instances.get, instances.patch, operations.get), checks the bearer
token and refuses a PATCH carrying anything but ``settings.deletionProtectionEnabled`` and
``settings.ipConfiguration.sslMode``/``requireSsl`` (or a contradictory pair of those). There is no
Cloud SQL here: the fake proves the module's requests, idempotence, check/diff mode and error
handling, not Cloud SQL's behaviour.
"""

from __future__ import annotations

import functools

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import gcp_rest
from ansible_collections.airflow_k8s.cloud.plugins.modules import cloud_sql_instance_protection
from ansible_collections.airflow_k8s.cloud.tests.support.fake_cloud_sql import FakeCloudSql
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

TOKEN = "ya29.test-token-not-real"
INSTANCE = ("proj", "airflow-db")
INSTANCE_PATH = "/v1/projects/proj/instances/airflow-db"


@pytest.fixture
def sql(monkeypatch):
    # The real polling loop, with a short pause between polls instead of 5 s.
    monkeypatch.setattr(gcp_rest, "wait_for_operation",
                        functools.partial(gcp_rest.wait_for_operation, interval=0.01))
    with FakeCloudSql(token=TOKEN, polls_until_done=3) as fake:
        fake.add_instance(*INSTANCE, deletion_protection=False)
        yield fake


def args(sql, **overrides):
    base = {"project": "proj", "instance": "airflow-db", "auth_kind": "accesstoken", "access_token": TOKEN,
            "api_endpoint": sql.url}
    base.update(overrides)
    return base


def patches(sql):
    return [request for request in sql.requests if request[0] == "PATCH"]


def operation_polls(sql):
    return [path for method, path, _body in sql.requests if method == "GET" and "/operations/" in path]


def test_turns_protection_on_by_default_and_waits_for_the_operation(sql):
    result, failed = run_module(cloud_sql_instance_protection, args(sql))
    assert not failed, result
    assert result["changed"] and result["deletion_protection"] is True
    assert result["previous_deletion_protection"] is False and result["instance"] == "airflow-db"
    assert patches(sql) == [("PATCH", INSTANCE_PATH, {"settings": {"deletionProtectionEnabled": True}})]
    assert sql.protection[INSTANCE] is True
    # The instance is read before anything is sent.
    assert sql.requests[0][:2] == ("GET", INSTANCE_PATH)
    # PENDING -> RUNNING, RUNNING -> DONE: three polls of the operation the PATCH returned.
    assert result["operation"]["status"] == "DONE" and result["operation"]["operationType"] == "UPDATE"
    assert operation_polls(sql) == ["/v1/projects/proj/operations/%s" % result["operation"]["name"]] * 3


def test_a_second_run_changes_nothing_and_sends_no_patch(sql):
    first, failed = run_module(cloud_sql_instance_protection, args(sql))
    assert not failed and first["changed"]
    del sql.requests[:]
    second, failed = run_module(cloud_sql_instance_protection, args(sql, deletion_protection=True))
    assert not failed and not second["changed"], second
    assert second["deletion_protection"] is True and second["previous_deletion_protection"] is True
    assert "operation" not in second
    assert [method for method, _path, _body in sql.requests] == ["GET"]


def test_check_mode_reports_the_change_but_sends_nothing(sql):
    result, failed = run_module(cloud_sql_instance_protection, args(sql), check_mode=True)
    assert not failed and result["changed"], result
    assert result["deletion_protection"] is True and result["previous_deletion_protection"] is False
    assert patches(sql) == [] and operation_polls(sql) == [] and "operation" not in result
    assert sql.protection[INSTANCE] is False


def test_turns_protection_off(sql):
    sql.protection[INSTANCE] = True
    result, failed = run_module(cloud_sql_instance_protection, args(sql, deletion_protection=False))
    assert not failed and result["changed"], result
    assert result["deletion_protection"] is False and result["previous_deletion_protection"] is True
    assert patches(sql) == [("PATCH", INSTANCE_PATH, {"settings": {"deletionProtectionEnabled": False}})]
    assert sql.protection[INSTANCE] is False
    again, failed = run_module(cloud_sql_instance_protection, args(sql, deletion_protection=False))
    assert not failed and not again["changed"] and len(patches(sql)) == 1


def test_unknown_instance_fails_with_its_name_and_project(sql):
    for check_mode in (False, True):
        result, failed = run_module(cloud_sql_instance_protection, args(sql, instance="other-db"), check_mode=check_mode)
        assert failed and "other-db" in result["msg"] and "proj" in result["msg"] and "not found" in result["msg"], result
    assert patches(sql) == []


def test_diff_shows_the_setting_before_and_after(sql):
    result, failed = run_module(cloud_sql_instance_protection, args(sql), check_mode=True, diff=True)
    assert not failed, result
    assert result["diff"]["before"] == {"deletionProtectionEnabled": False}
    assert result["diff"]["after"] == {"deletionProtectionEnabled": True}
    result, failed = run_module(cloud_sql_instance_protection, args(sql), diff=True)
    assert not failed and result["changed"] and result["diff"]["after"] == {"deletionProtectionEnabled": True}
    result, failed = run_module(cloud_sql_instance_protection, args(sql), diff=True)
    assert not failed and not result["changed"]
    assert result["diff"]["before"] == result["diff"]["after"] == {"deletionProtectionEnabled": True}


def test_a_failed_operation_fails_the_module(sql):
    sql.operation_error = "Internal error while patching the instance"
    result, failed = run_module(cloud_sql_instance_protection, args(sql))
    assert failed and "Internal error while patching the instance" in result["msg"], result


def test_wrong_token_fails_cleanly_without_echoing_it(sql):
    result, failed = run_module(cloud_sql_instance_protection, args(sql, access_token="wrong-secret-token"))
    assert failed and "401" in result["msg"]
    assert "wrong-secret-token" not in str(result)
    assert patches(sql) == [] and sql.protection[INSTANCE] is False


def test_credentials_come_from_the_gcp_environment(sql, monkeypatch):
    monkeypatch.setenv("GCP_AUTH_KIND", "accesstoken")
    monkeypatch.setenv("GCP_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("GCP_PROJECT", "proj")
    result, failed = run_module(cloud_sql_instance_protection, {"instance": "airflow-db", "api_endpoint": sql.url})
    assert not failed and result["changed"], result
    assert sql.protection[INSTANCE] is True


# --- ssl_mode: TLS without client certificates --------------------------------------------------

def test_ssl_mode_encrypted_only_replaces_the_client_certificate_requirement(sql):
    """An instance created with requireSsl=true demands client certificates; ENCRYPTED_ONLY is sent
    as sslMode, with requireSsl false (never true), in one PATCH together with the protection."""
    sql.ssl[INSTANCE] = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    result, failed = run_module(cloud_sql_instance_protection, args(sql, ssl_mode="ENCRYPTED_ONLY"))
    assert not failed, result
    assert result["changed"] and result["ssl_mode"] == "ENCRYPTED_ONLY"
    assert result["previous_ssl_mode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    [(_method, path, body)] = patches(sql)
    assert path == INSTANCE_PATH
    assert body == {"settings": {"deletionProtectionEnabled": True,
                                 "ipConfiguration": {"sslMode": "ENCRYPTED_ONLY", "requireSsl": False}}}
    assert sql.ssl[INSTANCE] == "ENCRYPTED_ONLY"
    result, failed = run_module(cloud_sql_instance_protection, args(sql, ssl_mode="ENCRYPTED_ONLY"))
    assert not failed and not result["changed"], result
    assert len(patches(sql)) == 1


def test_an_instance_reporting_only_require_ssl_is_read_as_needing_client_certificates():
    """Older instances report requireSsl without sslMode."""
    assert cloud_sql_instance_protection.live_ssl_mode({"requireSsl": True}) == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    assert cloud_sql_instance_protection.live_ssl_mode({}) == "ALLOW_UNENCRYPTED_AND_ENCRYPTED"
    assert cloud_sql_instance_protection.live_ssl_mode({"requireSsl": True, "sslMode": "ENCRYPTED_ONLY"}) == "ENCRYPTED_ONLY"


def test_without_ssl_mode_the_tls_setting_is_left_alone(sql):
    sql.ssl[INSTANCE] = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    sql.protection[INSTANCE] = True
    result, failed = run_module(cloud_sql_instance_protection, args(sql, deletion_protection=False), diff=True)
    assert not failed, result
    [(_method, _path, body)] = patches(sql)
    assert body == {"settings": {"deletionProtectionEnabled": False}}
    assert "sslMode" not in result["diff"]["after"]
    assert sql.ssl[INSTANCE] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"


def test_ssl_mode_in_check_mode_reports_and_sends_nothing(sql):
    sql.protection[INSTANCE] = True
    result, failed = run_module(cloud_sql_instance_protection, args(sql, ssl_mode="ENCRYPTED_ONLY"), check_mode=True, diff=True)
    assert not failed and result["changed"], result
    assert result["diff"]["before"]["sslMode"] == "ALLOW_UNENCRYPTED_AND_ENCRYPTED"
    assert result["diff"]["after"]["sslMode"] == "ENCRYPTED_ONLY"
    assert not patches(sql)


def test_the_fake_refuses_require_ssl_true_with_encrypted_only(sql):
    """The harness can fail: the contradictory combination Cloud SQL refuses is refused here too."""
    from ansible_collections.airflow_k8s.cloud.tests.support.fake_cloud_sql import _patch_problem
    assert _patch_problem({"settings": {"ipConfiguration": {"sslMode": "ENCRYPTED_ONLY", "requireSsl": True}}})
    assert _patch_problem({"settings": {"ipConfiguration": {"sslMode": "SOMETIMES"}}})
    assert _patch_problem({"settings": {"tier": "db-f1-micro"}})
    assert not _patch_problem({"settings": {"ipConfiguration": {"sslMode": "ENCRYPTED_ONLY", "requireSsl": False}}})
