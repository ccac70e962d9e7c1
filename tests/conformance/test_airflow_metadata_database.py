# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The URI from ``airflow_k8s.cloud.connection_uri`` works as Airflow's metadata database connection.

Real components: Apache Airflow 3.3 (``.venv-airflow``, its CLI ``airflow db migrate`` / ``db check``),
a PostgreSQL server from Debian's packages (``postgresql_server``), and the connection_uri module
run through ansible-playbook. The database role's password contains ``@ : / ? # [ ] % + & = ' "``,
spaces, a ready-made ``%41`` escape and non-ASCII characters; the database name has a space.
"""

import pytest

from tests.conformance.airflow_harness import airflow_env, run_airflow, run_airflow_python, write_private

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]

READ_BACK_SQL_ALCHEMY_CONN = """
import json, os
from airflow.configuration import conf
print(json.dumps(conf.get("database", "sql_alchemy_conn") == os.environ["CONFORMANCE_EXPECTED_URI"]))
"""


def test_db_migrate_completes(metadata_database):
    """`airflow db migrate` with the module's URI in AIRFLOW__DATABASE__SQL_ALCHEMY_CONN completes,
    and the schema lands in the intended database, owned by the intended role."""
    metadata_database.migrate_result.require_ok()
    with metadata_database.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        assert cursor.fetchone() == (metadata_database.role, metadata_database.database)
        cursor.execute("SELECT count(*) FROM alembic_version")
        assert cursor.fetchone() == (1,)
        cursor.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'dag'")
        assert cursor.fetchone() == (metadata_database.role,)


def test_db_check_with_uri_in_environment(metadata_database, airflow_home):
    """`airflow db check` passes with the URI as an environment variable (as the Secret provides it)."""
    metadata_database.require_migrated()
    assert "***" in metadata_database.uri_redacted
    assert metadata_database.password not in metadata_database.uri_redacted
    run_airflow(["db", "check"], metadata_database.env(airflow_home), check=True)
    run_airflow(["db", "check-migrations", "--migration-wait-timeout=1"], metadata_database.env(airflow_home), check=True)


def test_escaped_uri_in_airflow_cfg(metadata_database, airflow_home):
    """With escape_for_configparser the URI written into airflow.cfg reads back exactly and connects."""
    metadata_database.require_migrated()
    write_private(
        airflow_home / "airflow.cfg",
        "[core]\nload_examples = False\n\n[database]\nsql_alchemy_conn = %s\n" % metadata_database.cfg_uri,
    )
    # airflow_env() sets no database variable: the value must come from the file.
    env = airflow_env(airflow_home, CONFORMANCE_EXPECTED_URI=metadata_database.uri)
    assert run_airflow_python(READ_BACK_SQL_ALCHEMY_CONN, env) is True, (
        "Airflow read back a different sql_alchemy_conn from airflow.cfg than the module's plain URI"
    )
    run_airflow(["db", "check"], env, check=True)


def test_unescaped_uri_in_airflow_cfg_does_not_work(metadata_database, airflow_home):
    """Control: the same URI *without* escape_for_configparser breaks in airflow.cfg (configparser
    interpolation eats the percent escapes), so the escaped variant is what makes the previous test pass."""
    metadata_database.require_migrated()
    assert "%" in metadata_database.uri and metadata_database.uri != metadata_database.cfg_uri
    write_private(
        airflow_home / "airflow.cfg",
        "[core]\nload_examples = False\n\n[database]\nsql_alchemy_conn = %s\n" % metadata_database.uri,
    )
    result = run_airflow(["db", "check"], airflow_env(airflow_home))
    assert not result.ok, "an unescaped URI in airflow.cfg unexpectedly worked:\n" + result.describe()
    assert "InterpolationSyntaxError" in result.stderr, "it failed, but not on the percent escapes:\n" + result.describe()
