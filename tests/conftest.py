# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root pytest configuration: generic fixtures shared by every test suite.

- The repository root is put on ``sys.path`` so that ``tests.support.*`` helpers import the same
  way from any suite (``from tests.support.postgres import PostgresServer``).
- ``postgresql_server`` (session scope): a real, throwaway PostgreSQL server from Debian's
  packages, started once per test session on 127.0.0.1 and removed afterwards
  (see ``tests/support/postgres.py``). Tests that use it should carry ``@pytest.mark.postgres``.
  It skips, with the reason, when no server binaries are installed.
- The longest files start first (``START_FIRST``), so that the xdist workers finish together.
"""

import os
import sys

import pytest

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, REPOSITORY_ROOT)

from tests.support.postgres import PostgresServer, PostgresUnavailable  # noqa: E402  pylint: disable=wrong-import-position


# The files that take longest (each about 1.5 to 6 minutes of one worker on the 2-core CI machine, from
# `make test`'s --durations report), in that order, before every other file: `make test` runs the
# files whole on each xdist worker (--dist loadfile) in collection order (--no-loadscope-reorder).
# xdist's default order, most tests first, started the one 3-minute Molecule test last, alone, while
# the other worker had nothing left to do.
START_FIRST = (
    "tests/functional/test_cloud_module_calls.py",
    "tests/functional/test_aws_lifecycle.py",
    "tests/functional/test_molecule_aws.py",
    "tests/functional/test_quality.py",
    "tests/conformance/test_airflow_remote_logging.py",
    "tests/functional/test_molecule_emulated.py",
    "tests/functional/test_executors.py",
    "tests/conformance/test_airflow_executors.py",
)


def pytest_collection_modifyitems(items):
    """START_FIRST's files first, in its order; every other test keeps its place (a stable sort)."""
    missing = [path for path in START_FIRST if not os.path.isfile(os.path.join(REPOSITORY_ROOT, path))]
    if missing:
        raise pytest.UsageError("tests/conftest.py START_FIRST names files that do not exist: %s" % ", ".join(missing))
    rank = dict((path, index) for index, path in enumerate(START_FIRST))
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


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
