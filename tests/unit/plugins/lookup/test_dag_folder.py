# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dag_folder lookup: binary-safe reading, the sha256sum-style checksum, exclusions, ConfigMap keys."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

from ansible.errors import AnsibleLookupError

from ansible_collections.airflow_k8s.cloud.plugins.lookup.dag_folder import read_folder

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

DEFAULT_EXCLUDE = ["__pycache__", "*.pyc", ".*"]


def make(tmp_path, files):
    root = tmp_path / "dags"
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def test_reads_files_binary_safe_with_digests_and_the_sha256sum_checksum(tmp_path):
    root = make(tmp_path, {"a.py": b"print('a')\n", "sub/b.sql": b"select 1;", "sub/deeper/blob.bin": bytes(range(256))})
    result = read_folder(str(root), DEFAULT_EXCLUDE)
    assert [item["path"] for item in result["files"]] == ["a.py", "sub/b.sql", "sub/deeper/blob.bin"]
    assert base64.b64decode(result["files"][2]["content"]) == bytes(range(256))
    assert result["total_bytes"] == 11 + 9 + 256
    # The checksum is what `sha256sum <sorted paths> | sha256sum` prints, run in the folder.
    listing = subprocess.run(["sha256sum", "a.py", "sub/b.sql", "sub/deeper/blob.bin"], cwd=str(root),
                             check=True, stdout=subprocess.PIPE).stdout
    assert result["manifest"].encode() == listing
    assert result["checksum"] == hashlib.sha256(listing).hexdigest()


def test_checksum_changes_with_content_names_and_membership_only(tmp_path):
    root = make(tmp_path, {"a.py": b"1", "b.py": b"2"})
    first = read_folder(str(root), DEFAULT_EXCLUDE)["checksum"]
    (root / "a.py").touch()  # a new modification time, same content
    assert read_folder(str(root), DEFAULT_EXCLUDE)["checksum"] == first
    (root / "a.py").write_bytes(b"1 ")
    edited = read_folder(str(root), DEFAULT_EXCLUDE)["checksum"]
    (root / "a.py").rename(root / "c.py")
    renamed = read_folder(str(root), DEFAULT_EXCLUDE)["checksum"]
    (root / "c.py").unlink()
    removed = read_folder(str(root), DEFAULT_EXCLUDE)["checksum"]
    assert len({first, edited, renamed, removed}) == 4


def test_excludes_match_any_part_of_the_path(tmp_path):
    root = make(tmp_path, {"a.py": b"", "__pycache__/a.cpython-311.pyc": b"", "sub/x.pyc": b"", ".airflowignore": b"",
                           "sub/.hidden/y.py": b"", "tests/test_a.py": b"", "sub/tests/z.py": b""})
    default = [item["path"] for item in read_folder(str(root), DEFAULT_EXCLUDE)["files"]]
    assert default == ["a.py", "sub/tests/z.py", "tests/test_a.py"]
    custom = [item["path"] for item in read_folder(str(root), DEFAULT_EXCLUDE + ["tests"])["files"]]
    assert custom == ["a.py"]


def test_config_map_keys_are_valid_and_unique(tmp_path):
    root = make(tmp_path, {"a/b.py": b"1", "a__b.py": b"2", "a b.py": b"3", "a_b.py": b"4", "x" * 200 + "/" + "y" * 200 + ".py": b"5"})
    files = read_folder(str(root), DEFAULT_EXCLUDE)["files"]
    keys = [item["key"] for item in files]
    assert len(set(keys)) == len(keys) == 5
    for key in keys:
        assert re.match(r"^[-._a-zA-Z0-9]+$", key) and len(key) <= 253 and not key.startswith(".")


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(AnsibleLookupError, match="does not exist"):
        read_folder(str(tmp_path / "missing"), DEFAULT_EXCLUDE)


def _ad_hoc(expression):
    """Evaluate a template with the ansible command line (ad hoc debug); returns (ok, msg or error)."""
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    if not os.path.exists(ansible):
        pytest.skip("the ansible command line is not next to this Python")
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_NOCOLOR="1")
    process = subprocess.run([ansible, "localhost", "-m", "ansible.builtin.debug", "-a", "msg=" + json.dumps(expression)],
                             cwd=REPOSITORY_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                             check=False)
    result = json.loads(process.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return not result.get("failed"), result.get("msg")


def test_the_lookup_as_ansible_runs_it(tmp_path):
    """Through ansible's own plugin loading (options from DOCUMENTATION): the default exclude, an explicit one."""
    root = make(tmp_path, {"a.py": b"1", "b.txt": b"2", "__pycache__/a.pyc": b"3"})
    ok, paths = _ad_hoc("{{ [lookup('airflow_k8s.cloud.dag_folder', '%s'), lookup('airflow_k8s.cloud.dag_folder', '%s', exclude=['*.txt'])]"
                        " | map(attribute='files') | map('map', attribute='path') | map('list') | list }}" % (root, root))
    assert ok, paths
    # An explicit exclude replaces the default one.
    assert paths == [["a.py", "b.txt"], ["__pycache__/a.pyc", "a.py"]]
    ok, error = _ad_hoc("{{ lookup('airflow_k8s.cloud.dag_folder', '%s', '%s') }}" % (root, root))
    assert not ok and "exactly one folder" in error
