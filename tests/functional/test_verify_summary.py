"""The end-of-run summary's UI address, from the api-server objects the sink applied, end to end.

site.yml in apply mode against the Kubernetes API emulator (tests/support/k8s_emulator.py; an
emulator, not a cluster: nothing assigns a load balancer address, this test sets one through the
Service's status subresource as a cloud controller would). verify finds the api-server's Service and
Ingress among what the sink applied (the apply task's result), reads the Service from the cluster
only when its address is the cluster's to assign, and says nothing about a UI in a run that did not
describe the Service (``--tags``).
"""

import re

import pytest

from tests.functional.test_k8s_emulator import api
from tests.support.playbook import run_playbook

NAMESPACE = "airflow-summary"
SERVICE = "/api/v1/namespaces/%s/services/airflow-api-server" % NAMESPACE


def _summary(run):
    """The Summary task's message of ``run``, line wrapping undone."""
    found = re.search(r"^TASK \[(?:[\w.]+ : )?Summary\] \**\n(.*?)(?=^TASK \[|^PLAY RECAP)", run.output, re.MULTILINE | re.DOTALL)
    assert found, run.tail()
    return " ".join(found.group(1).split())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A LoadBalancer api-server before and after the cloud gave it an address, then with an Ingress,
    then a --tags config run."""
    pytest.importorskip("kmock", reason="kmock (requirements-test.txt) is needed for the Kubernetes API emulator")
    from tests.support.k8s_emulator import EmulatorProcess  # pylint: disable=import-outside-toplevel

    with EmulatorProcess.start(tmp_path_factory.mktemp("emulator")) as emulator:
        settings = {"sink_mode": "apply", "sink_kubeconfig": emulator.kubeconfig, "sink_context": emulator.context,
                    "airflow_namespace": NAMESPACE, "api_server_service_type": "LoadBalancer", "verify_health_check": "never"}

        def site(*args, **extra):
            return run_playbook("site.yml", inventory="inventories/local", extra_vars=dict(settings, **extra), args=args)

        found = {"no address": site()}
        status, body = api(emulator, "PATCH", SERVICE + "/status", {"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}},
                           "application/merge-patch+json")
        assert status == 200, body
        found["address"] = site()
        found["ingress"] = site(api_server_ingress_enabled=True, api_server_ingress_host="airflow.example.com",
                                api_server_ingress_tls_secret="airflow-tls")
        found["tagged"] = site("--tags", "config")
        found["requests"] = emulator.read_request_log()
        yield found


@pytest.mark.emulator
def test_a_load_balancer_address_comes_from_the_cluster(runs):
    """Emulator: the UI is the load balancer's address once the cloud assigned one, read from the cluster
    (one GET of the Service after the apply); before that, the summary says so and offers a port-forward."""
    for name in ("no address", "address"):
        assert runs[name].returncode == 0, runs[name].tail()
    assert ("UI: the load balancer has no address yet (kubectl -n %s get service airflow-api-server); meanwhile: "
            "kubectl -n %s port-forward service/airflow-api-server 8080:8080" % (NAMESPACE, NAMESPACE)) in _summary(runs["no address"])
    assert "UI: http://203.0.113.10:8080/ (LoadBalancer Service %s/airflow-api-server)." % NAMESPACE in _summary(runs["address"])
    reads = [request for request in runs["requests"] if request.get("verb") == "get" and request.get("path") == SERVICE]
    assert reads, "the Service was never read"


@pytest.mark.emulator
def test_an_ingress_host_is_the_ui(runs):
    """Emulator: with the Ingress this run applied, its host (https, for its TLS Secret) is the UI."""
    assert runs["ingress"].returncode == 0, runs["ingress"].tail()
    assert ("UI: https://airflow.example.com/ (Ingress %s/airflow-api-server); without it: kubectl -n %s port-forward"
            % (NAMESPACE, NAMESPACE)) in _summary(runs["ingress"])


@pytest.mark.emulator
def test_a_run_that_did_not_describe_the_service_names_no_ui(runs):
    """Emulator: a --tags config run applied no api-server objects: no UI line, and the health line says why."""
    tagged = runs["tagged"]
    assert tagged.returncode == 0, tagged.tail()
    summary = _summary(tagged)
    assert "UI:" not in summary, summary
    assert "not checked (verify_health_check is never)" in summary, summary
