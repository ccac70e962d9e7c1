# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The housekeeping role's database clean-up, run exactly as rendered, cleans the real metadata database.

Real components: ``site.yml`` rendered with the local inventory through ansible-playbook (the session's
``rendered_deployment``), Apache Airflow 3.3 from ``.venv-airflow`` and the suite's PostgreSQL (Debian's
packages, migrated by ``airflow db migrate``). The CronJob's container arguments are run as they are -
``bash -c <script> ...`` computing the cut-off with GNU ``date`` and exec'ing ``airflow db clean`` - with
the container's environment (Secrets resolved) and the airflow.cfg it mounts; only the database URI points
at the local server. Two audit-log rows, one older and one newer than the retention, show that exactly the
old one is deleted.
"""

import pytest

from tests.conformance.airflow_harness import ComponentRuntime, airflow_workloads

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]


def test_rendered_db_clean_command_cleans_the_metadata_database(metadata_database, rendered_deployment, tmp_path):
    metadata_database.require_migrated()
    found = [(workload, container) for workload, container in airflow_workloads(rendered_deployment)
             if workload["kind"] == "CronJob" and workload["metadata"]["name"] == "airflow-db-clean"]
    assert len(found) == 1, "the db-clean CronJob was not rendered"
    workload, container = found[0]
    args = container["args"]
    assert args[:2] == ["bash", "-c"] and "airflow db clean" in args[2], args
    retention = int(args[4])
    assert "--skip-archive" in args[5:]

    with metadata_database.connect() as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO log (dttm, event) VALUES (now() - make_interval(days => %s), 'conformance-old'),"
                       " (now() - make_interval(days => %s), 'conformance-recent')", (retention + 5, retention - 5))
        connection.commit()

    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    runtime = ComponentRuntime(rendered_deployment, workload, container, home)
    env = runtime.env(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata_database.uri, AIRFLOW__METRICS__STATSD_ON="False")
    import subprocess  # pylint: disable=import-outside-toplevel

    from tests.conformance.airflow_harness import SECRETS  # pylint: disable=import-outside-toplevel

    result = subprocess.run(args, env=env, cwd=str(home), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=600, check=False)
    output = SECRETS.redact(result.stdout + result.stderr)
    assert result.returncode == 0, "the rendered db clean command failed:\n" + output[-4000:]

    with metadata_database.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT event FROM log WHERE event LIKE 'conformance-%' ORDER BY event")
        left = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '_airflow_deleted__%'")
        archives = cursor.fetchone()[0]
    assert left == ["conformance-recent"], "db clean left %s (output:\n%s)" % (left, output[-2000:])
    assert archives == 0, "--skip-archive was given, yet archive tables were created"
