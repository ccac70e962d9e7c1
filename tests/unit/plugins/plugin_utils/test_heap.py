# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/heap.py: the controller's heap is frozen when the collection's action plugins that run
before the workers are forked are imported (the preflight, the Kubernetes actions), in a fresh process
as the controller's main process imports them."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import gc
import os
import subprocess
import sys

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.plugin_utils import heap, templating

IMPORT_CHECK = r"""
import gc, importlib, sys
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader([sys.argv[1]])
before = gc.get_freeze_count()
module = importlib.import_module("ansible_collections.airflow_k8s.cloud.plugins.action." + sys.argv[2])
print(before, gc.get_freeze_count(), "kubernetes" in sys.modules)
"""


def test_freeze_heap_moves_what_is_alive_into_the_permanent_generation():
    kept = [[index] for index in range(1000)]
    try:
        heap.freeze_heap()
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("action, client", [("preflight", False), ("k8s_apply", True), ("k8s_wait", True)])
def test_importing_the_action_plugin_freezes_the_heap(action, client):
    """What the import brings (for the Kubernetes actions: the client's modules) is frozen with the rest."""
    collections_path = os.path.dirname(os.path.dirname(os.path.dirname(templating._COLLECTION_ROOT)))
    run = subprocess.run([sys.executable, "-c", IMPORT_CHECK, collections_path, action], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    before, after, imported = run.stdout.split()
    assert int(before) == 0 and int(after) > 10000, run.stdout
    assert imported == str(client)
