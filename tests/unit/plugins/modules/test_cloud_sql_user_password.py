# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.cloud_sql_user_password`` module.

Real components: the module runs unmodified through ansible-core's real ``AnsibleModule``
(``run_module``, including its ``no_log`` masking) and makes real HTTP requests (``open_url``) to
``tests/support/fake_cloud_sql.py``, a small HTTP server that answers the three Cloud SQL Admin v1
REST calls the module makes (users.get, users.update, operations.get) and checks the bearer token.
There is no Cloud SQL here: the fake proves the module's requests, check mode, secrecy and error
handling, not Cloud SQL's behaviour.
"""

from __future__ import annotations

import functools
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import gcp_rest
from ansible_collections.airflow_k8s.cloud.plugins.modules import cloud_sql_user_password
from ansible_collections.airflow_k8s.cloud.tests.support.fake_cloud_sql import FakeCloudSql
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

TOKEN = "ya29.test-token-not-real"
NEW_PASSWORD = "n3w-Pa55word-that-must-never-leak"
USER = ("proj", "airflow-db", "airflow", "")


@pytest.fixture
def sql(monkeypatch):
    # The real polling loop, with a short pause between polls instead of 5 s.
    monkeypatch.setattr(gcp_rest, "wait_for_operation",
                        functools.partial(gcp_rest.wait_for_operation, interval=0.01))
    with FakeCloudSql(token=TOKEN, polls_until_done=3) as fake:
        fake.add_user(*USER)
        yield fake


def args(sql, **overrides):
    base = {"project": "proj", "instance": "airflow-db", "name": "airflow", "password": NEW_PASSWORD,
            "auth_kind": "accesstoken", "access_token": TOKEN, "api_endpoint": sql.url}
    base.update(overrides)
    return base


def puts(sql):
    return [request for request in sql.requests if request[0] == "PUT"]


def operation_polls(sql):
    return [path for method, path, _body in sql.requests if method == "GET" and "/operations/" in path]


def test_sends_the_password_with_the_right_query_and_waits_for_the_operation(sql):
    result, failed = run_module(cloud_sql_user_password, args(sql))
    assert not failed, result
    assert result["changed"] and result["user"] == "airflow" and result["instance"] == "airflow-db"
    [(_method, path, body)] = puts(sql)
    url = urlsplit(path)
    assert url.path == "/v1/projects/proj/instances/airflow-db/users"
    assert parse_qs(url.query, keep_blank_values=True) == {"name": ["airflow"], "host": [""]}
    assert body == {"name": "airflow", "password": NEW_PASSWORD}
    assert sql.passwords[USER] == NEW_PASSWORD
    # The user is looked up before anything is sent.
    assert urlsplit(sql.requests[0][1]).path == "/v1/projects/proj/instances/airflow-db/users/airflow"
    # PENDING -> RUNNING, RUNNING -> DONE: three polls of the operation the PUT returned.
    assert result["operation"]["status"] == "DONE"
    assert operation_polls(sql) == ["/v1/projects/proj/operations/%s" % result["operation"]["name"]] * 3


def test_without_wait_returns_the_pending_operation(sql):
    result, failed = run_module(cloud_sql_user_password, args(sql, wait=False))
    assert not failed and result["changed"] and result["operation"]["status"] == "PENDING"
    assert operation_polls(sql) == []
    assert sql.passwords[USER] == NEW_PASSWORD


def test_check_mode_reports_changed_but_sends_no_password(sql):
    result, failed = run_module(cloud_sql_user_password, args(sql), check_mode=True)
    assert not failed and result["changed"], result
    assert puts(sql) == [] and "operation" not in result
    assert sql.passwords[USER] == "initial-password"
    assert all(NEW_PASSWORD not in json.dumps(request) for request in sql.requests)


def test_unknown_user_fails_with_its_name_and_instance(sql):
    result, failed = run_module(cloud_sql_user_password, args(sql, name="nobody"))
    assert failed and "nobody" in result["msg"] and "airflow-db" in result["msg"] and "not found" in result["msg"]
    assert puts(sql) == []


def test_unknown_user_fails_in_check_mode_too(sql):
    result, failed = run_module(cloud_sql_user_password, args(sql, instance="other-db"), check_mode=True)
    assert failed and "airflow" in result["msg"] and "other-db" in result["msg"]


def test_the_password_never_appears_in_the_result(sql):
    for check_mode in (False, True):
        result, failed = run_module(cloud_sql_user_password, args(sql), check_mode=check_mode)
        assert not failed
        assert NEW_PASSWORD not in json.dumps(result)


def test_the_password_never_appears_in_a_failure(sql):
    sql.operation_error = "Internal error while setting the password"
    result, failed = run_module(cloud_sql_user_password, args(sql))
    assert failed and "Internal error while setting the password" in result["msg"], result
    assert NEW_PASSWORD not in json.dumps(result)


def test_wrong_token_fails_cleanly_without_echoing_it(sql):
    result, failed = run_module(cloud_sql_user_password, args(sql, access_token="wrong-secret-token"))
    assert failed and "401" in result["msg"]
    assert "wrong-secret-token" not in json.dumps(result) and NEW_PASSWORD not in json.dumps(result)
    assert puts(sql) == [] and sql.passwords[USER] == "initial-password"


def test_empty_password_is_refused_before_any_request(sql):
    result, failed = run_module(cloud_sql_user_password, args(sql, password=""))
    assert failed and "password" in result["msg"]
    assert sql.requests == []


def test_user_names_and_hosts_are_escaped(sql):
    sql.add_user("proj", "mysql-db", "svc@example.com", host="%")
    result, failed = run_module(cloud_sql_user_password,
                                args(sql, instance="mysql-db", name="svc@example.com", host="%"))
    assert not failed, result
    assert sql.passwords[("proj", "mysql-db", "svc@example.com", "%")] == NEW_PASSWORD
    [(_method, path, _body)] = puts(sql)
    assert parse_qs(urlsplit(path).query) == {"name": ["svc@example.com"], "host": ["%"]}


def test_credentials_come_from_the_gcp_environment(sql, monkeypatch):
    monkeypatch.setenv("GCP_AUTH_KIND", "accesstoken")
    monkeypatch.setenv("GCP_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("GCP_PROJECT", "proj")
    result, failed = run_module(cloud_sql_user_password, {"instance": "airflow-db", "name": "airflow",
                                                          "password": NEW_PASSWORD, "api_endpoint": sql.url})
    assert not failed and result["changed"], result
    assert sql.passwords[USER] == NEW_PASSWORD


def test_password_is_required(sql):
    result, failed = run_module(cloud_sql_user_password, {k: v for k, v in args(sql).items() if k != "password"})
    assert failed and "password" in result["msg"]
    assert sql.requests == []
