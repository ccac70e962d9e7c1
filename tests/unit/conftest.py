# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.airflow_k8s.cloud`` importable for the unit tests.

Under ``ansible-test units`` the collection is already on the import path. Under plain
``.venv/bin/pytest tests/unit`` from a checkout, ``.collections/ansible_collections/airflow_k8s/cloud``
is a symbolic link to the checkout (see ansible.cfg), so putting ``.collections`` on ``sys.path``
lets the modules and tests import each other by their real names, exactly as Ansible does.
Shared helpers for module tests live in ``tests/unit/plugins/modules/utils.py`` (``run_module``).
"""

from __future__ import annotations

import os
import sys

_REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTIONS_PATH = os.path.join(_REPOSITORY_ROOT, ".collections")


def _collection_importable():
    try:
        import ansible_collections.airflow_k8s.cloud.plugins  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        return False
    return True


if not _collection_importable() and os.path.isdir(os.path.join(_COLLECTIONS_PATH, "ansible_collections")):
    sys.path.insert(0, _COLLECTIONS_PATH)
    # ansible_collections is a namespace package; drop a cached partial lookup so it is recomputed.
    for _name in [name for name in sys.modules if name == "ansible_collections" or name.startswith("ansible_collections.airflow_k8s")]:
        del sys.modules[_name]


def pytest_configure(config):
    """Register the markers these tests use when pytest.ini is not read (``ansible-test units``)."""
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
