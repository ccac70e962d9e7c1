# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root pytest configuration: generic fixtures shared by every test suite.

- The repository root is put on ``sys.path`` so that ``tests.support.*`` helpers import the same
  way from any suite (``from tests.support.postgres import PostgresServer``).
- ``postgresql_server`` (session scope): a real, throwaway PostgreSQL server from Debian's
  packages, started once per test session on 127.0.0.1 and removed afterwards
  (see ``tests/support/postgres.py``). Tests that use it should carry ``@pytest.mark.postgres``.
  It skips, with the reason, when no server binaries are installed.
"""

import os
import sys

import pytest

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, REPOSITORY_ROOT)

from tests.support.postgres import PostgresServer, PostgresUnavailable  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def postgresql_server():
    """A started :class:`tests.support.postgres.PostgresServer`; stopped and deleted at session end."""
    pytest.importorskip("psycopg2", reason="psycopg2 is needed to talk to the test PostgreSQL server")
    try:
        server = PostgresServer()
    except PostgresUnavailable as error:
        pytest.skip("PostgreSQL server not available: %s" % error)
    server.start()
    try:
        yield server
    finally:
        server.stop()
