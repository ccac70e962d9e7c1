# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the conformance suite (see conftest.py for what it runs and how).

Run the real Airflow CLI from ``.venv-airflow``, run the collection's modules and ``site.yml``
through ansible-playbook, and keep every secret out of what a failing test prints.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from tests.support.playbook import PlaybookTimeout, run_playbook

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE_DIR = Path(__file__).resolve().parent
AIRFLOW_VENV = Path(os.environ.get("AIRFLOW_VENV", str(REPOSITORY_ROOT / ".venv-airflow")))
AIRFLOW_BIN = AIRFLOW_VENV / "bin"
SETUP_SCRIPT = "tests/conformance/setup_airflow_venv.sh"
EXAMPLE_DAGS = CONFORMANCE_DIR / "dags"
# Example DAGs the collection ships (added later by another change); parsed too when present.
SHIPPED_DAG_DIRS = [REPOSITORY_ROOT / "examples" / "dags", REPOSITORY_ROOT / "roles" / "dags" / "files"]

# A database password with every character that breaks a hand-written URI, plus spaces,
# quotes, a ready-made percent escape and non-ASCII text.
NASTY_PASSWORD = "p@ss:w/rd?#[x]%41%%+&= 'single' \"double\" Ünïcødé 密码 🔑 end"
DATABASE_ROLE = "airflow conformance"
DATABASE_NAME = "airflow metadata"

CLI_TIMEOUT = 300


# -- secrets --------------------------------------------------------------------------------------


class Secrets:
    """Every secret value the suite handles, so that failure output can be redacted."""

    MIN_PIECE = 10  # shortest head or tail of a secret that is masked on its own

    def __init__(self):
        self._values = set()

    def add(self, *values):
        for value in values:
            if not value:
                continue
            variants = {value, quote(value, safe=""), value.replace("%", "%%")}
            variants.update(value.split(","))  # fernet key lists: each key alone too
            for variant in variants:
                if len(variant) < 6:
                    continue
                self._values.add(variant)
                if "://" in value:
                    continue  # a URI: its secret part is registered on its own
                # Error messages quote pieces of a value (configparser: "found: '%40ss...'"), so
                # every long enough head and tail of a password or key is masked too.
                for cut in range(1, len(variant) - self.MIN_PIECE + 1):
                    self._values.add(variant[cut:])
                    self._values.add(variant[:-cut])

    def redact(self, text):
        text = text or ""
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text


SECRETS = Secrets()
SECRETS.add(NASTY_PASSWORD)


def _tail(text, size=4000):
    text = SECRETS.redact(text)
    return text if len(text) <= size else "...\n" + text[-size:]


# -- Airflow CLI ----------------------------------------------------------------------------------


class AirflowResult:
    """Outcome of one Airflow CLI call; output is kept private and shown only redacted."""

    def __init__(self, args, completed, elapsed):
        self.args = args
        self.elapsed = elapsed
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr

    @property
    def ok(self):
        return self.returncode == 0

    def describe(self):
        return "`airflow %s` exited %d after %.1f s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            SECRETS.redact(" ".join(self.args)),
            self.returncode,
            self.elapsed,
            _tail(self.stdout),
            _tail(self.stderr),
        )

    def require_ok(self):
        if not self.ok:
            pytest.fail(self.describe(), pytrace=False)
        return self

    def json(self):
        """Parse stdout as JSON (the CLI's ``-o json``), skipping any log lines before it."""
        text = self.stdout
        decoder = json.JSONDecoder()
        offset = 0
        for line in text.splitlines(True):
            if line[:1] in ("[", "{"):
                try:
                    value, end = decoder.raw_decode(text, offset)
                except ValueError:
                    pass
                else:
                    if not text[end:].strip():
                        return value
            offset += len(line)
        return pytest.fail("no JSON document at the end of the output of:\n" + self.describe(), pytrace=False)


def airflow_env(home, **settings):
    """Environment for one Airflow process: only PATH/HOME/locale from ours, AIRFLOW_HOME=home."""
    env = {
        "PATH": "%s:%s" % (AIRFLOW_BIN, os.environ.get("PATH", "/usr/bin:/bin")),
        "HOME": os.environ.get("HOME", str(home)),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AIRFLOW_HOME": str(home),
        # Keep the runs about our files: no bundled example DAGs, no test connections.
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    env.update({key: str(value) for key, value in settings.items()})
    return env


def _run_in_venv(argv, label, env, timeout):
    """Run a program of the Airflow venv in AIRFLOW_HOME; return an :class:`AirflowResult`."""
    started = time.monotonic()
    completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
        argv,
        env=env,
        cwd=env["AIRFLOW_HOME"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=timeout,
        check=False,
    )
    return AirflowResult(label, completed, time.monotonic() - started)


def run_airflow(args, env, timeout=CLI_TIMEOUT, check=False):
    """Run ``.venv-airflow/bin/airflow <args>``; return an :class:`AirflowResult`."""
    result = _run_in_venv([str(AIRFLOW_BIN / "airflow")] + list(args), list(args), env, timeout)
    if check:
        result.require_ok()
    return result


def run_airflow_python(code, env, timeout=CLI_TIMEOUT, argv=()):
    """Run a Python snippet in the Airflow venv (``argv`` in its sys.argv[1:], never shown in failures);
    it must print one JSON document last."""
    result = _run_in_venv([str(AIRFLOW_BIN / "python"), "-c", code] + list(argv), ["<python snippet>"], env, timeout)
    result.require_ok()
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if not lines:
        pytest.fail("the snippet printed nothing:\n" + result.describe(), pytrace=False)
    return json.loads(lines[-1])


def private_dir(prefix):
    """A new 0700 temporary directory (removed by the caller)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o700)
    return Path(path)


def write_private(path, text):
    """Write ``text`` to ``path`` with mode 0600 (secrets inside)."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


# -- Ansible: run the collection's modules and playbooks ------------------------------------------


class _UnsafeDumper(yaml.SafeDumper):
    """Dump every string as ``!unsafe`` so that Ansible never templates test data."""


_UnsafeDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar("!unsafe", value))

_MODULE_PLAYBOOK = """\
- name: Run {module} for the conformance suite
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Call {module}
      {module}: "{{{{ item }}}}"
      loop: "{{{{ conformance_calls }}}}"
      register: conformance_results
      ignore_errors: true
      no_log: true
    - name: Hand the results to the test in a private file
      ansible.builtin.copy:
        content: "{{{{ conformance_results.results | to_json }}}}"
        dest: "{{{{ conformance_output }}}}"
        mode: "0600"
      no_log: true
"""


# The repository's ansible.cfg (the checkout on the collections path), whatever the caller set.
_ANSIBLE_ENV = {"ANSIBLE_CONFIG": str(REPOSITORY_ROOT / "ansible.cfg")}


def run_module(module, calls):
    """Run ``module`` once per argument dict in ``calls`` through ansible-playbook; return results.

    The results are read from a 0600 file in a 0700 directory; nothing secret reaches the output.
    A failed call fails the test with the module's own message (which never contains a secret).
    """
    workdir = private_dir("conformance-ansible-")
    try:
        playbook = workdir / "playbook.yml"
        playbook.write_text(_MODULE_PLAYBOOK.format(module=module), encoding="utf-8")
        output = workdir / "results.json"
        extra_vars = workdir / "vars.yml"
        write_private(
            extra_vars,
            yaml.dump(
                {"conformance_calls": list(calls), "conformance_output": str(output)},
                Dumper=_UnsafeDumper,
                allow_unicode=True,
            ),
        )
        try:
            run = run_playbook(playbook, extra_vars=[extra_vars], env=_ANSIBLE_ENV, timeout=300)
        except PlaybookTimeout as timeout:  # reported below, through _tail's redaction
            run = timeout.run
        if run.returncode != 0 or not output.exists():
            pytest.fail(
                "ansible-playbook running %s failed (exit %d):\n%s" % (module, run.returncode, _tail(run.output)),
                pytrace=False,
            )
        results = json.loads(output.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(str(workdir), ignore_errors=True)
    for result in results:
        result.pop("item", None)  # our own arguments, secrets included
        if result.get("failed"):
            pytest.fail("%s failed: %s" % (module, SECRETS.redact(str(result.get("msg")))), pytrace=False)
    return results


def run_site_render(render_dir, extra_vars=None, inventory="inventories/local", var_files=()):
    """``ansible-playbook site.yml -i <inventory> -e @<var_files>... -e sink_render_dir=<render_dir>`` (plus
    ``extra_vars``, handed over in a private file by the playbook runner)."""
    if not (REPOSITORY_ROOT / "site.yml").exists():
        pytest.fail("site.yml does not exist yet: the config role cannot be rendered", pytrace=False)
    try:
        run = run_playbook("site.yml", inventory=inventory,
                           extra_vars=list(var_files) + [dict(extra_vars or {}, sink_render_dir=str(render_dir))],
                           env=_ANSIBLE_ENV, timeout=600)
    except PlaybookTimeout as timeout:  # reported below, through _tail's redaction
        run = timeout.run
    if run.returncode != 0:
        pytest.fail(
            "rendering site.yml failed (exit %d):\n%s" % (run.returncode, _tail(run.output)),
            pytrace=False,
        )
    return run


# -- PostgreSQL metadata database, migrated once per session --------------------------------------


class MetadataDatabase:
    """A PostgreSQL role + database with :data:`NASTY_PASSWORD`, and the URIs the module built."""

    def __init__(self, server, uri, uri_redacted, cfg_uri):
        self.server = server
        self.role = DATABASE_ROLE
        self.password = NASTY_PASSWORD
        self.database = DATABASE_NAME
        self.uri = uri
        self.uri_redacted = uri_redacted
        self.cfg_uri = cfg_uri
        self.migrate_result = None

    def connect(self):
        """psycopg2 connection as the Airflow role (never the superuser)."""
        return self.server.connect(user=self.role, password=self.password, dbname=self.database)

    def env(self, home, **settings):
        """Airflow environment using this database through AIRFLOW__DATABASE__SQL_ALCHEMY_CONN."""
        return airflow_env(home, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=self.uri, **settings)

    def require_migrated(self):
        if self.migrate_result is None or not self.migrate_result.ok:
            pytest.fail(
                "`airflow db migrate` did not complete, see test_db_migrate_completes:\n%s"
                % (self.migrate_result.describe() if self.migrate_result else "not run"),
                pytrace=False,
            )


# -- The rendered deployment (config role through site.yml) ---------------------------------------


class RenderedDeployment:
    """Every object ``site.yml`` rendered, indexed by (kind, name); Secrets decoded on demand."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.objects = {}
        for path in sorted(self.directory.rglob("*")):
            if not path.is_file() or path.suffix not in (".yml", ".yaml", ".json"):
                continue
            with path.open(encoding="utf-8") as handle:
                for document in yaml.safe_load_all(handle):
                    if isinstance(document, dict) and document.get("kind") and document.get("metadata"):
                        self.objects[(document["kind"], document["metadata"].get("name"))] = document

    def get(self, kind, name):
        try:
            return self.objects[(kind, name)]
        except KeyError:
            pytest.fail(
                "no %s named %r among the rendered objects (%s)"
                % (kind, name, ", ".join("%s/%s" % key for key in sorted(self.objects)) or "none"),
                pytrace=False,
            )

    def of_kind(self, kind):
        return [obj for (obj_kind, _name), obj in sorted(self.objects.items()) if obj_kind == kind]

    def secret_value(self, name, key):
        import base64  # pylint: disable=import-outside-toplevel

        secret = self.get("Secret", name)
        if "data" in secret and key in secret["data"]:
            value = base64.b64decode(secret["data"][key]).decode("utf-8")
        elif key in secret.get("stringData", {}):
            value = secret["stringData"][key]
        else:
            pytest.fail("Secret %r has no key %r" % (name, key), pytrace=False)
        # Generated secrets are long; short values in Secrets are names (a user name such as
        # "airflow"), and redacting those would garble every message.
        if len(value) >= 12:
            SECRETS.add(value)
        return value


def pod_spec(workload):
    """The pod spec of a Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod."""
    spec = workload.get("spec", {})
    if workload.get("kind") == "Pod":
        return spec
    if workload.get("kind") == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec", {})


def airflow_workloads(rendered, command=None):
    """(workload, container) of every rendered Airflow container, optionally only those running
    ``airflow <command>`` (the image's entrypoint adds ``airflow`` in front of ``args``)."""
    found = []
    for kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"):
        for workload in rendered.of_kind(kind):
            for container in pod_spec(workload).get("containers", []):
                env_names = {item.get("name") for item in container.get("env", [])}
                if "AIRFLOW_HOME" not in env_names:
                    continue
                words = list(container.get("command", [])) + list(container.get("args", []))
                if words[:1] == ["airflow"]:
                    words = words[1:]
                if command is None or words[:1] == [command]:
                    found.append((workload, container))
    return found


def mounted_file(spec, container, path):
    """(volume, mount) that provides ``path`` in ``container``, or (None, None)."""
    for mount in container.get("volumeMounts", []):
        if mount.get("mountPath") == path:
            for volume in spec.get("volumes", []):
                if volume.get("name") == mount.get("name"):
                    return volume, mount
    return None, None


def container_environment(rendered, container):
    """The environment the container gets: literal values and secretKeyRef/configMapKeyRef resolved."""
    env = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        source = item.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[item["name"]] = rendered.secret_value(ref["name"], ref["key"])
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            env[item["name"]] = str(rendered.get("ConfigMap", ref["name"])["data"][ref["key"]])
        else:
            pytest.fail("env %s uses an unsupported valueFrom: %s" % (item["name"], sorted(source)), pytrace=False)
    return env


class ComponentRuntime:
    """A rendered component's configuration laid out locally for the real Airflow.

    ``airflow.cfg`` and the pod template are taken from the ConfigMap the component mounts them
    from, and written to a private directory that stands in for ``AIRFLOW_HOME``; the environment is
    the container's own (Secrets resolved), with only the paths that exist inside the pod remapped.
    """

    def __init__(self, rendered, workload, container, home):
        self.rendered = rendered
        self.workload = workload
        self.container = container
        self.spec = pod_spec(workload)
        self.home = Path(home)
        self.pod_env = container_environment(rendered, container)
        if "AIRFLOW_HOME" not in self.pod_env:
            pytest.fail("container %s sets no AIRFLOW_HOME" % container.get("name"), pytrace=False)
        self.pod_config_path = self.pod_env.get("AIRFLOW_CONFIG") or self.pod_env["AIRFLOW_HOME"].rstrip("/") + "/airflow.cfg"
        self.airflow_cfg = self.file_from_config_map(self.pod_config_path)
        self.local_config_path = self.home / "airflow.cfg"
        self.local_config_path.write_text(self.airflow_cfg, encoding="utf-8")

    def file_from_config_map(self, path):
        """Content of the file the container mounts at ``path`` from a ConfigMap (subPath key)."""
        volume, mount = mounted_file(self.spec, self.container, path)
        if volume is None or "configMap" not in volume:
            pytest.fail(
                "%s/%s container %s mounts nothing from a ConfigMap at %s, where Airflow reads it"
                % (self.workload["kind"], self.workload["metadata"]["name"], self.container.get("name"), path),
                pytrace=False,
            )
        config_map = self.rendered.get("ConfigMap", volume["configMap"]["name"])
        key = mount.get("subPath")
        if not key or key not in config_map.get("data", {}):
            pytest.fail("ConfigMap %s has no key %r mounted at %s" % (config_map["metadata"]["name"], key, path), pytrace=False)
        return config_map["data"][key]

    def env(self, **settings):
        """Airflow environment: the container's, AIRFLOW_HOME/AIRFLOW_CONFIG remapped to the local copy."""
        values = dict(self.pod_env)
        values["AIRFLOW_HOME"] = str(self.home)
        values["AIRFLOW_CONFIG"] = str(self.local_config_path)
        values.update(settings)
        env = airflow_env(self.home)
        env.pop("AIRFLOW__CORE__LOAD_EXAMPLES")  # the rendered configuration decides
        env.update({key: str(value) for key, value in values.items()})
        return env


def component_runtime(rendered, command, home):
    """:class:`ComponentRuntime` of the one rendered container running ``airflow <command>``, in ``home`` (created)."""
    found = airflow_workloads(rendered, command)
    assert len(found) == 1, "expected one rendered container running `airflow %s`, found %d" % (command, len(found))
    home.mkdir(mode=0o700)
    return ComponentRuntime(rendered, found[0][0], found[0][1], home)


def swap_rendered(value, rendered_part, local_part, what):
    """``value`` with the in-cluster ``rendered_part`` replaced; fails when the rendered value lacks it."""
    assert rendered_part in value, "the rendered %s does not name %s" % (what, rendered_part)
    return value.replace(rendered_part, local_part)


# -- Long-running processes (Redis, PgBouncer, Airflow components) --------------------------------


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket  # pylint: disable=import-outside-toplevel

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_json(method, url, body=None, token=None, timeout=60):
    """(status, parsed JSON or text) of one HTTP request; never raises for an HTTP error status."""
    import urllib.error  # pylint: disable=import-outside-toplevel
    import urllib.request  # pylint: disable=import-outside-toplevel

    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec - loopback test server
            status, text = response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class AirflowServer:
    """``airflow <args>`` of the Airflow venv as a child process in its own process group, output
    in a private log file; :meth:`wait_http` waits until a URL answers, :meth:`stop` ends the group."""

    def __init__(self, args, env, log_dir):
        self.args = list(args)
        self.log_path = Path(log_dir) / "server.log"
        fd = os.open(str(self.log_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell  pylint: disable=consider-using-with
                [str(AIRFLOW_BIN / "airflow")] + self.args, env=env, cwd=env["AIRFLOW_HOME"],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def describe(self):
        return "`airflow %s` (exit %s):\n%s" % (" ".join(self.args), self.process.poll(), _tail(self.output()))

    def wait_http(self, url, timeout=300):
        """Wait until ``url`` answers 200; fail with the server's (redacted) log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                status, _body = http_json("GET", url, timeout=10)
            except OSError:
                status = None
            if status == 200:
                return
            time.sleep(1)
        pytest.fail("%s did not answer 200 within %d s: %s" % (url, timeout, self.describe()), pytrace=False)

    def stop(self):
        """SIGTERM to the server's process group (it forks workers), then SIGKILL after 20 s."""
        import signal  # pylint: disable=import-outside-toplevel

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with_children = True
        try:
            os.killpg(self.process.pid, 0)
        except OSError:
            with_children = False
        if with_children:  # workers that outlived their parent
            os.killpg(self.process.pid, signal.SIGKILL)


def wait_for_port(port, process, log_path, timeout=120):
    """Wait until 127.0.0.1:``port`` accepts connections; fail with the (redacted) log if ``process`` dies."""
    import socket  # pylint: disable=import-outside-toplevel

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail("nothing listens on port %d (exit code %s); log:\n%s"
                % (port, process.poll(), _tail(Path(log_path).read_text(encoding="utf-8", errors="replace"))), pytrace=False)


class Processes:
    """Background processes of one test, each logging to a private file; all stopped at the end."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.started = []

    def start(self, name, argv, env=None, cwd=None):
        if not (os.path.isabs(argv[0]) and os.access(argv[0], os.X_OK)) and shutil.which(argv[0]) is None:
            pytest.fail("%s is not installed: the conformance suite needs Debian's package (apt-get install redis-server "
                        "pgbouncer; .ci/run installs them)" % argv[0], pytrace=False)
        log_path = self.directory / ("%s.log" % name)
        handle = open(str(log_path), "ab")  # pylint: disable=consider-using-with
        os.chmod(str(log_path), 0o600)
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                                   stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        self.started.append((name, process, log_path))
        return process, log_path

    def log(self, name):
        for found, _process, log_path in self.started:
            if found == name:
                return _tail(log_path.read_text(encoding="utf-8", errors="replace"), 6000)
        return ""

    def stop(self):
        import signal  # pylint: disable=import-outside-toplevel

        for _name, process, _log in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process, _log in reversed(self.started):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
