# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Filestore layouts the storage role builds volumes for, from the fileshare role's settings.

Real components: ``ansible-playbook`` on ``inventories/gcp`` with a play of the airflow role (shared settings, preflight),
the fileshare role's settings (imported, its tasks skipped: no GCP here, so the facts its gcp tasks
set from the Filestore answer are given as extra vars), the storage role and the sink in render mode;
the rendered YAML is parsed and validated with ``kubernetes-validate --strict``
(tests/support/manifests.py). The GCP calls themselves are checked in test_cloud_module_calls.py.
"""

import glob
import os

import pytest
import yaml

from tests.support import manifests
from tests.support.playbook import run_playbook

pytestmark = pytest.mark.slow

PLAY = """---
- name: The storage role on the fileshare role's Filestore layout
  hosts: airflow
  gather_facts: false
  tasks:
    - name: Shared settings and the preflight
      ansible.builtin.import_role:
        name: airflow_k8s.cloud.airflow
    - name: The fileshare role's settings (its tasks call GCP)
      ansible.builtin.import_role:
        name: airflow_k8s.cloud.fileshare
      when: false
    - name: The volumes
      ansible.builtin.import_role:
        name: airflow_k8s.cloud.storage
    - name: Write them
      ansible.builtin.import_role:
        name: airflow_k8s.cloud.sink
"""
MANAGED = {"sink_mode": "render", "fileshare_manage": True, "fileshare_filestore_zone": "europe-west1-b",
           # What roles/fileshare/tasks/gcp.yml sets from gcp_filestore_instance_info's answer.
           "fileshare_filestore_location": "europe-west1-b", "fileshare_filestore_dags_ip": "10.20.0.2"}
LAYOUTS = {
    "managed-one-instance": dict(MANAGED, fileshare_filestore_logs_ip="10.20.0.2"),
    "managed-two-instances": dict(MANAGED, fileshare_filestore_one_instance=False, fileshare_filestore_logs_ip="10.20.0.10"),
    # An environment that names its existing instances (fileshare_manage false), as before folders existed.
    "existing-two-instances": {"sink_mode": "render", "fileshare_manage": False, "storage_filestore_location": "europe-west1-b",
                               "storage_filestore_dags_instance": "old-dags", "storage_filestore_dags_share": "dags",
                               "storage_filestore_dags_ip": "10.20.0.2", "storage_filestore_logs_instance": "old-logs",
                               "storage_filestore_logs_share": "logs", "storage_filestore_logs_ip": "10.20.0.10"},
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def rendered(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    playbook = folder / "play.yml"
    playbook.write_text(PLAY, encoding="utf-8")
    render = str(folder / "render")
    run = run_playbook(str(playbook), inventory="inventories/gcp", extra_vars=dict(LAYOUTS[request.param], sink_render_dir=render))
    assert run.returncode == 0, run.tail(60)
    objects = []
    for path in sorted(glob.glob(os.path.join(render, "*", "*.yaml"))):
        with open(path, encoding="utf-8") as handle:
            objects.extend(document for document in yaml.safe_load_all(handle) if document)
    problems = manifests.validate_schemas(render)
    assert not problems, "\n".join(problems)
    return request.param, objects


def _of_kind(objects, kind):
    return [obj for obj in objects if obj["kind"] == kind]


def test_volumes_follow_the_layout(rendered):
    layout, objects = rendered
    volumes = {obj["metadata"]["labels"]["airflow-k8s.cloud/share"]: obj["spec"] for obj in _of_kind(objects, "PersistentVolume")}
    if layout == "managed-one-instance":
        # One instance (fileshare_filestore_share: airflow in inventories/gcp), a folder for each share.
        assert {share: (spec["nfs"]["server"], spec["nfs"]["path"]) for share, spec in volumes.items()} == {
            "dags": ("10.20.0.2", "/airflow/dags"), "logs": ("10.20.0.2", "/airflow/logs")}
        assert not [spec for spec in volumes.values() if "csi" in spec]
    else:
        instances = {"managed-two-instances": ("airflow-dags", "airflow-logs"), "existing-two-instances": ("old-dags", "old-logs")}[layout]
        assert {share: spec["csi"]["volumeHandle"] for share, spec in volumes.items()} == {
            "dags": "modeInstance/europe-west1-b/%s/dags" % instances[0], "logs": "modeInstance/europe-west1-b/%s/logs" % instances[1]}
        assert {share: spec["csi"]["volumeAttributes"] for share, spec in volumes.items()} == {
            "dags": {"ip": "10.20.0.2", "volume": "dags"}, "logs": {"ip": "10.20.0.10", "volume": "logs"}}


def test_the_share_setup_job_prepares_every_volume(rendered):
    """Folders are created in their share; a whole share's root is handed over itself."""
    layout, objects = rendered
    [job], [namespace] = _of_kind(objects, "Job"), _of_kind(objects, "Namespace")
    assert job["metadata"]["namespace"] == namespace["metadata"]["name"] == "airflow-share-setup"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    if layout == "managed-one-instance":
        assert container["command"][3:] == ["share-setup", "/shares/share-0/dags", "/shares/share-0/logs"]
        assert pod["volumes"] == [{"name": "share-0", "nfs": {"server": "10.20.0.2", "path": "/airflow"}}]
    else:
        assert container["command"][3:] == ["share-setup", "/shares/share-0", "/shares/share-1"]
        assert pod["volumes"] == [{"name": "share-0", "nfs": {"server": "10.20.0.2", "path": "/dags"}},
                                  {"name": "share-1", "nfs": {"server": "10.20.0.10", "path": "/logs"}}]
    assert [mount["mountPath"] for mount in container["volumeMounts"]] == ["/shares/" + volume["name"] for volume in pod["volumes"]]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN", "FOWNER"]}
