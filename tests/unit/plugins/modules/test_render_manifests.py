# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""render_manifests through its argument handling: files, modes, check mode, diff, refusal."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os
import stat
from unittest import mock

import yaml

from ansible_collections.airflow_k8s.cloud.plugins.modules import render_manifests

from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "airflow"},
              "data": {"airflow.cfg": "[core]\nexecutor = KubernetesExecutor\n"}}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token", "namespace": "airflow"},
          "data": {"token": "c2VjcmV0LXZhbHVl"}}


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def render(tmp_path, objects, extra=None, **kwargs):
    """Render ``objects`` as the component demo; Secrets go in the secrets option, as the sink passes them."""
    args = {"path": str(tmp_path / "out"),
            "objects": {"demo": [obj for obj in objects if obj.get("kind") != "Secret"]},
            "secrets": json.dumps({"demo": [obj for obj in objects if obj.get("kind") == "Secret"]})}
    args.update(extra or {})
    return run_module(render_manifests, args, **kwargs)


def test_writes_one_file_per_object_with_private_modes(tmp_path):
    result, failed = render(tmp_path, [CONFIG_MAP, SECRET])
    assert not failed and result["changed"]
    assert result["files"] == ["demo/configmap-cfg.yaml", "demo/secret-token.yaml"]
    out = tmp_path / "out"
    assert mode(out) == 0o700 and mode(out / "demo") == 0o700
    assert mode(out / "demo" / "configmap-cfg.yaml") == 0o644
    assert mode(out / "demo" / "secret-token.yaml") == 0o600
    assert yaml.safe_load((out / "demo" / "configmap-cfg.yaml").read_text()) == CONFIG_MAP
    assert "airflow.cfg: |" in (out / "demo" / "configmap-cfg.yaml").read_text()


def test_second_run_is_unchanged_and_a_loose_mode_is_repaired(tmp_path):
    render(tmp_path, [CONFIG_MAP, SECRET])
    result, failed = render(tmp_path, [CONFIG_MAP, SECRET])
    assert not failed and not result["changed"] and result["changed_files"] == []
    os.chmod(str(tmp_path / "out" / "demo" / "secret-token.yaml"), 0o644)
    result, failed = render(tmp_path, [CONFIG_MAP, SECRET])
    assert result["changed_files"] == ["demo/secret-token.yaml"]
    assert mode(tmp_path / "out" / "demo" / "secret-token.yaml") == 0o600


def test_check_mode_reports_but_writes_nothing(tmp_path):
    result, failed = render(tmp_path, [CONFIG_MAP], check_mode=True)
    assert not failed and result["changed"]
    assert not (tmp_path / "out").exists()


def test_diff_shows_manifests_but_never_secret_content(tmp_path):
    result, failed = render(tmp_path, [CONFIG_MAP, SECRET], diff=True)
    assert not failed
    text = repr(result["diff"])
    assert "KubernetesExecutor" in text
    assert "c2VjcmV0LXZhbHVl" not in text and "(Secret content hidden)" in text


def test_refuses_a_non_empty_folder_it_did_not_make(tmp_path):
    foreign = tmp_path / "out"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep")
    result, failed = render(tmp_path, [CONFIG_MAP])
    assert failed and "sink_render_dir" in result["msg"]
    assert sorted(os.listdir(str(foreign))) == ["mine.txt"]


def test_incomplete_objects_and_path_tricks_fail(tmp_path):
    result, failed = render(tmp_path, [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}])
    assert failed and "objects.demo[0]" in result["msg"]
    result, failed = render(tmp_path, [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "../../etc"}}])
    assert failed and "'/'" in result["msg"]
    assert not (tmp_path / "out").exists()


def test_labels_are_added_and_win_over_the_objects_own(tmp_path):
    labelled = dict(CONFIG_MAP, metadata=dict(CONFIG_MAP["metadata"], labels={"team": "mine", "keep": "yes"}))
    result, failed = render(tmp_path, [labelled], extra={"labels": {"team": "platform"}})
    assert not failed
    written = yaml.safe_load((tmp_path / "out" / "demo" / "configmap-cfg.yaml").read_text())
    assert written["metadata"]["labels"] == {"team": "platform", "keep": "yes"}


def test_kustomization_lists_every_manifest(tmp_path):
    render(tmp_path, [CONFIG_MAP, SECRET])
    kustomization = yaml.safe_load((tmp_path / "out" / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["resources"] == ["demo/configmap-cfg.yaml", "demo/secret-token.yaml"]


def test_prune_removes_what_the_run_did_not_produce_and_only_then(tmp_path):
    render(tmp_path, [CONFIG_MAP, SECRET])
    result, failed = render(tmp_path, [CONFIG_MAP])  # no prune: the Secret's manifest stays
    assert not failed and result["removed_files"] == []
    assert (tmp_path / "out" / "demo" / "secret-token.yaml").exists()
    result, failed = render(tmp_path, [CONFIG_MAP], extra={"prune": True}, check_mode=True)
    assert result["removed_files"] == ["demo/secret-token.yaml"] and result["changed"]
    assert (tmp_path / "out" / "demo" / "secret-token.yaml").exists()
    result, failed = render(tmp_path, [CONFIG_MAP], extra={"prune": True})
    assert not failed and result["removed_files"] == ["demo/secret-token.yaml"]
    assert not (tmp_path / "out" / "demo" / "secret-token.yaml").exists()
    kustomization = yaml.safe_load((tmp_path / "out" / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["demo/configmap-cfg.yaml"]


def test_secret_values_are_masked_in_everything_the_module_returns(tmp_path):
    """The module registers Secret data values as no_log values: even its arguments are masked."""
    result, failed = render(tmp_path, [CONFIG_MAP, SECRET], extra={"_ansible_verbosity": 3}, diff=True)
    assert not failed
    assert result["invocation"]["module_args"]["secrets"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "c2VjcmV0LXZhbHVl" not in repr(result)
    assert "c2VjcmV0LXZhbHVl" in (tmp_path / "out" / "demo" / "secret-token.yaml").read_text()


def test_same_kind_and_name_in_several_namespaces_get_the_namespace_in_the_file_name(tmp_path):
    bindings = [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                 "metadata": {"name": "pod-launcher", "namespace": namespace}} for namespace in ("a", "b")]
    result, failed = render(tmp_path, [CONFIG_MAP] + bindings)
    assert not failed
    assert result["files"] == ["demo/configmap-cfg.yaml", "demo/rolebinding-a-pod-launcher.yaml", "demo/rolebinding-b-pod-launcher.yaml"]
    assert yaml.safe_load((tmp_path / "out" / "demo" / "rolebinding-b-pod-launcher.yaml").read_text())["metadata"]["namespace"] == "b"


def test_two_objects_in_one_file_are_refused(tmp_path):
    result, failed = render(tmp_path, [CONFIG_MAP, CONFIG_MAP])
    assert failed and "would be written to demo/configmap-airflow-cfg.yaml" in result["msg"]
    assert not (tmp_path / "out").exists()


def test_secrets_stay_out_of_the_modules_log_entry(tmp_path):
    """Every module logs its arguments (syslog/journald): the secrets option is not among them."""
    logged = []
    with mock.patch.object(render_manifests.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg)):
        result, failed = render(tmp_path, [CONFIG_MAP, SECRET])
    assert not failed and logged
    assert "c2VjcmV0LXZhbHVl" not in " ".join(logged) and "secrets=NOT_LOGGING_PARAMETER" in " ".join(logged)


def test_a_secret_among_the_objects_is_refused(tmp_path):
    args = {"path": str(tmp_path / "out"), "objects": {"demo": [SECRET]}}
    result, failed = run_module(render_manifests, args)
    assert failed and "objects.demo[0] is a Secret: hand Secrets over apart" in result["msg"]
    assert "c2VjcmV0LXZhbHVl" not in repr(result)
    assert not (tmp_path / "out").exists()


def reads_token(name="web"):
    """A Deployment whose pods read the Secret ``token`` (secretKeyRef) and the ConfigMap ``cfg`` (volume)."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "airflow"},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "example", "env": [
                    {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "token", "key": "token"}}}]}],
                    "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}]}}}}


def digest(obj):
    """sha256 of a ConfigMap's or Secret's data, stringData and binaryData as sorted-key JSON, computed here."""
    content = {field: obj.get(field) or {} for field in ("data", "stringData", "binaryData")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def rendered_annotations(tmp_path, name="web"):
    written = yaml.safe_load((tmp_path / "out" / "demo" / ("deployment-%s.yaml" % name)).read_text())
    return written["spec"]["template"]["metadata"].get("annotations") or {}


def test_pods_carry_the_checksums_of_what_they_read_from_the_run_or_the_folder(tmp_path):
    """Real files in a temporary folder: a partial run (no Secret, as with --tags) takes the digest
    from the Secret's earlier manifest and changes nothing; a new value changes the Deployment too."""
    result, failed = render(tmp_path, [CONFIG_MAP, SECRET, reads_token()])
    assert not failed
    expected = {"checksum.airflow-k8s.cloud/secret-token": digest(SECRET),
                "checksum.airflow-k8s.cloud/configmap-cfg": digest(CONFIG_MAP)}
    assert rendered_annotations(tmp_path) == expected

    partial, failed = render(tmp_path, [reads_token()])
    assert not failed and partial["changed_files"] == []
    assert rendered_annotations(tmp_path) == expected

    new_secret = dict(SECRET, data={"token": "bmV3LXNlY3JldC12YWx1ZQ=="})
    changed, failed = render(tmp_path, [CONFIG_MAP, new_secret, reads_token()], diff=True)
    assert not failed
    assert changed["changed_files"] == ["demo/deployment-web.yaml", "demo/secret-token.yaml"]
    assert rendered_annotations(tmp_path)["checksum.airflow-k8s.cloud/secret-token"] == digest(new_secret)
    assert "bmV3LXNlY3JldC12YWx1ZQ==" not in repr(changed) and "c2VjcmV0LXZhbHVl" not in repr(changed)


def test_an_object_found_nowhere_gets_no_checksum(tmp_path):
    """Real files: render mode cannot know a Secret made outside the collection, so no annotation for it."""
    result, failed = render(tmp_path, [CONFIG_MAP, reads_token()])
    assert not failed
    assert rendered_annotations(tmp_path) == {"checksum.airflow-k8s.cloud/configmap-cfg": digest(CONFIG_MAP)}
