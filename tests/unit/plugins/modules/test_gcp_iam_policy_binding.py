# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.gcp_iam_policy_binding`` module.

Real components: the module runs unmodified through ansible-core's real ``AnsibleModule``
(``run_module``: argument handling, check and diff mode) and makes real HTTP requests (``open_url``)
to ``tests/support/fake_gcp_iam.py``, a small HTTP server answering the IAM v1
``serviceAccounts.getIamPolicy``/``setIamPolicy`` and Cloud Storage ``buckets.getIamPolicy``/``setIamPolicy``
calls in the APIs' shapes (policy ``version``/``etag``/``bindings``, ``bindings`` left out when empty), with
their etag rule (a stale etag is refused: 409 on IAM, 412 on Storage) and their member validation. There is
no GCP here: the fake proves the requests, the read-modify-write, idempotence and check/diff mode, not IAM.
"""

from __future__ import annotations

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.modules import gcp_iam_policy_binding
from ansible_collections.airflow_k8s.cloud.tests.support.fake_gcp_iam import FakeGcpIam
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

TOKEN = "ya29.test-token-not-real"
PROJECT = "example-project"
ACCOUNT = "airflow-pods@example-project.iam.gserviceaccount.com"
WI_ROLE = "roles/iam.workloadIdentityUser"
KSAS = ["serviceAccount:example-project.svc.id.goog[airflow/airflow-scheduler]",
        "serviceAccount:example-project.svc.id.goog[airflow/airflow-task]"]
# What someone else granted on the account before the run: never to be removed.
OTHERS = [{"role": "roles/iam.serviceAccountUser", "members": ["user:alice@example.com"]},
          {"role": WI_ROLE, "members": ["serviceAccount:example-project.svc.id.goog[monitoring/agent]"]},
          {"role": WI_ROLE, "members": ["group:oncall@example.com"],
           "condition": {"title": "office-hours", "expression": "request.time.getHours('Europe/Berlin') < 18"}}]
SA_PATH = "/v1/projects/example-project/serviceAccounts/%s" % ACCOUNT


@pytest.fixture
def iam():
    with FakeGcpIam(token=TOKEN) as fake:
        fake.add_service_account(PROJECT, ACCOUNT, bindings=OTHERS)
        fake.add_bucket("airflow-logs", bindings=[{"role": "roles/storage.legacyBucketOwner",
                                                   "members": ["projectOwner:example-project"]}])
        yield fake


def args(iam, **overrides):
    base = {"project": PROJECT, "auth_kind": "accesstoken", "access_token": TOKEN, "api_endpoint": iam.url,
            "resource_type": "service_account", "resource": ACCOUNT, "role": WI_ROLE, "members": KSAS}
    base.update(overrides)
    return base


def test_grants_the_role_with_the_read_etag_and_keeps_every_other_binding(iam):
    etag = iam.policies[("sa", ACCOUNT)]["etag"]
    result, failed = run_module(gcp_iam_policy_binding, args(iam))
    assert not failed, result
    assert result["changed"] and result["added"] == KSAS and result["removed"] == []
    [read, write] = iam.requests
    assert read == ("POST", SA_PATH + ":getIamPolicy?options.requestedPolicyVersion=3", None)
    assert write[:2] == ("POST", SA_PATH + ":setIamPolicy")
    assert write[2]["policy"]["etag"] == etag
    # Someone else's member of the role, their other role and their conditional grant are all still there.
    assert iam.members("sa", ACCOUNT, WI_ROLE) == ["serviceAccount:example-project.svc.id.goog[monitoring/agent]"] + KSAS
    bindings = iam.policies[("sa", ACCOUNT)]["bindings"]
    assert OTHERS[0] in bindings and OTHERS[2] in bindings
    assert result["members"] == iam.members("sa", ACCOUNT, WI_ROLE)
    assert result["etag"] == iam.policies[("sa", ACCOUNT)]["etag"] != etag


def test_a_second_run_reads_and_writes_nothing(iam):
    run_module(gcp_iam_policy_binding, args(iam))
    del iam.requests[:]
    result, failed = run_module(gcp_iam_policy_binding, args(iam))
    assert not failed and not result["changed"], result
    assert result["added"] == [] and not iam.writes()


def test_a_concurrent_change_is_kept_and_the_write_is_retried(iam):
    """Between the module's read and its write another administrator adds a binding: the API refuses
    the stale etag (409), the module reads again and writes both."""
    iam.interfere.append(lambda policy: policy["bindings"].append({"role": "roles/iam.serviceAccountTokenCreator",
                                                                   "members": ["user:bob@example.com"]}))
    result, failed = run_module(gcp_iam_policy_binding, args(iam))
    assert not failed and result["changed"], result
    assert [path.split(":")[-1].split("?")[0] for _method, path, _body in iam.requests] == [
        "getIamPolicy", "setIamPolicy", "getIamPolicy", "setIamPolicy"]
    roles = [binding["role"] for binding in iam.policies[("sa", ACCOUNT)]["bindings"]]
    assert "roles/iam.serviceAccountTokenCreator" in roles
    assert set(KSAS) <= set(iam.members("sa", ACCOUNT, WI_ROLE))


def test_gives_up_after_max_attempts_of_conflicts(iam):
    for _attempt in range(2):
        iam.interfere.append(lambda policy: policy.setdefault("bindings", []).append(
            {"role": "roles/viewer", "members": ["user:carol@example.com"]}))
    result, failed = run_module(gcp_iam_policy_binding, args(iam, max_attempts=1))
    assert failed and "kept changing" in result["msg"] and ACCOUNT in result["msg"], result


def test_absent_removes_exactly_the_named_members(iam):
    run_module(gcp_iam_policy_binding, args(iam))
    result, failed = run_module(gcp_iam_policy_binding, args(iam, state="absent", members=KSAS[:1]))
    assert not failed and result["changed"] and result["removed"] == KSAS[:1], result
    assert iam.members("sa", ACCOUNT, WI_ROLE) == ["serviceAccount:example-project.svc.id.goog[monitoring/agent]", KSAS[1]]
    # The conditional binding of the same role is another grant: untouched.
    assert OTHERS[2] in iam.policies[("sa", ACCOUNT)]["bindings"]


def test_a_binding_left_without_members_is_dropped(iam):
    result, failed = run_module(gcp_iam_policy_binding, args(iam, role="roles/iam.serviceAccountUser", state="absent",
                                                             members=["user:alice@example.com"]))
    assert not failed and result["changed"], result
    assert "roles/iam.serviceAccountUser" not in [binding["role"] for binding in iam.policies[("sa", ACCOUNT)]["bindings"]]


def test_check_mode_reports_the_change_with_a_diff_and_writes_nothing(iam):
    result, failed = run_module(gcp_iam_policy_binding, args(iam), check_mode=True, diff=True)
    assert not failed and result["changed"], result
    assert not iam.writes()
    assert result["diff"]["before"] == {WI_ROLE: ["serviceAccount:example-project.svc.id.goog[monitoring/agent]"]}
    assert result["diff"]["after"] == {WI_ROLE: sorted(["serviceAccount:example-project.svc.id.goog[monitoring/agent]"] + KSAS)}


def test_check_mode_on_an_account_still_to_be_created_reports_a_change(iam):
    result, failed = run_module(gcp_iam_policy_binding, args(iam, resource="new-one@example-project.iam.gserviceaccount.com"),
                                check_mode=True)
    assert not failed and result["changed"] and result["added"] == KSAS, result


def test_a_missing_account_fails_naming_it(iam):
    missing = "nobody-here@example-project.iam.gserviceaccount.com"
    result, failed = run_module(gcp_iam_policy_binding, args(iam, resource=missing, not_found_timeout=0))
    assert failed and missing in result["msg"] and "not found" in result["msg"], result


def test_a_member_of_another_projects_pool_is_refused_by_the_api(iam):
    result, failed = run_module(gcp_iam_policy_binding,
                                args(iam, members=["serviceAccount:other-project.svc.id.goog[airflow/airflow-task]"]))
    assert failed and "HTTP 400" in result["msg"] and "Identity Pool does not exist" in result["msg"], result


def test_bucket_policy_uses_the_storage_api_and_its_412(iam):
    member = "serviceAccount:%s" % ACCOUNT
    iam.interfere.append(lambda policy: policy["bindings"].append({"role": "roles/storage.objectViewer",
                                                                   "members": ["user:dave@example.com"]}))
    result, failed = run_module(gcp_iam_policy_binding, args(iam, resource_type="storage_bucket", resource="airflow-logs",
                                                             role="roles/storage.objectAdmin", members=[member]))
    assert not failed and result["changed"], result
    assert [(method, path.split("?")[0]) for method, path, _body in iam.requests] == [
        ("GET", "/storage/v1/b/airflow-logs/iam"), ("PUT", "/storage/v1/b/airflow-logs/iam")] * 2
    assert iam.requests[0][1].endswith("?optionsRequestedPolicyVersion=3")
    assert iam.members("bucket", "airflow-logs", "roles/storage.objectAdmin") == [member]
    assert iam.members("bucket", "airflow-logs", "roles/storage.objectViewer") == ["user:dave@example.com"]
    assert iam.members("bucket", "airflow-logs", "roles/storage.legacyBucketOwner") == ["projectOwner:example-project"]


@pytest.mark.parametrize("policy, expected", [
    ({"etag": "ACAB"}, [{"role": WI_ROLE, "members": ["a"]}]),
    ({"etag": "x", "bindings": [{"role": WI_ROLE, "members": ["b"]}, {"role": WI_ROLE, "members": ["c"]}]},
     [{"role": WI_ROLE, "members": ["b", "c", "a"]}]),
], ids=["empty-policy", "two-unconditional-bindings-folded"])
def test_merge_members(policy, expected):
    new, added, removed = gcp_iam_policy_binding.merge_members(policy, WI_ROLE, ["a"], "present")
    assert new["bindings"] == expected and added == ["a"] and removed == []
    assert new["etag"] == policy["etag"]
