"""The sink role in render mode, with real ansible-playbook runs on a small playbook (and site.yml).

What it must guarantee: private folders and 0600 Secret files, stable Secrets across runs
(read back from the rendered files), changed=0 on a re-run, stale manifests pruned only by a
full run (never by a --tags run), no writing into a folder that is not ours, and pods that roll
when a value they read changes, and only then.
"""

import hashlib
import json
import os
import stat

import pytest
import yaml

from tests.support.collection import REPO_ROOT
from tests.support.playbook import run_playbook

PLAYBOOK = os.path.join(REPO_ROOT, "tests", "functional", "playbooks", "sink_render.yml")


def play(render_dir, *args, extra=None, expect_ok=True):
    """sink_render.yml on inventories/local into ``render_dir``, with ``extra`` variables and ``args``."""
    return run_playbook(PLAYBOOK, inventory="inventories/local", extra_vars=dict({"sink_render_dir": render_dir}, **(extra or {})),
                        args=args, expect_ok=expect_ok)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_render_is_private_stable_and_idempotent(tmp_path):
    out = tmp_path / "build"
    first = play(out)
    secret_file = out / "demo" / "secret-demo-secret.yaml"
    token = load(secret_file)["data"]["token"]

    assert mode(out) == 0o700 and mode(out / "demo") == 0o700
    assert mode(secret_file) == 0o600
    assert mode(out / "demo" / "configmap-demo-config.yaml") == 0o644
    assert token not in first.output

    second = play(out, "--diff")
    assert second.changed == 0
    assert load(secret_file)["data"]["token"] == token
    # Multi-line values are written as literal blocks, readable in review.
    assert "airflow.cfg: |" in (out / "demo" / "configmap-demo-config.yaml").read_text()
    # Common labels are added to every object.
    labels = load(out / "other" / "serviceaccount-other.yaml")["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "airflow_k8s.cloud"
    kustomization = load(out / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == [
        "demo/configmap-demo-config.yaml", "demo/secret-demo-secret.yaml", "other/serviceaccount-other.yaml"]


def test_check_mode_writes_nothing_and_diff_hides_secrets(tmp_path):
    out = tmp_path / "build"
    play(out)
    before = {p: p.read_bytes() for p in out.rglob("*.yaml")}
    extra = {"sink_test_objects": [{"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": "added", "namespace": "airflow"}, "data": {"k": "v"}}]}
    check = play(out, "--check", "--diff", extra=extra)
    assert check.changed > 0
    assert "configmap-added.yaml" in check.output
    assert not (out / "demo" / "configmap-added.yaml").exists()
    assert {p: p.read_bytes() for p in out.rglob("*.yaml")} == before
    token = load(out / "demo" / "secret-demo-secret.yaml")["data"]["token"]
    assert token not in check.output


def test_full_run_prunes_stale_manifests_but_tagged_run_does_not(tmp_path):
    out = tmp_path / "build"
    extra = {"sink_test_objects": [{"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": "temporary", "namespace": "airflow"}, "data": {}}]}
    play(out, extra=extra)
    stale = out / "demo" / "configmap-temporary.yaml"
    assert stale.exists()

    play(out, "--tags", "other")  # a partial run knows only some objects: must not prune
    assert stale.exists()
    assert (out / "demo" / "secret-demo-secret.yaml").exists()
    assert "demo/configmap-temporary.yaml" in load(out / "kustomization.yaml")["resources"]

    play(out)  # a full run without the object removes its manifest
    assert not stale.exists()
    assert "demo/configmap-temporary.yaml" not in load(out / "kustomization.yaml")["resources"]


def test_refuses_a_folder_that_is_not_ours(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.yaml").write_text("keep: me\n")
    result = play(foreign, expect_ok=False)
    assert result.returncode != 0
    assert "sink_render_dir" in result.output
    assert (foreign / "notes.yaml").read_text() == "keep: me\n"
    assert not (foreign / "demo").exists()


@pytest.mark.parametrize("bad", [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"a": "b"}},
])
def test_incomplete_objects_fail_before_anything_is_written(tmp_path, bad):
    out = tmp_path / "build"
    result = play(out, extra={"sink_test_objects": [bad]}, expect_ok=False)
    assert result.returncode != 0
    assert "sink_run_objects.demo[1]" in result.output
    assert not out.exists()


def _manifests(folder):
    """``{relative path: bytes}`` of every manifest under ``folder``."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*.yaml")}


def test_site_yml_render_rolls_exactly_the_pods_that_read_a_new_jwt_secret(tmp_path):
    """The real site.yml on inventories/local, render mode: a new JWT secret (secrets_jwt_secret, as an
    operator sets it) changes its Secret and the pod templates of the four Airflow server Deployments
    and of the db-clean CronJob that read it, and nothing else (statsd, the PostgreSQL StatefulSet, the
    hash-named Jobs, whose env names the Secret and not its value); a repeated run changes nothing."""
    out = tmp_path / "build"
    first = run_playbook("site.yml", inventory="inventories/local", extra_vars={"sink_render_dir": str(out)})
    assert first.returncode == 0, first.tail()
    before = _manifests(out)
    new_jwt = "a-new-jwt-secret-for-the-roll-test-0123456789"
    extra = {"sink_render_dir": str(out), "secrets_jwt_secret": new_jwt}
    rolled = run_playbook("site.yml", inventory="inventories/local", extra_vars=extra)
    assert rolled.returncode == 0, rolled.tail()
    after = _manifests(out)
    assert sorted(path for path in after if after[path] != before.get(path)) == [
        "api_server/deployment-airflow-api-server.yaml", "dag_processor/deployment-airflow-dag-processor.yaml",
        "housekeeping/cronjob-airflow-db-clean.yaml",
        "scheduler/deployment-airflow-scheduler.yaml", "secrets/secret-airflow-jwt-secret.yaml",
        "triggerer/deployment-airflow-triggerer.yaml"]
    scheduler = load(out / "scheduler" / "deployment-airflow-scheduler.yaml")
    annotations = scheduler["spec"]["template"]["metadata"]["annotations"]
    secret = load(out / "secrets" / "secret-airflow-jwt-secret.yaml")
    content = {"binaryData": {}, "data": secret["data"], "stringData": {}}
    assert annotations["checksum.airflow-k8s.cloud/secret-airflow-jwt-secret"] == hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert new_jwt not in rolled.output and secret["data"]["jwt-secret"] not in rolled.output

    again = run_playbook("site.yml", inventory="inventories/local", extra_vars=extra)
    assert again.returncode == 0 and again.changed == 0, again.changed_tasks()
    assert _manifests(out) == after
