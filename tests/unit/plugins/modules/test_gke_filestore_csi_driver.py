# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.gke_filestore_csi_driver`` module.

Real components: the module runs unmodified through ansible-core's real ``AnsibleModule``
(``run_module``) and makes real HTTP requests (``open_url``) to ``tests/support/fake_gke.py``, a
small HTTP server that answers the three GKE v1 REST calls the module makes (cluster get,
``setAddons``, operation get) and checks the bearer token. There is no GKE here: the fake proves
the module's requests, idempotence, check mode and error handling, not GKE's behaviour.
"""

from __future__ import annotations

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import gcp_rest
from ansible_collections.airflow_k8s.cloud.plugins.modules import gke_filestore_csi_driver
from ansible_collections.airflow_k8s.cloud.tests.support.fake_gke import FakeGke
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

TOKEN = "ya29.test-token-not-real"


@pytest.fixture
def gke():
    with FakeGke(token=TOKEN, polls_until_done=2) as fake:
        fake.add_cluster("proj", "europe-west1", "airflow")
        yield fake


def args(gke, **overrides):
    base = {"project": "proj", "location": "europe-west1", "cluster": "airflow", "auth_kind": "accesstoken",
            "access_token": TOKEN, "api_endpoint": gke.url}
    base.update(overrides)
    return base


def writes(gke):
    return [request for request in gke.requests if request[0] == "POST"]


def test_enables_the_addon_keeps_other_addons_and_waits(gke):
    result, failed = run_module(gke_filestore_csi_driver, args(gke), diff=True)
    assert not failed, result
    assert result["changed"] and result["enabled"] and not result["previous_enabled"]
    assert result["operation"]["status"] == "DONE"
    addons = gke.clusters[("proj", "europe-west1", "airflow")]["addonsConfig"]
    assert addons["gcpFilestoreCsiDriverConfig"] == {"enabled": True}
    assert addons["networkPolicyConfig"] == {"disabled": True}
    assert addons["gcePersistentDiskCsiDriverConfig"] == {"enabled": True}
    assert result["diff"]["before"]["gcpFilestoreCsiDriverConfig"] == {"enabled": False}
    assert [path for method, path, _body in writes(gke)] == [
        "/v1/projects/proj/locations/europe-west1/clusters/airflow:setAddons"]


def test_second_run_changes_nothing(gke):
    run_module(gke_filestore_csi_driver, args(gke))
    before = len(writes(gke))
    result, failed = run_module(gke_filestore_csi_driver, args(gke))
    assert not failed and not result["changed"] and result["previous_enabled"]
    assert len(writes(gke)) == before


def test_check_mode_reports_but_sends_nothing(gke):
    result, failed = run_module(gke_filestore_csi_driver, args(gke), check_mode=True)
    assert not failed and result["changed"]
    assert writes(gke) == []
    assert "gcpFilestoreCsiDriverConfig" not in gke.clusters[("proj", "europe-west1", "airflow")]["addonsConfig"]


def test_disable(gke):
    gke.clusters[("proj", "europe-west1", "airflow")]["addonsConfig"]["gcpFilestoreCsiDriverConfig"] = {"enabled": True}
    result, failed = run_module(gke_filestore_csi_driver, args(gke, enabled=False, wait=False))
    assert not failed and result["changed"] and result["operation"]["status"] == "RUNNING"
    assert gke.clusters[("proj", "europe-west1", "airflow")]["addonsConfig"]["gcpFilestoreCsiDriverConfig"] == {"enabled": False}


def test_unknown_cluster_fails_with_its_name(gke):
    result, failed = run_module(gke_filestore_csi_driver, args(gke, cluster="nope"))
    assert failed and "nope" in result["msg"] and "not found" in result["msg"]


def test_bad_token_fails_without_echoing_it(gke):
    result, failed = run_module(gke_filestore_csi_driver, args(gke, access_token="wrong-secret-token"))
    assert failed and "401" in result["msg"]
    assert "wrong-secret-token" not in str(result)


def test_credentials_come_from_the_gcp_environment(gke, monkeypatch):
    monkeypatch.setenv("GCP_AUTH_KIND", "accesstoken")
    monkeypatch.setenv("GCP_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("GCP_PROJECT", "proj")
    result, failed = run_module(gke_filestore_csi_driver,
                                {"location": "europe-west1", "cluster": "airflow", "api_endpoint": gke.url})
    assert not failed and result["changed"], result


def test_invalid_auth_kind_is_rejected_by_the_argument_spec(gke):
    result, failed = run_module(gke_filestore_csi_driver, args(gke, auth_kind="password"))
    assert failed and "auth_kind" in result["msg"]


def test_serviceaccount_without_google_auth_says_what_is_missing(gke, monkeypatch):
    monkeypatch.setattr(gcp_rest, "HAS_GOOGLE_AUTH", False)
    result, failed = run_module(gke_filestore_csi_driver, args(gke, auth_kind="serviceaccount", access_token=None))
    assert failed and "google-auth" in result["msg"]


def test_operation_timeout_is_reported():
    class Client(object):
        def get(self, _url):
            return {"name": "op-1", "status": "RUNNING"}

    times = iter([0.0, 5.0, 11.0])
    with pytest.raises(gcp_rest.GcpRestError, match="did not finish within 10"):
        gcp_rest.wait_for_operation(Client(), "http://x/op-1", 10, sleep=lambda _s: None, clock=lambda: next(times))
