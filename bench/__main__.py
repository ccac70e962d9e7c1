# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks of airflow_k8s.cloud, printed as ratios of figures measured in the same run.

    python -m bench                                   # everything (from the repository root)
    python -m bench --parts converge --repeat 3       # (a) and (b) only
    python -m bench --parts render --inventories local,aws
    python -m bench --vars bench/vars/celery.yml      # the same with CeleryExecutor (workers and Redis)

Parts
    converge  (a) a no-op converge of site.yml (local inventory, apply mode) against the
              Kubernetes API emulator (tests/support/k8s_emulator.py) versus the floor: ONE
              kubernetes.core.k8s task applying the same objects, rendered by site.yml in render
              mode; (b) API requests per object of both, from the emulator's request log.
    render    (c) the render time of each inventory (site.yml, render mode, into a new folder)
              versus the Ansible floor: ONE ansible-playbook process on the same inventory with
              ONE task (airflow_k8s.cloud.render_manifests) writing the same files; the absolute
              seconds of both are reported too.

Every figure is the median of ``--repeat`` runs, and every ratio divides two figures of this run.
The raw measurements and the ratios are written as JSON (``--json``, default
bench/results/latest.json). The emulator is an emulator, not a cluster: the figures compare the
collection's overhead with the floor on the same machine, not with a real API server.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import argparse
import collections
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from tests.support import manifests
from tests.support.k8s_emulator import EmulatorProcess
from tests.support.playbook import run_playbook

REPOSITORY_ROOT = manifests.REPOSITORY_ROOT
DEFAULT_JSON = os.path.join(REPOSITORY_ROOT, "bench", "results", "latest.json")
PARTS = ("converge", "render")
# The sink's field manager (roles/sink/defaults/main.yml): the floor applies as the collection does.
FIELD_MANAGER = "airflow-k8s-cloud"
# Kinds the floor applies first, as a cluster needs them (everything else is namespaced).
FIRST_KINDS = ("Namespace", "CustomResourceDefinition", "StorageClass", "PersistentVolume", "ClusterRole")

FLOOR_PLAYBOOK = """---
# The floor of a converge: every object of the render in ONE kubernetes.core.k8s task.
- name: Floor
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Apply every object in one task
      kubernetes.core.k8s:
        state: present
        apply: true
        server_side_apply:
          field_manager: "{{ floor_field_manager }}"
          force_conflicts: true
        definition: "{{ floor_objects }}"
        kubeconfig: "{{ floor_kubeconfig }}"
        context: "{{ floor_context }}"
      no_log: true
"""


RENDER_FLOOR_PLAYBOOK = """---
# The floor of a render: the same files, written by ONE task of ONE ansible-playbook process.
- name: Render floor
  hosts: airflow
  gather_facts: false
  tasks:
    - name: Write every manifest in one task
      airflow_k8s.cloud.render_manifests:
        path: "{{ floor_render_dir }}"
        objects: "{{ floor_objects }}"
        secrets: "{{ floor_secrets | to_json }}"
      no_log: true
"""


class Measurement(object):
    """One timed ansible-playbook run: seconds (wall clock, and CPU of the run's processes), changed
    count, return code, emulator requests."""

    def __init__(self, timing, run, requests=None):
        self.seconds, self.cpu_seconds = timing
        self.changed = run.changed
        self.returncode = run.returncode
        self.requests = requests or []
        self.tail = run.tail(40) if run.returncode else ""

    def as_dict(self):
        verbs = collections.Counter(record.get("verb") or record.get("method") for record in self.requests)
        return {"seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3), "changed": self.changed, "returncode": self.returncode,
                "requests": len(self.requests), "requests_by_verb": dict(sorted(verbs.items()))}


def _cpu_of_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(function, *args, **kwargs):
    """Run ``function``; returns ((wall seconds, CPU seconds of the processes it ran and waited for), its result).
    The CPU seconds (ansible-playbook, its workers and module processes) hardly move with the load of
    the machine, where the wall clock does: on a busy machine, compare those."""
    started, cpu = time.monotonic(), _cpu_of_children()
    result = function(*args, **kwargs)
    return (time.monotonic() - started, _cpu_of_children() - cpu), result


def _check(measurement, what):
    if measurement.returncode != 0:
        raise RuntimeError("%s failed (exit code %d):\n%s" % (what, measurement.returncode, measurement.tail))


def _median(values):
    return statistics.median(values) if values else None


def _ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _private_dir(path):
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _tag_args(tags, variables=()):
    """site.yml's arguments for ``--tags`` and every ``--vars`` file (-e @file, in the order given)."""
    return (["--tags", tags] if tags else []) + [argument for path in variables for argument in ("-e", "@" + path)]


def render(inventory, render_dir, tags="", env=None, variables=()):
    """Render ``inventory`` into ``render_dir`` (must not exist yet); returns a Measurement."""
    timing, run = _timed(manifests.run_playbook, inventory, render_dir, extra_args=_tag_args(tags, variables), env=env)
    measurement = Measurement(timing, run)
    _check(measurement, "rendering inventories/%s" % inventory)
    return measurement


def rendered_objects(render_dir):
    """The rendered objects, in the order a cluster accepts them (cluster-scoped kinds first)."""
    objects = [document for _path, document in manifests.load_manifests(render_dir)]
    return sorted(objects, key=lambda obj: FIRST_KINDS.index(obj["kind"]) if obj["kind"] in FIRST_KINDS else len(FIRST_KINDS))


def _requests_during(emulator, function, *args, **kwargs):
    """Run ``function``; returns (its timing, its result, the emulator requests it caused)."""
    before = len(emulator.read_request_log())
    timing, result = _timed(function, *args, **kwargs)
    # The emulator logs a request once it has answered it; the playbook has ended, so all are in.
    return timing, result, emulator.read_request_log()[before:]


def converge(emulator, workdir, tags="", env=None, variables=()):
    """site.yml with the local inventory in apply mode against the emulator; returns a Measurement."""
    apply_mode = {"sink_mode": "apply", "sink_kubeconfig": emulator.kubeconfig, "sink_context": emulator.context}
    timing, run, requests = _requests_during(
        emulator, manifests.run_playbook, "local", os.path.join(workdir, "unused-render"), extra_vars=apply_mode,
        extra_args=_tag_args(tags, variables), env=env)
    measurement = Measurement(timing, run, requests)
    _check(measurement, "converging site.yml against the emulator")
    return measurement


def floor(emulator, workdir, objects, env=None):
    """The floor: one kubernetes.core.k8s task applying ``objects``; returns a Measurement."""
    playbook = os.path.join(workdir, "floor.yml")
    with open(playbook, "w", encoding="utf-8") as stream:
        stream.write(FLOOR_PLAYBOOK)
    # The objects include Secrets: the runner hands them over in a private file (mode 0600).
    variables = {"floor_objects": objects, "floor_kubeconfig": emulator.kubeconfig, "floor_context": emulator.context,
                 "floor_field_manager": FIELD_MANAGER, "ansible_python_interpreter": os.path.join(manifests.VENV_BIN, "python"),
                 "ansible_connection": "local"}
    timing, run, requests = _requests_during(emulator, run_playbook, playbook, inventory="localhost,", extra_vars=variables, env=env)
    measurement = Measurement(timing, run, requests)
    _check(measurement, "the floor playbook")
    return measurement


def bench_converge(workdir, repeat, tags="", render_dir=None, log=print, variables=()):
    """(a) and (b): the no-op converge and the floor, ``repeat`` times each, on one emulator."""
    env = {"TMPDIR": _private_dir(os.path.join(workdir, "tmp"))}
    if render_dir is None:
        render_dir = os.path.join(workdir, "render-local-objects")
        log("  rendering the local inventory (the floor's objects)")
        render("local", render_dir, tags=tags, env=env, variables=variables)
    objects = rendered_objects(render_dir)
    if not objects:
        raise RuntimeError("the render in %s holds no object" % render_dir)
    with EmulatorProcess.start(_private_dir(os.path.join(workdir, "emulator-converge"))) as emulator:
        log("  first converge (creates %d objects)" % len(objects))
        first = converge(emulator, workdir, tags=tags, env=env, variables=variables)
        noop = []
        for index in range(repeat):
            log("  no-op converge %d/%d" % (index + 1, repeat))
            noop.append(converge(emulator, workdir, tags=tags, env=env, variables=variables))
    # The floor gets an empty emulator of its own: the render has its own Secrets (and so its own
    # pod template checksums), which the converged cluster would refuse on immutable Job templates.
    with EmulatorProcess.start(_private_dir(os.path.join(workdir, "emulator-floor"))) as emulator:
        log("  floor: first apply")
        floor_first = floor(emulator, workdir, objects, env=env)
        floor_noop = []
        for index in range(repeat):
            log("  floor: no-op apply %d/%d" % (index + 1, repeat))
            floor_noop.append(floor(emulator, workdir, objects, env=env))
    noop_seconds = _median([m.seconds for m in noop])
    floor_seconds = _median([m.seconds for m in floor_noop])
    noop_cpu = _median([m.cpu_seconds for m in noop])
    floor_cpu = _median([m.cpu_seconds for m in floor_noop])
    noop_requests = _median([len(m.requests) for m in noop])
    floor_requests = _median([len(m.requests) for m in floor_noop])
    return {
        "objects": len(objects),
        "tags": tags,
        "first_converge": first.as_dict(),
        "noop_converge": [m.as_dict() for m in noop],
        "floor_first_apply": floor_first.as_dict(),
        "floor_noop": [m.as_dict() for m in floor_noop],
        "noop_converge_seconds": noop_seconds,
        "floor_seconds": floor_seconds,
        "ratio_noop_converge_to_floor": _ratio(noop_seconds, floor_seconds),
        "ratio_first_converge_to_floor_first_apply": _ratio(first.seconds, floor_first.seconds),
        "noop_converge_cpu_seconds": noop_cpu,
        "floor_cpu_seconds": floor_cpu,
        "ratio_noop_converge_to_floor_cpu": _ratio(noop_cpu, floor_cpu),
        "ratio_first_converge_to_floor_first_apply_cpu": _ratio(first.cpu_seconds, floor_first.cpu_seconds),
        "noop_converge_requests_per_object": _ratio(noop_requests, len(objects)),
        "floor_requests_per_object": _ratio(floor_requests, len(objects)),
        "ratio_requests_converge_to_floor": _ratio(noop_requests, floor_requests),
    }


def rendered_by_component(render_dir):
    """The rendered objects and Secrets by component (sub-folder), as render_manifests takes them."""
    objects, secrets = {}, {}
    for path, document in manifests.load_manifests(render_dir):
        target = secrets if document["kind"] == "Secret" else objects
        target.setdefault(os.path.basename(os.path.dirname(path)), []).append(document)
    return objects, secrets


def render_floor(inventory, rendered, render_dir, workdir, env=None):
    """The floor of (c): one ansible-playbook on ``inventories/<inventory>``, one task writing ``objects``."""
    playbook = os.path.join(workdir, "render-floor.yml")
    with open(playbook, "w", encoding="utf-8") as stream:
        stream.write(RENDER_FLOOR_PLAYBOOK)
    # The objects include Secrets: the runner hands them over in a private file (mode 0600).
    objects, secrets = rendered
    variables = {"floor_objects": objects, "floor_secrets": secrets, "floor_render_dir": render_dir}
    timing, run = _timed(run_playbook, playbook, inventory=os.path.join("inventories", inventory), extra_vars=variables, env=env)
    measurement = Measurement(timing, run)
    _check(measurement, "the render floor of inventories/%s" % inventory)
    return measurement


def bench_render(workdir, inventories, repeat, tags="", log=print, variables=()):
    """(c): the render time of each inventory and of its floor, ``repeat`` times into new folders."""
    env = {"TMPDIR": _private_dir(os.path.join(workdir, "tmp"))}
    runs = {}
    last_dirs = {}
    for index in range(repeat):
        for inventory in inventories:
            render_dir = os.path.join(workdir, "render-%s-%d" % (inventory, index))
            log("  render %s %d/%d" % (inventory, index + 1, repeat))
            runs.setdefault(inventory, []).append(render(inventory, render_dir, tags=tags, env=env, variables=variables))
            last_dirs[inventory] = render_dir
    floors = {}
    for inventory in inventories:
        objects = rendered_by_component(last_dirs[inventory])
        for index in range(repeat):
            log("  render floor %s %d/%d" % (inventory, index + 1, repeat))
            floor_dir = os.path.join(workdir, "render-floor-%s-%d" % (inventory, index))
            floors.setdefault(inventory, []).append(render_floor(inventory, objects, floor_dir, workdir, env=env))
    seconds = {inventory: _median([m.seconds for m in measured]) for inventory, measured in runs.items()}
    floor_seconds = {inventory: _median([m.seconds for m in measured]) for inventory, measured in floors.items()}
    cpu = {inventory: _median([m.cpu_seconds for m in measured]) for inventory, measured in runs.items()}
    floor_cpu = {inventory: _median([m.cpu_seconds for m in measured]) for inventory, measured in floors.items()}
    return {
        "tags": tags,
        "runs": {inventory: [m.as_dict() for m in measured] for inventory, measured in runs.items()},
        "floor_runs": {inventory: [m.as_dict() for m in measured] for inventory, measured in floors.items()},
        "objects": {inventory: len(manifests.manifest_files(path)) for inventory, path in last_dirs.items()},
        "seconds": seconds,
        "floor_seconds": floor_seconds,
        "ratio_to_floor": {inventory: _ratio(value, floor_seconds[inventory]) for inventory, value in seconds.items()},
        "cpu_seconds": cpu,
        "floor_cpu_seconds": floor_cpu,
        "ratio_to_floor_cpu": {inventory: _ratio(value, floor_cpu[inventory]) for inventory, value in cpu.items()},
    }, last_dirs


def _environment(repeat):
    ansible_core = subprocess.run([os.path.join(manifests.VENV_BIN, "python"), "-c", "import ansible; print(ansible.__version__)"],
                                  stdout=subprocess.PIPE, universal_newlines=True, check=False).stdout.strip()
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "ansible_core": ansible_core, "python": platform.python_version(), "cpus": os.cpu_count(),
            "load_average": [round(value, 2) for value in os.getloadavg()], "repeat": repeat}


def _fmt(value, unit="", digits=2):
    return "n/a" if value is None else ("%.*f%s" % (digits, value, unit))


def report(results):
    """The human-readable report of ``results`` (the JSON document)."""
    environment = results["environment"]
    lines = ["airflow_k8s.cloud benchmarks, %s: ansible-core %s, Python %s, %s CPUs, load average %s at the start, %s at the end,"
             " median of %d run(s)" % (environment["date"], environment["ansible_core"], environment["python"], environment["cpus"],
                                       "/".join(str(value) for value in environment["load_average"]),
                                       "/".join(str(value) for value in environment.get("load_average_end", ["?"])),
                                       environment["repeat"])]
    if environment.get("vars"):
        lines.append("every site.yml run with -e @%s" % ", -e @".join(environment["vars"]))
    converged = results.get("converge")
    if converged:
        tags = " (--tags %s)" % converged["tags"] if converged["tags"] else ""
        noop_changed = max(run["changed"] for run in converged["noop_converge"])
        lines += [
            "",
            "(a) no-op converge vs the floor: local inventory, apply mode, Kubernetes API emulator, %d objects%s"
            % (converged["objects"], tags),
            "    site.yml no-op converge          %10s   (changed=%d)" % (_fmt(converged["noop_converge_seconds"], " s"), noop_changed),
            "    floor: one kubernetes.core.k8s    %10s" % _fmt(converged["floor_seconds"], " s"),
            "    ratio converge / floor            %10s" % _fmt(converged["ratio_noop_converge_to_floor"], "x", 1),
            "    CPU seconds: %s / %s = %s" % (
                _fmt(converged["noop_converge_cpu_seconds"], " s"), _fmt(converged["floor_cpu_seconds"], " s"),
                _fmt(converged["ratio_noop_converge_to_floor_cpu"], "x", 1)),
            "    (first converge / floor's first apply: %s / %s = %s)" % (
                _fmt(converged["first_converge"]["seconds"], " s"), _fmt(converged["floor_first_apply"]["seconds"], " s"),
                _fmt(converged["ratio_first_converge_to_floor_first_apply"], "x", 1)),
            "(b) API requests per object (emulator request log)",
            "    site.yml no-op converge          %10s   (%s)" % (
                _fmt(converged["noop_converge_requests_per_object"]),
                ", ".join("%s %d" % item for item in sorted(converged["noop_converge"][0]["requests_by_verb"].items()))),
            "    floor                             %10s   (%s)" % (
                _fmt(converged["floor_requests_per_object"]),
                ", ".join("%s %d" % item for item in sorted(converged["floor_noop"][0]["requests_by_verb"].items()))),
            "    ratio converge / floor            %10s" % _fmt(converged["ratio_requests_converge_to_floor"], "x", 1),
        ]
    rendered = results.get("render")
    if rendered:
        tags = " (--tags %s)" % rendered["tags"] if rendered["tags"] else ""
        lines += ["", "(c) render time per inventory vs the floor: one ansible-playbook, one task writing the same files%s" % tags,
                  "    %-8s %10s  %10s  %6s   %10s  %10s  %6s" % ("", "site.yml", "floor", "ratio", "CPU site", "CPU floor", "ratio")]
        for inventory, seconds in rendered["seconds"].items():
            lines.append("    %-8s %10s  %10s  %6s   %10s  %10s  %6s  (%d manifests)" % (
                inventory, _fmt(seconds, " s"), _fmt(rendered["floor_seconds"][inventory], " s"),
                _fmt(rendered["ratio_to_floor"][inventory], "x", 1),
                _fmt(rendered["cpu_seconds"][inventory], " s"), _fmt(rendered["floor_cpu_seconds"][inventory], " s"),
                _fmt(rendered["ratio_to_floor_cpu"][inventory], "x", 1), rendered["objects"][inventory]))
    return "\n".join(lines) + "\n"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated: %s (default: all)" % ", ".join(PARTS))
    parser.add_argument("--inventories", default=",".join(manifests.INVENTORIES),
                        help="inventories to render for (c), comma-separated (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is reported (default 3)")
    parser.add_argument("--tags", default="", help="site.yml --tags for every run (a smaller layer, e.g. for a smoke test)")
    parser.add_argument("--vars", action="append", default=[], metavar="FILE",
                        help="a variables file for every site.yml run (-e @FILE), e.g. bench/vars/celery.yml; repeatable")
    parser.add_argument("--json", default=DEFAULT_JSON, help="where to write the measurements (default bench/results/latest.json)")
    parser.add_argument("--workdir", default=None, help="keep the renders and logs here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    args.parts = [part for part in args.parts.split(",") if part]
    args.inventories = [inventory for inventory in args.inventories.split(",") if inventory]
    unknown = sorted(set(args.parts) - set(PARTS)) + sorted(set(args.inventories) - set(manifests.INVENTORIES))
    if unknown or args.repeat < 1 or not args.parts:
        parser.error("unknown parts or inventories %s, or --repeat below 1" % unknown)
    missing = [path for path in args.vars if not os.path.isfile(path)]
    if missing:
        parser.error("--vars: no such file %s" % ", ".join(missing))
    args.vars = [os.path.abspath(path) for path in args.vars]
    return args


def main(argv=None):
    """Run the parts asked for, print the report, write the JSON; exit status 0 on success."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    workdir = _private_dir(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="airflow-k8s-bench-")

    def log(message):
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    results = {"environment": _environment(args.repeat)}
    results["environment"]["vars"] = [os.path.relpath(path, manifests.REPOSITORY_ROOT) for path in args.vars]
    try:
        render_dirs = {}
        if "render" in args.parts:
            log("(c) render time per inventory")
            results["render"], render_dirs = bench_render(workdir, args.inventories, args.repeat, tags=args.tags, log=log, variables=args.vars)
        if "converge" in args.parts:
            log("(a)/(b) no-op converge and floor against the emulator")
            results["converge"] = bench_converge(workdir, args.repeat, tags=args.tags, render_dir=render_dirs.get("local"), log=log,
                                                 variables=args.vars)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    results["environment"]["load_average_end"] = [round(value, 2) for value in os.getloadavg()]
    results["command"] = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(results, stream, indent=2, sort_keys=True)
            stream.write("\n")
    sys.stdout.write(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
