# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each auth manager the config role offers lets a user log in to the real api-server, and
airflow_local_settings.py is where every Airflow pod imports it from.

Real components: ``site.yml`` rendered with the local inventory through ansible-playbook - as is
(FAB, the default; the session's ``rendered_deployment``) and once with ``config_auth_manager:
simple`` and an ``airflow_local_settings.py`` from a file - and Apache Airflow 3.3 from ``.venv-airflow``: the
``airflow api-server`` started with the rendered api-server container's arguments, environment
(Secrets resolved) and the files it mounts from the config ConfigMap, against the suite's real
PostgreSQL metadata database (migrated by ``airflow db migrate``). Only what points into the cluster
is remapped: the database URI, the DAG and log folders, StatsD, and the paths of mounted files.

FAB: the admin user is created by the rendered admin-user Job's own program (its environment from
the Job), then logs in through ``POST /auth/token`` and calls ``/api/v2/dags`` with the JWT. simple:
the passwords file is made by running the api-server's init container's own command on the rendered
Secret, and a generated user logs in the same way. No password may appear in the server's output.
"""

import configparser
import json
import os
import shutil
import subprocess
from pathlib import PurePosixPath

import pytest

from tests.conformance.airflow_harness import (
    AIRFLOW_BIN,
    SECRETS,
    AirflowServer,
    ComponentRuntime,
    RenderedDeployment,
    airflow_workloads,
    free_port,
    http_json,
    pod_spec,
    private_dir,
    run_airflow_python,
    run_site_render,
)

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
LOCAL_SETTINGS = 'CONFORMANCE_LOCAL_SETTINGS = "loaded from the config ConfigMap"\n'
# The local settings come from a file on the controller (config_local_settings_file), written by the fixture.
SIMPLE_VARS = {
    "config_auth_manager": "simple",
    "config_simple_auth_manager_users": [{"username": "alice", "role": "admin"}, {"username": "vic", "role": "viewer"}],
}


@pytest.fixture(scope="module")
def simple_deployment(airflow_venv):
    """site.yml rendered with the simple auth manager and an airflow_local_settings.py."""
    del airflow_venv
    render_dir = private_dir("conformance-render-simple-")
    files = private_dir("conformance-files-")
    local_settings = files / "airflow_local_settings.py"
    local_settings.write_text(LOCAL_SETTINGS, encoding="utf-8")
    extra_vars = dict(SIMPLE_VARS, config_local_settings_file=str(local_settings))
    try:
        first = run_site_render(render_dir, extra_vars)
        rendered = RenderedDeployment(render_dir)
        for secret in rendered.of_kind("Secret"):
            for key in secret.get("data", {}):
                rendered.secret_value(secret["metadata"]["name"], key)
        # Generated once: a second run reads the passwords back, writes the same bytes, changes nothing.
        second = run_site_render(render_dir, extra_vars)
        again = RenderedDeployment(render_dir)
        assert again.get("Secret", "airflow-simple-auth-passwords") == rendered.get("Secret", "airflow-simple-auth-passwords")
        assert second.changed == 0, "the second render changed something:\n" + "\n".join(second.changed_tasks())
        passwords = json.loads(rendered.secret_value("airflow-simple-auth-passwords", "passwords.json"))
        assert not [user for user, value in passwords.items() if value in first.output + second.output], \
            "a run printed a simple auth manager password"
        yield rendered
    finally:
        shutil.rmtree(str(render_dir), ignore_errors=True)
        shutil.rmtree(str(files), ignore_errors=True)


def _api_server(rendered, home):
    servers = airflow_workloads(rendered, "api-server")
    assert len(servers) == 1, "expected one container running `airflow api-server`, found %d" % len(servers)
    workload, container = servers[0]
    return ComponentRuntime(rendered, workload, container, home)


def _cfg(runtime):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(runtime.airflow_cfg)
    return parser


def _local_env(runtime, database, tmp_path, **settings):
    """The container's environment, with what points into the cluster replaced by local stand-ins."""
    for folder in ("dags", "logs"):
        (tmp_path / folder).mkdir(exist_ok=True)
    return runtime.env(
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=database.uri,
        AIRFLOW__CORE__DAGS_FOLDER=tmp_path / "dags",
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=tmp_path / "logs",
        AIRFLOW__METRICS__STATSD_ON="False",
        **settings)


def _start(runtime, env, tmp_path):
    """The rendered api-server container's command, on a free loopback port; waits for its health."""
    args = list(runtime.container["args"])
    assert args[:1] == ["api-server"], args
    port = free_port()
    server = AirflowServer(args + ["--host", "127.0.0.1", "--port", str(port)], env, tmp_path)
    base = "http://127.0.0.1:%d" % port
    try:
        server.wait_http(base + "/api/v2/monitor/health")
    except BaseException:
        server.stop()
        raise
    return server, base


def _log_in_and_call_the_api(base, username, password):
    """POST /auth/token -> JWT -> GET /api/v2/dags; and the controls: no token, wrong password."""
    status, body = http_json("POST", base + "/auth/token", {"username": username, "password": password})
    assert status == 201 and isinstance(body, dict) and body.get("access_token"), (
        "login of %s answered %s: %s" % (username, status, SECRETS.redact(str(body))[:500]))
    token = body["access_token"]
    SECRETS.add(token)
    status, dags = http_json("GET", base + "/api/v2/dags", token=token)
    assert status == 200 and "dags" in dags and "total_entries" in dags, (status, SECRETS.redact(str(dags))[:500])
    assert http_json("GET", base + "/api/v2/dags")[0] == 401, "the REST API answered without a token"
    assert http_json("POST", base + "/auth/token", {"username": username, "password": password + "-wrong"})[0] == 401
    return token


def test_fab_admin_from_the_admin_user_job_logs_in(metadata_database, rendered_deployment, tmp_path):
    """FAB (the default): webserver_config.py is mounted where [fab] config_file points, in the api-server
    and the admin-user Job; the Job's program creates the admin, who gets a JWT and calls the REST API."""
    metadata_database.require_migrated()
    home = tmp_path / "api-server-home"
    home.mkdir(mode=0o700)
    runtime = _api_server(rendered_deployment, home)
    cfg = _cfg(runtime)
    assert cfg["core"]["auth_manager"] == FAB_AUTH_MANAGER
    config_file = cfg["fab"]["config_file"]
    webserver_config = runtime.file_from_config_map(config_file)
    local_config = home / "webserver_config.py"
    local_config.write_text(webserver_config, encoding="utf-8")

    jobs = [(workload, container) for workload, container in airflow_workloads(rendered_deployment)
            if workload["kind"] == "Job" and workload["metadata"]["name"].startswith("airflow-admin-user-")]
    assert len(jobs) == 1, "expected one admin-user Job"
    job_home = tmp_path / "admin-job-home"
    job_home.mkdir(mode=0o700)
    job = ComponentRuntime(rendered_deployment, jobs[0][0], jobs[0][1], job_home)
    assert job.file_from_config_map(config_file) == webserver_config, "the Job reads another webserver_config.py"
    job_env = _local_env(job, metadata_database, tmp_path, AIRFLOW__FAB__CONFIG_FILE=local_config)
    username, password = job.pod_env["AIRFLOW_ADMIN_USERNAME"], job.pod_env["AIRFLOW_ADMIN_PASSWORD"]
    SECRETS.add(password)
    assert job.container["args"][:2] == ["python", "-c"]
    created = subprocess.run([str(AIRFLOW_BIN / "python")] + job.container["args"][1:], env=job_env, cwd=str(job_home),
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, check=False)
    output = created.stdout + created.stderr
    assert password not in output, "the admin-user program printed the password"
    assert created.returncode == 0, "the admin-user program failed:\n" + SECRETS.redact(output)[-4000:]

    server, base = _start(runtime, _local_env(runtime, metadata_database, tmp_path, AIRFLOW__FAB__CONFIG_FILE=local_config),
                          tmp_path)
    try:
        _log_in_and_call_the_api(base, username, password)
    finally:
        server.stop()
    assert password not in server.output(), "the api-server printed the admin password"


def _init_copy(runtime, spec):
    """The api-server's init container that copies the passwords file, and the Secret it copies."""
    inits = [container for container in spec.get("initContainers", []) if container["name"] == "simple-auth-passwords"]
    assert len(inits) == 1, [container["name"] for container in spec.get("initContainers", [])]
    init = inits[0]
    assert init["args"][:2] == ["bash", "-c"] and len(init["args"]) == 5, init["args"]
    source, target = init["args"][3], init["args"][4]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    mounts = {str(PurePosixPath(mount["mountPath"])): volumes[mount["name"]] for mount in init["volumeMounts"]}
    secret_volume = mounts[str(PurePosixPath(source).parent)]
    shared = mounts[str(PurePosixPath(target).parent)]
    assert "emptyDir" in shared, "the passwords file must be written to a volume the init container shares"
    main_mounts = {str(PurePosixPath(mount["mountPath"])): volumes[mount["name"]] for mount in runtime.container["volumeMounts"]}
    assert main_mounts[str(PurePosixPath(target).parent)] is shared, "the api-server does not mount the copied file"
    content = runtime.rendered.secret_value(secret_volume["secret"]["secretName"], PurePosixPath(source).name)
    return init, source, target, content


def test_simple_auth_manager_user_logs_in_with_the_generated_password(metadata_database, simple_deployment, tmp_path):
    """simple: the users of config_simple_auth_manager_users; their generated passwords reach the api-server
    through the Secret and the init container's copy, and a user gets a JWT and calls the REST API."""
    metadata_database.require_migrated()
    home = tmp_path / "api-server-home"
    home.mkdir(mode=0o700)
    runtime = _api_server(simple_deployment, home)
    cfg = _cfg(runtime)
    assert cfg["core"]["auth_manager"] == SIMPLE_AUTH_MANAGER
    assert cfg["core"]["simple_auth_manager_users"] == "alice:admin,vic:viewer"
    assert simple_deployment.of_kind("Job") and not [job for job in simple_deployment.of_kind("Job")
                                                     if job["metadata"]["name"].startswith("airflow-admin-user-")]
    init, source, target, content = _init_copy(runtime, runtime.spec)
    assert target == cfg["core"]["simple_auth_manager_passwords_file"]

    # The init container's own command, with its two paths mapped to local files.
    local_source, local_target = tmp_path / "secret-passwords.json", tmp_path / "passwords.json"
    fd = os.open(str(local_source), os.O_WRONLY | os.O_CREAT, 0o400)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(content)
    subprocess.run(["bash", "-c", init["args"][2], str(local_source), str(local_target)], check=True, timeout=60)
    assert local_target.stat().st_mode & 0o777 == 0o600, "the copy must be writable by Airflow and private"

    passwords = json.loads(local_target.read_text(encoding="utf-8"))
    assert sorted(passwords) == ["alice", "vic"] and all(len(value) >= 16 for value in passwords.values())

    env = _local_env(runtime, metadata_database, tmp_path, AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=local_target)
    server, base = _start(runtime, env, tmp_path)
    try:
        _log_in_and_call_the_api(base, "alice", passwords["alice"])
        viewer = _log_in_and_call_the_api(base, "vic", passwords["vic"])
        status, _body = http_json("POST", base + "/api/v2/pools", {"name": "conformance", "slots": 1}, token=viewer)
        assert status == 403, "a viewer could create a pool (%s)" % status
    finally:
        server.stop()
    output = server.output()
    assert not [name for name, value in passwords.items() if value in output], "the api-server printed a password"
    assert json.loads(local_target.read_text(encoding="utf-8")) == passwords, "Airflow generated other passwords"


LOCAL_SETTINGS_READ_BACK = r"""
import json, sys
import airflow.settings
module = sys.modules.get("airflow_local_settings")
print(json.dumps({"marker": getattr(airflow.settings, "CONFORMANCE_LOCAL_SETTINGS", None),
                  "file": getattr(module, "__file__", None)}))
"""


def test_local_settings_are_imported_in_every_airflow_pod(simple_deployment, tmp_path):
    """airflow_local_settings.py is mounted from the config ConfigMap into every Airflow container and the
    task pod template, at the path Airflow imports it from; Airflow 3.3 imports it there."""
    containers = airflow_workloads(simple_deployment)
    names = {workload["metadata"]["name"] for workload, _container in containers}
    assert {"airflow-scheduler", "airflow-api-server", "airflow-dag-processor", "airflow-triggerer"} <= names, names
    config_map = simple_deployment.get("ConfigMap", "airflow-config")
    template = __import__("yaml").safe_load(config_map["data"]["pod_template_file.yaml"])
    task = ({"kind": "Pod", "metadata": {"name": "task-pod-template"}, "spec": template["spec"]},
            [container for container in template["spec"]["containers"] if container["name"] == "base"][0])
    for index, (workload, container) in enumerate(containers + [task]):
        home = tmp_path / ("home-%d" % index)
        home.mkdir(mode=0o700)
        runtime = ComponentRuntime(simple_deployment, workload, container, home)
        pod_home = runtime.pod_env["AIRFLOW_HOME"].rstrip("/")
        where = pod_home + "/config/airflow_local_settings.py"
        content = runtime.file_from_config_map(where)
        assert content == LOCAL_SETTINGS, "%s mounts another airflow_local_settings.py" % workload["metadata"]["name"]
        for spec_container in pod_spec(workload).get("initContainers", []):
            if "AIRFLOW_HOME" in {item["name"] for item in spec_container.get("env", [])}:
                assert where in [mount["mountPath"] for mount in spec_container["volumeMounts"]], spec_container["name"]
    # Laid out where the pods have it (relative to AIRFLOW_HOME), Airflow imports it.
    (home / "config").mkdir()
    (home / "config" / "airflow_local_settings.py").write_text(content, encoding="utf-8")
    env = runtime.env(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///%s" % (home / "airflow.db"))
    read = run_airflow_python(LOCAL_SETTINGS_READ_BACK, env)
    assert read["marker"] == "loaded from the config ConfigMap"
    assert read["file"] == str(home / "config" / "airflow_local_settings.py")
