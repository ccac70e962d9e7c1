# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DAGs placed where the DAG share is mounted are found and parsed by Airflow without import errors.

Real components: Apache Airflow 3.3 (``.venv-airflow``): the ``airflow dag-processor`` that the
deployment runs against the share, for one parsing loop, then ``airflow dags list-import-errors``
and ``airflow dags list`` reading what it stored in the metadata database (PostgreSQL from Debian's
packages). The share is a temporary directory holding the suite's example DAG
(``tests/conformance/dags``), the collection's shipped example DAGs when they exist
(``examples/dags``, ``roles/dags/files``), and one deliberately broken file as a control: it must
be the only import error, which shows that an import error would be reported.
"""

import pytest

from tests.conformance.airflow_harness import run_airflow

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]

BROKEN_DAG = '''\
"""Deliberately broken: imports a module that does not exist."""
from airflow.sdk import DAG
import conformance_module_that_does_not_exist  # noqa: F401

with DAG(dag_id="conformance_broken", schedule=None):
    pass
'''


def test_dags_on_the_share_parse_without_import_errors(metadata_database, airflow_home, share):
    metadata_database.require_migrated()
    dags = share["dags"]
    (dags / "conformance_broken.py").write_text(BROKEN_DAG, encoding="utf-8")
    env = metadata_database.env(airflow_home, AIRFLOW__CORE__DAGS_FOLDER=dags)

    run_airflow(["dag-processor", "--num-runs", "1"], env, check=True)

    errors = run_airflow(["dags", "list-import-errors", "--output", "json"], env)
    reported = sorted(str(error["filepath"]) for error in errors.json())
    assert reported == ["conformance_broken.py"], (
        "expected exactly the deliberately broken file among the import errors, got:\n" + errors.describe()
    )

    listed = run_airflow(["dags", "list", "--output", "json"], env, check=True).json()
    by_id = {dag["dag_id"]: dag for dag in listed}
    assert "conformance_example" in by_id, "the example DAG was not found on the share:\n%s" % sorted(by_id)
    assert "conformance_broken" not in by_id
    # Every DAG file the collection ships defines at least one DAG that Airflow found. Like Airflow's
    # safe mode, files that mention neither "airflow" nor "dag" are helpers, not DAG files.
    parsed_files = {str(dag.get("relative_fileloc") or dag.get("fileloc")) for dag in listed}
    for path in share["shipped"]:
        relative = path.relative_to(dags).as_posix()
        text = path.read_text(encoding="utf-8").lower()
        if "airflow" in text and "dag" in text:
            assert any(name.endswith(relative) for name in parsed_files), (
                "shipped DAG file %s produced no DAG (parsed: %s)" % (relative, sorted(parsed_files))
            )
