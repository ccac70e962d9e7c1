# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pods follow what they read (issue 12): site.yml in apply mode against the Kubernetes API emulator.

Real components: the real ``ansible-playbook site.yml`` of the checkout's .venv with the local
inventory's settings switched to apply mode (every role, ``airflow_k8s.cloud.k8s_apply`` over
kubernetes.core's client), and the Kubernetes API emulator (``tests/support/k8s_emulator.py``,
kmock 0.8 based; session fixture ``k8s_emulator``, a namespace of its own). The emulator changes
an object's ``resourceVersion`` only when the object really changes, which is how these tests
tell what a run changed, independently of what the collection reports. It has no controllers:
a changed pod template is what would roll the pods on a cluster, not a rollout seen here.
"""

import json
import urllib.request

import pytest

from tests.support.playbook import run_playbook

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

NAMESPACE = "pods-follow-secrets"
RESOURCES = ("/api/v1/namespaces/%s/secrets", "/api/v1/namespaces/%s/configmaps",
             "/apis/apps/v1/namespaces/%s/deployments", "/apis/apps/v1/namespaces/%s/statefulsets",
             "/apis/batch/v1/namespaces/%s/jobs")
SERVER_DEPLOYMENTS = ("airflow-api-server", "airflow-dag-processor", "airflow-scheduler", "airflow-triggerer")


def _versions(emulator):
    """``{"Kind name": resourceVersion}`` of the Secrets, ConfigMaps, workloads and Jobs of the namespace."""
    return _versions_of(emulator, NAMESPACE)


def _versions_of(emulator, namespace):
    versions = {}
    for path in RESOURCES:
        with urllib.request.urlopen(emulator.url + path % namespace, timeout=30) as response:
            listing = json.loads(response.read())
        kind = listing["kind"][:-len("List")]
        for item in listing["items"]:
            versions["%s %s" % (kind, item["metadata"]["name"])] = item["metadata"]["resourceVersion"]
    return versions


def _site(emulator, **extra):
    variables = {"sink_mode": "apply", "sink_kubeconfig": str(emulator.kubeconfig), "sink_context": "emulator",
                 "airflow_namespace": NAMESPACE, "airflow_environment_name": "pods-follow"}
    variables.update(extra)
    return run_playbook("site.yml", inventory="inventories/local", extra_vars=variables, timeout=1200)


def test_a_new_jwt_secret_rolls_the_server_components_and_nothing_else(k8s_emulator):
    """The JWT secret is read by the four Airflow server Deployments, not by statsd, PostgreSQL or
    the Jobs: a new value (secrets_jwt_secret) changes that Secret and those pod templates only, and
    a second run with the same value changes nothing."""
    converge = _site(k8s_emulator)
    assert converge.returncode == 0, converge.tail()
    before = _versions(k8s_emulator)
    assert {"Deployment airflow-statsd", "StatefulSet airflow-postgresql"} <= set(before), sorted(before)

    new_jwt = "another-jwt-secret-for-the-emulator-0123456789"
    rolled = _site(k8s_emulator, secrets_jwt_secret=new_jwt)
    assert rolled.returncode == 0, rolled.tail()
    after = _versions(k8s_emulator)
    assert sorted(name for name in after if after[name] != before.get(name)) == sorted(
        ["Secret airflow-jwt-secret"] + ["Deployment %s" % name for name in SERVER_DEPLOYMENTS])
    assert new_jwt not in rolled.output

    again = _site(k8s_emulator, secrets_jwt_secret=new_jwt)
    assert again.returncode == 0 and again.changed == 0, again.changed_tasks()
    assert _versions(k8s_emulator) == after


def _send(emulator, method, path, body):
    request = urllib.request.Request(emulator.url + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _deployments(emulator, namespace):
    with urllib.request.urlopen(emulator.url + "/apis/apps/v1/namespaces/%s/deployments" % namespace, timeout=30) as response:
        return {item["metadata"]["name"]: item for item in json.loads(response.read())["items"]}


def test_a_secret_you_manage_is_checked_read_and_followed(k8s_emulator):
    """airflow_existing_secrets names a JWT Secret managed outside the collection (as External Secrets
    would): a missing one stops the run before anything is applied; once it exists, the components
    read it, the collection never writes it, and a new value in it rolls exactly the server components."""
    namespace = "secrets-you-manage"
    extra = {"airflow_namespace": namespace, "airflow_environment_name": "you-manage",
             "airflow_existing_secrets": {"jwt_secret": {"name": "jwt-you-manage", "key": "signing-key"}}}
    missing = _site(k8s_emulator, **extra)
    assert missing.returncode != 0
    assert "airflow_existing_secrets.jwt_secret names Secret %s/jwt-you-manage, which does not exist" % namespace in missing.output
    assert _deployments(k8s_emulator, namespace) == {}, "objects were applied before the check"

    _send(k8s_emulator, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "jwt-you-manage", "namespace": namespace},
              "data": {"signing-key": "ZmlsbGVkLWJ5LWV4dGVybmFsLXNlY3JldHMtMDEyMzQ1Njc4OQ=="}}
    _send(k8s_emulator, "POST", "/api/v1/namespaces/%s/secrets" % namespace, secret)
    converge = _site(k8s_emulator, **extra)
    assert converge.returncode == 0, converge.tail()
    before = _deployments(k8s_emulator, namespace)
    env = {item["name"]: item for item in before["airflow-scheduler"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "jwt-you-manage", "key": "signing-key"}
    versions = _versions_of(k8s_emulator, namespace)
    assert "Secret airflow-jwt-secret" not in versions, "the collection wrote a JWT Secret of its own"

    secret["data"]["signing-key"] = "cm90YXRlZC1ieS1leHRlcm5hbC1zZWNyZXRzLTAxMjM0NTY3ODk="
    _send(k8s_emulator, "PUT", "/api/v1/namespaces/%s/secrets/jwt-you-manage" % namespace, secret)
    rolled = _site(k8s_emulator, **extra)
    assert rolled.returncode == 0, rolled.tail()
    after = _versions_of(k8s_emulator, namespace)
    assert sorted(name for name in after if after[name] != versions.get(name)) == sorted(
        ["Secret jwt-you-manage"] + ["Deployment %s" % name for name in SERVER_DEPLOYMENTS])
