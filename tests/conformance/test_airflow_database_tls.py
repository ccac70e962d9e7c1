# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""database_tls_mode: verify-full, end to end, with the real Airflow 3.3 and a real PostgreSQL speaking TLS.

Real components: a CA and a server certificate for 127.0.0.1/localhost made with ``cryptography``
(tests/support/certificates.py); PostgreSQL from Debian's packages started with that certificate and
TLS required on TCP (``hostssl``; one extra server start for this module); ``site.yml`` rendered for
``inventories/azure`` without cloud calls (tests/functional/vars/no_cloud_azure.yml) pointed at that
server, with the CA given as ``database_tls_ca_pem``; Apache Airflow 3.3's ``airflow db check`` (.venv-airflow)
with the rendered scheduler's environment. The CA file is the rendered ConfigMap's content, written where
the pod's volume mount would put it: only that path (which exists inside the pod) is remapped to a local file.
"""

import secrets
import shutil
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from tests.conformance.airflow_harness import (
    REPOSITORY_ROOT,
    SECRETS,
    ComponentRuntime,
    RenderedDeployment,
    airflow_workloads,
    pod_spec,
    private_dir,
    run_airflow,
    run_site_render,
)
from tests.support.certificates import make_ca, make_server_certificate
from tests.support.postgres import PostgresServer, PostgresUnavailable

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]

ROLE = "airflow_tls"
DATABASE = "airflow_tls"
NO_CLOUD_AZURE = REPOSITORY_ROOT / "tests" / "functional" / "vars" / "no_cloud_azure.yml"


@pytest.fixture(scope="module")
def tls_server(airflow_venv):
    """The one extra PostgreSQL of this module: TLS with a server certificate the test CA signed."""
    del airflow_venv
    ca = make_ca("airflow-k8s.cloud database CA")
    server_certificate = make_server_certificate(ca, dns_names=("localhost",), ip_addresses=("127.0.0.1",))
    try:
        server = PostgresServer(tls=(server_certificate.cert_pem, server_certificate.key_pem))
    except PostgresUnavailable as error:
        pytest.fail("this test needs PostgreSQL from Debian's packages: %s" % error, pytrace=False)
    server.start()
    try:
        password = secrets.token_urlsafe(24)
        SECRETS.add(password)
        server.create_role(ROLE, password)
        server.create_database(DATABASE, owner=ROLE)
        yield ca, server, password
    finally:
        server.stop()


@pytest.fixture(scope="module")
def verify_full_render(tls_server):
    """site.yml rendered for azure with database_tls_mode verify-full, the server above and its CA."""
    ca, server, password = tls_server
    render_dir = private_dir("conformance-tls-render-")
    try:
        run_site_render(render_dir, inventory="inventories/azure", var_files=[str(NO_CLOUD_AZURE)], extra_vars={
            "database_external_host": server.host,
            "database_external_port": server.port,
            "database_external_name": DATABASE,
            "database_external_username": ROLE,
            "database_external_password": password,
            "database_tls_mode": "verify-full",
            "database_tls_ca_pem": ca.cert_pem,
        })
        yield RenderedDeployment(render_dir)
    finally:
        shutil.rmtree(str(render_dir), ignore_errors=True)


def _scheduler(rendered, home):
    schedulers = airflow_workloads(rendered, "scheduler")
    assert len(schedulers) == 1, "expected one scheduler container, got %d" % len(schedulers)
    return ComponentRuntime(rendered, schedulers[0][0], schedulers[0][1], home)


def _mounted_ca(rendered, runtime, path):
    """The ConfigMap content the container sees at ``path`` (a directory mount, key = file name)."""
    directory, name = path.rsplit("/", 1)
    mounts = [m for m in runtime.container.get("volumeMounts", []) if m.get("mountPath") == directory]
    assert len(mounts) == 1, "the scheduler mounts nothing at %s, where sslrootcert points" % directory
    volumes = [v for v in pod_spec(runtime.workload).get("volumes", []) if v.get("name") == mounts[0]["name"]]
    assert volumes and "configMap" in volumes[0], "the CA mount at %s is not a ConfigMap" % directory
    data = rendered.get("ConfigMap", volumes[0]["configMap"]["name"])["data"]
    assert name in data, "the CA ConfigMap has no key %s" % name
    return data[name]


def _with_local_ca(uri, local_path):
    """The URI with sslrootcert pointing to the local copy of the mounted file, nothing else changed."""
    query = dict(parse_qsl(urlsplit(uri).query))
    pod_path = query["sslrootcert"]
    return uri.replace("sslrootcert=" + quote(pod_path, safe=""), "sslrootcert=" + quote(str(local_path), safe=""))


def test_verify_full_connection_passes_db_check_and_a_foreign_ca_fails(verify_full_render, tls_server, tmp_path):
    """The rendered metadata connection says sslmode=verify-full with sslrootcert at the path where every
    Airflow container mounts the CA ConfigMap; with that CA `airflow db check` passes against the TLS server,
    and with another CA in the same place it fails on the certificate (so the check really verifies)."""
    ca = tls_server[0]
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    runtime = _scheduler(verify_full_render, home)
    uri = runtime.pod_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    query = dict(parse_qsl(urlsplit(uri).query))
    assert query.get("sslmode") == "verify-full", "the metadata connection does not verify the server"
    ca_path = query.get("sslrootcert", "")
    assert ca_path.startswith("/"), "the metadata connection names no CA file (sslrootcert)"

    # Every Airflow container (long-running, Jobs, CronJobs) mounts the CA where the URI points.
    for workload, container in airflow_workloads(verify_full_render):
        mounted = [m["mountPath"] for m in container.get("volumeMounts", [])]
        assert ca_path.rsplit("/", 1)[0] in mounted, "%s/%s does not mount the database CA" % (
            workload["kind"], workload["metadata"]["name"])

    mounted_pem = _mounted_ca(verify_full_render, runtime, ca_path)
    assert mounted_pem.strip() == ca.cert_pem.strip()
    local_ca = tmp_path / "ca.pem"
    local_ca.write_text(mounted_pem, encoding="utf-8")
    env = runtime.env(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=_with_local_ca(uri, local_ca))
    run_airflow(["db", "check"], env, check=True)

    local_ca.write_text(make_ca("some other CA").cert_pem, encoding="utf-8")
    refused = run_airflow(["db", "check"], env)
    assert not refused.ok, "airflow db check passed with a CA that did not sign the server's certificate"
    assert "certificate verify failed" in refused.stdout + refused.stderr, refused.describe()
