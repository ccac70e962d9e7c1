# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke test of the benchmarks (bench/, ``python -m bench``): its cheapest part, tiny settings.

Real components: ``python -m bench`` from the checkout's .venv, which runs the real site.yml in
render mode (``ansible-playbook``) for two inventories, restricted to ``--tags namespace`` so that
the test stays short. It checks the printed report and the JSON it writes: every ratio is the
quotient of two figures measured in the same run. No timed assertion: the machine is shared.
"""

import json
import os
import re
import subprocess

import pytest

from tests.support.collection import REPO_ROOT, tool

pytestmark = [pytest.mark.slow]


def test_bench_render_part_reports_ratios_of_its_own_measurements(tmp_path):
    output = tmp_path / "bench.json"
    process = subprocess.run(
        [tool("python"), "-m", "bench", "--parts", "render", "--inventories", "local,gcp", "--tags", "namespace,database",
         "--repeat", "1", "--json", str(output), "--workdir", str(tmp_path / "work")],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert process.returncode == 0, process.stdout + process.stderr

    results = json.loads(output.read_text(encoding="utf-8"))
    assert "converge" not in results  # only the part asked for ran
    rendered = results["render"]
    assert sorted(rendered["seconds"]) == ["gcp", "local"]
    for inventory in ("local", "gcp"):
        runs = rendered["runs"][inventory]
        assert len(runs) == 1 and runs[0]["returncode"] == 0
        # The reported figure is the measured run (rounded in the per-run record), not a constant.
        assert rendered["seconds"][inventory] > 0
        assert runs[0]["seconds"] == pytest.approx(rendered["seconds"][inventory], abs=0.001)
        # --tags namespace,database renders those steps only, into the folder the bench kept.
        render_dir = tmp_path / "work" / ("render-%s-0" % inventory)
        files = sorted(str(p.relative_to(render_dir)) for p in render_dir.rglob("*.yaml") if p.name != "kustomization.yaml")
        assert rendered["objects"][inventory] == len(files) and "namespace/namespace-airflow.yaml" in files
        # The floor wrote the same files (Secrets included) in one task of one ansible-playbook process.
        floor = rendered["floor_runs"][inventory]
        assert len(floor) == 1 and floor[0]["returncode"] == 0 and rendered["floor_seconds"][inventory] > 0
        floor_dir = tmp_path / "work" / ("render-floor-%s-0" % inventory)
        assert sorted(str(p.relative_to(floor_dir)) for p in floor_dir.rglob("*.yaml") if p.name != "kustomization.yaml") == files
        assert rendered["ratio_to_floor"][inventory] == pytest.approx(
            rendered["seconds"][inventory] / rendered["floor_seconds"][inventory])
    assert results["environment"]["repeat"] == 1
    assert results["command"].startswith("python -m bench --parts render")

    # The local inventory's in-cluster PostgreSQL has a Secret: the floor wrote it through its no_log option.
    assert "database/secret-airflow-postgresql.yaml" in [
        str(p.relative_to(tmp_path / "work" / "render-floor-local-0")) for p in (tmp_path / "work" / "render-floor-local-0").rglob("*.yaml")]

    # The printed report shows the same figures.
    report = process.stdout
    assert "(c) render time per inventory vs the floor: one ansible-playbook, one task writing the same files (--tags namespace,database)" in report
    for inventory in ("local", "gcp"):
        line = re.search(r"^\s+%s\s+(\d+\.\d\d) s\s+(\d+\.\d\d) s\s+(\d+\.\d)x\s+(\d+\.\d\d) s\s+(\d+\.\d\d) s\s+(\d+\.\d)x"
                         r"\s+\((\d+) manifests\)$" % inventory, report, re.MULTILINE)
        assert line, report
        assert float(line.group(1)) == pytest.approx(rendered["seconds"][inventory], abs=0.006)
        assert float(line.group(2)) == pytest.approx(rendered["floor_seconds"][inventory], abs=0.006)
        assert float(line.group(3)) == pytest.approx(rendered["ratio_to_floor"][inventory], abs=0.06)
        # CPU seconds of the run's processes (ansible-playbook and its workers), and their ratio.
        assert float(line.group(4)) == pytest.approx(rendered["cpu_seconds"][inventory], abs=0.006)
        assert float(line.group(5)) == pytest.approx(rendered["floor_cpu_seconds"][inventory], abs=0.006)
        assert 0 < rendered["floor_cpu_seconds"][inventory] <= rendered["floor_seconds"][inventory] * os.cpu_count()
        assert float(line.group(6)) == pytest.approx(rendered["ratio_to_floor_cpu"][inventory], abs=0.06)
        assert int(line.group(7)) == rendered["objects"][inventory]


def test_bench_refuses_unknown_parts():
    process = subprocess.run([tool("python"), "-m", "bench", "--parts", "deploy"], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert process.returncode == 2
    assert "unknown parts" in process.stderr


def test_bench_vars_reach_every_site_yml_run(tmp_path):
    """``--vars bench/vars/celery.yml``: the render runs with CeleryExecutor, so the workers and the in-cluster
    Redis are rendered (under the default KubernetesExecutor those steps render nothing); the report and the
    JSON name the file. Real site.yml, render mode, --tags workers,broker to keep it short."""
    output = tmp_path / "bench.json"
    process = subprocess.run(
        [tool("python"), "-m", "bench", "--parts", "render", "--inventories", "local", "--tags", "workers,broker",
         "--vars", "bench/vars/celery.yml", "--repeat", "1", "--json", str(output), "--workdir", str(tmp_path / "work")],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    results = json.loads(output.read_text(encoding="utf-8"))
    assert results["environment"]["vars"] == ["bench/vars/celery.yml"]
    assert "every site.yml run with -e @bench/vars/celery.yml" in process.stdout
    render_dir = tmp_path / "work" / "render-local-0"
    files = sorted(str(p.relative_to(render_dir)) for p in render_dir.rglob("*.yaml") if p.name != "kustomization.yaml")
    assert {"workers/statefulset-airflow-worker.yaml", "broker/statefulset-airflow-redis.yaml"} <= set(files), files


def test_bench_refuses_a_missing_vars_file():
    process = subprocess.run([tool("python"), "-m", "bench", "--vars", "bench/vars/no-such-file.yml"], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert process.returncode == 2
    assert "--vars: no such file bench/vars/no-such-file.yml" in process.stderr
