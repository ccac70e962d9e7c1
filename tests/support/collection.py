"""Helpers to work with the collection as users get it.

`copy_collection(dest_root)` lays the checkout out as
``<dest_root>/ansible_collections/airflow_k8s/cloud`` (the layout ``ansible-test`` needs),
copying only what git would ship: local environments, build output and caches stay behind.
"""

import os
import shutil
import subprocess

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(REPO_ROOT, ".venv", "bin")

_IGNORED = {
    ".git", ".venv", ".collections", "build", ".pytest_cache", ".hypothesis", "__pycache__",
    ".cache", ".ansible", "tests/output",
}


def _ignore(directory, names):
    relative = os.path.relpath(directory, REPO_ROOT)
    ignored = set()
    for name in names:
        path = name if relative == "." else os.path.join(relative, name)
        if name in _IGNORED or path in _IGNORED or name.startswith(".venv") or name.endswith(".tar.gz"):
            ignored.add(name)
    return ignored


def copy_collection(dest_root):
    """Copy the collection to dest_root/ansible_collections/airflow_k8s/cloud; return that path."""
    target = os.path.join(str(dest_root), "ansible_collections", "airflow_k8s", "cloud")
    shutil.copytree(REPO_ROOT, target, ignore=_ignore, symlinks=True)
    # ansible-test only looks at files git knows about when the tree is a git repository.
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    return target


def tool(name):
    """Path of a command from the project's virtual environment."""
    return os.path.join(VENV_BIN, name)
