# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``playbooks/rotate_fernet_key.yml`` against the Kubernetes API emulator.

Real components: the real ``ansible-playbook`` of the checkout's .venv with the real
``airflow_k8s.cloud.fernet_key`` module and ``kubernetes.core`` modules, ``site.yml`` (tags
``namespace,secrets``) to create the namespace and the Secrets exactly as a converge does, and
the Kubernetes API emulator (``tests/support/k8s_emulator.py``, kmock 0.8 based; session fixture
``k8s_emulator``, namespace of its own). The keys are checked with the real ``cryptography`` Fernet
and MultiFernet, the way Airflow uses them.

Two workloads are added by hand (the emulator has no controllers, and a full converge would cost
minutes): a scheduler Deployment whose pods read the fernet-key Secret and a statsd Deployment
whose pods do not. The emulator marks the re-encryption Job complete and the rollouts ready as
soon as they are written, so these tests prove the playbook's requests, ordering and reporting;
that ``airflow rotate-fernet-key`` re-encrypts data is Airflow's part, not emulated here.
"""

import base64
import hashlib
import json
import re
import urllib.request

import pytest
import yaml

from tests.support.playbook import run_playbook

cryptography_fernet = pytest.importorskip("cryptography.fernet")

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

NAMESPACE = "rotate-fernet-key-test"
ENVIRONMENT = "rotation-test"
FERNET_SECRET = "airflow-fernet-key"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
COMMON_LABELS = {"app.kubernetes.io/managed-by": "airflow_k8s.cloud", "airflow-k8s.cloud/environment": ENVIRONMENT}


def _request(emulator, method, path, body=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(emulator.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _deployment(name, env):
    labels = {"app.kubernetes.io/name": "airflow", "app.kubernetes.io/component": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "airflow-" + name, "namespace": NAMESPACE, "labels": dict(labels, **COMMON_LABELS)},
        "spec": {"selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": name, "image": "example/" + name, "env": env}]}}},
    }


def _fernet_keys(emulator):
    secret = _request(emulator, "GET", "/api/v1/namespaces/%s/secrets/%s" % (NAMESPACE, FERNET_SECRET))
    return base64.b64decode(secret["data"]["fernet-key"]).decode("ascii").split(",")


def _fingerprint(key):
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:8]


def _jobs(emulator):
    return _request(emulator, "GET", "/apis/batch/v1/namespaces/%s/jobs" % NAMESPACE)["items"]


def _restarted_at(emulator, name):
    deployment = _request(emulator, "GET", "/apis/apps/v1/namespaces/%s/deployments/%s" % (NAMESPACE, name))
    return (deployment["spec"]["template"]["metadata"].get("annotations") or {}).get(RESTARTED_AT)


@pytest.fixture(scope="module")
def rotation(k8s_emulator, tmp_path_factory):
    """Namespace and Secrets as site.yml makes them, two workloads, then one rotation (old key kept)."""
    workdir = tmp_path_factory.mktemp("rotate-fernet-key")
    inventory = workdir / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"airflow": {
        "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        "vars": {"sink_mode": "apply", "sink_kubeconfig": str(k8s_emulator.kubeconfig), "sink_context": "emulator",
                 "airflow_namespace": NAMESPACE, "airflow_environment_name": ENVIRONMENT,
                 # No database role in a --tags namespace,secrets run: the URI is given.
                 "secrets_metadata_connection": "postgresql://airflow:not-a-real-password@database:5432/airflow"},
    }}), encoding="utf-8")
    seed = run_playbook("site.yml", inventory=inventory, args=("--tags", "namespace,secrets"), timeout=1200)
    assert seed.returncode == 0, seed.tail()
    fernet_reference = [{"name": "AIRFLOW__CORE__FERNET_KEY",
                         "valueFrom": {"secretKeyRef": {"name": FERNET_SECRET, "key": "fernet-key"}}}]
    for deployment in (_deployment("scheduler", fernet_reference), _deployment("statsd", [{"name": "X", "value": "y"}])):
        _request(k8s_emulator, "POST", "/apis/apps/v1/namespaces/%s/deployments" % NAMESPACE, deployment)

    old_keys = _fernet_keys(k8s_emulator)
    token = cryptography_fernet.Fernet(old_keys[0].encode("ascii")).encrypt(b"connection password")
    run = run_playbook("playbooks/rotate_fernet_key.yml", inventory=inventory, timeout=1200)
    return {"emulator": k8s_emulator, "inventory": inventory, "old_keys": old_keys, "token": token, "run": run,
            "new_keys": _fernet_keys(k8s_emulator) if run.returncode == 0 else None}


def test_rotation_puts_a_new_key_first_and_keeps_the_old_one(rotation):
    run = rotation["run"]
    assert run.returncode == 0, run.tail(80)
    old_keys, new_keys = rotation["old_keys"], rotation["new_keys"]
    assert len(old_keys) == 1 and len(new_keys) == 2, (len(old_keys), len(new_keys))
    assert new_keys[1] == old_keys[0] and new_keys[0] != old_keys[0]
    fernets = [cryptography_fernet.Fernet(key.encode("ascii")) for key in new_keys]  # both valid Fernet keys
    # Data encrypted with the old key still decrypts with the new key list (as Airflow reads it) ...
    multi = cryptography_fernet.MultiFernet(fernets)
    assert multi.decrypt(rotation["token"]) == b"connection password"
    # ... and re-encrypted (what `airflow rotate-fernet-key` does) it decrypts with the new key alone.
    assert fernets[0].decrypt(multi.rotate(rotation["token"])) == b"connection password"
    assert "New fernet key %s in front of %s" % (_fingerprint(new_keys[0]), _fingerprint(old_keys[0])) in " ".join(run.output.split())


def test_rotation_runs_the_reencryption_job(rotation):
    assert rotation["run"].returncode == 0, rotation["run"].tail(80)
    name = "airflow-rotate-fernet-key-%s" % _fingerprint(rotation["new_keys"][0])
    jobs = {job["metadata"]["name"]: job for job in _jobs(rotation["emulator"])}
    assert name in jobs, sorted(jobs)
    container = jobs[name]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["airflow", "rotate-fernet-key"]
    assert container["image"].startswith("apache/airflow:")
    fernet_env = [variable for variable in container["env"] if variable["name"] == "AIRFLOW__CORE__FERNET_KEY"]
    assert fernet_env == [{"name": "AIRFLOW__CORE__FERNET_KEY",
                           "valueFrom": {"secretKeyRef": {"name": FERNET_SECRET, "key": "fernet-key"}}}]
    # The migrations Job's pod: its service account, the shared volumes and security context.
    pod = jobs[name]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "airflow-migrations" and pod["securityContext"]["runAsNonRoot"] is True
    assert {volume["name"] for volume in pod["volumes"]} == {"config", "dags", "logs"}
    assert "TASK [airflow_k8s.cloud.verify : Wait for the rollouts and Jobs of this run (one list call per kind and namespace)]" in rotation["run"].output


def test_rotation_restarts_only_the_components_that_read_the_key(rotation):
    assert rotation["run"].returncode == 0, rotation["run"].tail(80)
    assert _restarted_at(rotation["emulator"], "airflow-scheduler")
    assert _restarted_at(rotation["emulator"], "airflow-statsd") is None
    assert "Components restarted: airflow-scheduler." in " ".join(rotation["run"].output.split())


def test_no_key_appears_in_the_output(rotation):
    output = rotation["run"].output
    for key in set(rotation["old_keys"] + (rotation["new_keys"] or [])):
        assert key not in output


def test_site_keeps_the_rotated_key(rotation):
    """The next site.yml run reads the rotated value back and would write the same bytes."""
    assert rotation["run"].returncode == 0, rotation["run"].tail(80)
    check = run_playbook("site.yml", inventory=rotation["inventory"], args=("--check", "--diff", "--tags", "secrets"), timeout=1200)
    assert check.returncode == 0, check.tail(80)
    assert check.changed == 0, check.changed_tasks()
    assert _fernet_keys(rotation["emulator"]) == rotation["new_keys"]


def test_drop_old_keeps_only_a_new_key(rotation):
    assert rotation["run"].returncode == 0, rotation["run"].tail(80)
    emulator = rotation["emulator"]
    restarted_before = _restarted_at(emulator, "airflow-scheduler")
    logged_before = len(emulator.read_request_log())
    run = run_playbook("playbooks/rotate_fernet_key.yml", inventory=rotation["inventory"],
                       args=("-e", "rotate_fernet_key_drop_old=true"), timeout=1200)
    assert run.returncode == 0, run.tail(80)
    keys = _fernet_keys(emulator)
    assert len(keys) == 1 and keys[0] not in rotation["new_keys"]
    cryptography_fernet.Fernet(keys[0].encode("ascii"))
    # The old keys are dropped only after the re-encryption Job of this rotation completed.
    output = " ".join(run.output.split())
    job = "airflow-rotate-fernet-key-%s" % _fingerprint(keys[0])
    assert job in {item["metadata"]["name"] for item in _jobs(emulator)}
    # verify's wait ran between the Job's apply and the key's removal, and read the Jobs (a list call)
    # after the Job was applied and before the Secret with the new key only was.
    waits = [match.start() for match in re.finditer(
        r"TASK \[airflow_k8s\.cloud\.verify : Wait for the rollouts and Jobs of this run[^\]]*\] \** ok: \[localhost\]", output)]
    assert any(output.index("TASK [Re-encrypt the metadata database with the new key]") < start < output.index("TASK [Keep only the new key]")
               for start in waits), output
    calls = [(request.get("verb"), request.get("path")) for request in emulator.read_request_log()[logged_before:]]
    jobs = "/apis/batch/v1/namespaces/%s/jobs" % NAMESPACE
    applied = calls.index(("apply", "%s/%s" % (jobs, job)))
    secret_applies = [index for index, call in enumerate(calls) if call == ("apply", "/api/v1/namespaces/%s/secrets/airflow-fernet-key" % NAMESPACE)]
    assert any(call == ("list", jobs) for call in calls[applied:secret_applies[-1]]), calls
    assert "Old keys dropped." in output
    assert _restarted_at(emulator, "airflow-scheduler") not in (None, restarted_before)
    for key in rotation["new_keys"] + keys:
        assert key not in run.output
