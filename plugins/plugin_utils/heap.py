# Copyright (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's heap, frozen before it forks workers.

ansible-playbook forks a worker process for every task. By the time site.yml's first task runs,
the controller's main process holds a large heap that never becomes garbage: ansible-core and its
plugins, every role's parsed files and, in apply mode, the Kubernetes client's model classes. Python's
cyclic garbage collector still walks all of it on every full collection, in the main process and in
each worker, and walking it writes to every object's header, so each worker copies the pages it
inherited instead of sharing them. :func:`freeze_heap` moves everything alive now into the
collector's permanent generation (:func:`gc.freeze`, which Python's documentation recommends
before forking for exactly this): it is no longer walked, and the pages stay shared. Objects made
later are collected as before. Measured on a no-op converge of the local inventory (bench/), about
a tenth of the run.

Called when an action plugin of the collection is imported, in the main process, before the
worker of its task is forked: the preflight (site.yml's first task) and the Kubernetes actions
(their import brings the client). What it freezes lives until the process ends, which for
ansible-playbook is the end of the run.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import gc


def freeze_heap():
    """Move every object alive now into the garbage collector's permanent generation."""
    gc.freeze()
