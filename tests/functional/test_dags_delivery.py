# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dags role delivers a DAG folder through the cluster, idempotently.

Real components: ``ansible-playbook`` of the checkout's .venv running the dags role
(``tests/functional/playbooks/dags_delivery.yml``: the shared settings, then the role, every object
through the sink in apply mode) against the Kubernetes API emulator (``k8s_emulator`` session
fixture, ``tests/support/k8s_emulator.py`` on kmock). Objects are read back over the emulator's
HTTP API. Three runs on a copy of the shipped example DAGs: a first delivery, the same folder again
(must report changed=0), and an edited folder with ``dags_prune`` (a new ConfigMap and Job, the
earlier ones removed).

The emulator runs no pods, so the copying itself is checked by running the program of the Job
exactly as delivered (its ``command``, its environment) with this machine's Python against a folder
laid out the way the kubelet lays out a ConfigMap volume (``..data`` symlinks, ``items`` paths) and
a temporary folder standing in for the DAG share. The emulator is not proof of cluster behaviour.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.playbook import run_playbook

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = REPOSITORY_ROOT / "tests" / "functional" / "playbooks" / "dags_delivery.yml"
SHIPPED_DAGS = REPOSITORY_ROOT / "roles" / "dags" / "files"
NAMESPACE = "dags-delivery"
CHECKSUM_ANNOTATION = "airflow-k8s.cloud/dags-checksum"
DAGS_PATH = "/opt/airflow/dags"


def folder_checksum(folder):
    """The documented checksum: sha256 of the `sha256sum`-style manifest of the folder, sorted by path."""
    lines = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and "__pycache__" not in relative and not relative.endswith(".pyc"):
            lines.append("%s  %s\n" % (hashlib.sha256(path.read_bytes()).hexdigest(), relative))
    return hashlib.sha256("".join(sorted(lines, key=lambda line: line.split("  ", 1)[1])).encode()).hexdigest()


def deliver(emulator, dags_dir, **extra):
    extra_vars = {"sink_mode": "apply", "sink_kubeconfig": emulator.kubeconfig, "sink_context": emulator.context,
                  "airflow_namespace": NAMESPACE, "airflow_environment_name": "dags-delivery",
                  "dags_source_dir": str(dags_dir)}
    extra_vars.update(extra)
    run = run_playbook(PLAYBOOK, inventory="inventories/local", extra_vars=extra_vars)
    assert run.returncode == 0, run.tail(80)
    return run


def list_objects(emulator, path):
    with urllib.request.urlopen(emulator.url + path, timeout=30) as response:  # noqa: S310 - loopback emulator
        return {item["metadata"]["name"]: item for item in json.load(response)["items"]}


def snapshot(emulator):
    return {"Job": list_objects(emulator, "/apis/batch/v1/namespaces/%s/jobs" % NAMESPACE),
            "ConfigMap": list_objects(emulator, "/api/v1/namespaces/%s/configmaps" % NAMESPACE)}


@pytest.fixture(scope="module")
def deliveries(k8s_emulator, tmp_path_factory):
    dags = tmp_path_factory.mktemp("dags-source") / "dags"
    shutil.copytree(str(SHIPPED_DAGS), str(dags), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    first = deliver(k8s_emulator, dags)
    after_first = snapshot(k8s_emulator)
    checksum_first = folder_checksum(dags)
    second = deliver(k8s_emulator, dags)
    after_second = snapshot(k8s_emulator)
    # An edited DAG and a new one in a subfolder.
    with open(str(dags / "hello_world.py"), "a", encoding="utf-8") as stream:
        stream.write("\n# edited\n")
    (dags / "team_a").mkdir()
    (dags / "team_a" / "report.py").write_text("# from airflow.sdk import dag\n", encoding="utf-8")
    third = deliver(k8s_emulator, dags, dags_prune=True)
    after_third = snapshot(k8s_emulator)
    return {"dags": dags, "runs": (first, second, third), "objects": (after_first, after_second, after_third),
            "checksums": (checksum_first, folder_checksum(dags))}


def delivery_items(job):
    """The ConfigMap items (key -> path) of the Job's delivery volume."""
    volumes = {volume["name"]: volume for volume in job["spec"]["template"]["spec"]["volumes"]}
    return volumes["delivery"]["configMap"]["items"]


def only(objects):
    assert len(objects) == 1, sorted(objects)
    return next(iter(objects.values()))


def test_first_delivery_is_a_job_with_the_dag_claim_and_the_files(deliveries):
    after_first = deliveries["objects"][0]
    job, config_map = only(after_first["Job"]), only(after_first["ConfigMap"])
    checksum = deliveries["checksums"][0]
    assert job["metadata"]["annotations"][CHECKSUM_ANNOTATION] == checksum
    assert config_map["metadata"]["annotations"][CHECKSUM_ANNOTATION] == checksum
    assert job["spec"]["template"]["metadata"]["annotations"][CHECKSUM_ANNOTATION] == checksum
    assert config_map["metadata"]["name"] == "airflow-dags-files-" + checksum[:10]
    assert config_map["immutable"] is True
    pod = job["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    container = only({container["name"]: container for container in pod["containers"]})
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    assert volumes[mounts[DAGS_PATH]["name"]]["persistentVolumeClaim"] == {"claimName": "airflow-dags"}
    assert not mounts[DAGS_PATH].get("readOnly")
    delivery = volumes["delivery"]["configMap"]
    assert delivery["name"] == config_map["metadata"]["name"]
    # Every shipped file is in the ConfigMap byte for byte, and mapped back to its path.
    paths = {item["key"]: item["path"] for item in delivery["items"]}
    files = {paths[key]: base64.b64decode(value) for key, value in config_map["binaryData"].items()}
    expected = {path.name: path.read_bytes() for path in SHIPPED_DAGS.glob("*.py")}
    assert files == expected
    # The security contexts of every Airflow pod (roles/airflow/vars/main.yml), and no API token.
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 50000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False
    assert pod["restartPolicy"] == "Never"


def test_unchanged_dags_change_nothing(deliveries):
    _first, second, _third = deliveries["runs"]
    assert second.changed == 0, "\n".join(second.changed_tasks()) or second.tail()
    assert deliveries["objects"][1] == deliveries["objects"][0]


def test_changed_dags_make_a_new_delivery_and_remove_the_old_one(deliveries):
    after_first, _after_second, after_third = deliveries["objects"]
    third = deliveries["runs"][2]
    assert third.changed > 0
    job, config_map = only(after_third["Job"]), only(after_third["ConfigMap"])
    assert set(after_third["Job"]).isdisjoint(after_first["Job"])
    assert set(after_third["ConfigMap"]).isdisjoint(after_first["ConfigMap"])
    checksum = deliveries["checksums"][1]
    assert checksum != deliveries["checksums"][0]
    assert job["metadata"]["annotations"][CHECKSUM_ANNOTATION] == checksum
    items = delivery_items(job)
    assert "team_a/report.py" in {item["path"] for item in items}
    env = {item["name"]: item["value"] for item in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DAGS_PRUNE"] == "true"
    assert config_map["metadata"]["name"] == "airflow-dags-files-" + checksum[:10]


def _configmap_volume(root, config_map, items):
    """Lay out a ConfigMap volume as the kubelet's atomic writer does: ..<timestamp>/, ..data, symlinks."""
    payload = root / "..2025_01_01_00_00_00.000000000"
    for item in items:
        target = payload / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(config_map["binaryData"][item["key"]]))
    (root / "..data").symlink_to(payload.name)
    for top in sorted({item["path"].split("/")[0] for item in items}):
        (root / top).symlink_to(Path("..data") / top)


def _run_program(job, source, target, **env_overrides):
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {item["name"]: item["value"] for item in container["env"]}
    env.update({"DAGS_SOURCE": str(source), "DAGS_TARGET": str(target)}, **env_overrides)
    assert container["command"][:2] == ["python", "-c"]
    process = subprocess.run([sys.executable, "-c", container["command"][2]], env=dict(os.environ, **env),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_the_job_program_copies_only_changes_and_prunes_only_when_asked(deliveries, tmp_path):
    after_first, _after_second, after_third = deliveries["objects"]
    share = tmp_path / "share"
    share.mkdir()
    (share / "not_ours.py").write_text("# put there by hand\n", encoding="utf-8")
    (share / ".airflowignore").write_text("scratch/\n", encoding="utf-8")

    first_job, first_map = only(after_first["Job"]), only(after_first["ConfigMap"])
    first_volume = tmp_path / "first"
    first_volume.mkdir()
    _configmap_volume(first_volume, first_map, delivery_items(first_job))
    report = _run_program(first_job, first_volume, share)
    assert sorted(report["written"]) == ["hello_world.py", "kubernetes_pod_from_conf.py"] and report["removed"] == []
    for path in SHIPPED_DAGS.glob("*.py"):
        assert (share / path.name).read_bytes() == path.read_bytes()
    again = _run_program(first_job, first_volume, share)
    assert again["written"] == [] and again["unchanged"] == 2

    third_job, third_map = only(after_third["Job"]), only(after_third["ConfigMap"])
    third_volume = tmp_path / "third"
    third_volume.mkdir()
    _configmap_volume(third_volume, third_map, delivery_items(third_job))
    # Without prune nothing is removed; with prune (as the third delivery asked) the stray file goes,
    # files matching the exclude patterns (.airflowignore) stay.
    kept = _run_program(third_job, third_volume, share, DAGS_PRUNE="false")
    assert sorted(kept["written"]) == ["hello_world.py", "team_a/report.py"] and kept["removed"] == []
    assert (share / "not_ours.py").exists()
    pruned = _run_program(third_job, third_volume, share)
    assert pruned["removed"] == ["not_ours.py"] and pruned["written"] == []
    assert sorted(p.relative_to(share).as_posix() for p in share.rglob("*") if p.is_file()) == [
        ".airflowignore", "hello_world.py", "kubernetes_pod_from_conf.py", "team_a/report.py"]
    assert (share / "hello_world.py").read_bytes() == (deliveries["dags"] / "hello_world.py").read_bytes()
    assert not list(share.rglob(".delivery-*"))
