# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""database_tls_mode verify-full with the CA fetched at run time from HTTPS URLs (how aws and azure get the
provider's published CA), rendered by the real site.yml.

Real components: ``ansible-playbook site.yml -i inventories/aws`` (render mode, no-cloud overrides) with
``database_tls_ca_urls`` pointing at a local HTTPS server (Python's http.server behind ``ssl``, its certificate
signed by a test CA that the run trusts through ``SSL_CERT_FILE``, so ``get_url`` verifies it as it verifies
truststore.pki.rds.amazonaws.com). The server hands out what the providers publish: a PEM bundle of several CAs
(AWS's region bundle) and a DER certificate (Microsoft's RSA Root Certificate Authority 2017 ``.crt``). All
certificates are real, made with ``cryptography`` (tests/support/certificates.py). The Airflow side of the
same setting, against a real PostgreSQL speaking TLS, is tests/conformance/test_airflow_database_tls.py.
"""

import base64
import functools
import http.server
import ssl
import threading
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography import x509

from tests.support import manifests
from tests.support.certificates import make_ca, make_server_certificate

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def https_ca_server(tmp_path_factory):
    """(base URL, SSL_CERT_FILE path, {file: [CA subjects]}) of a local HTTPS server with two CA files."""
    root = tmp_path_factory.mktemp("ca-downloads")
    web_ca = make_ca("download server CA")
    web_cert = make_server_certificate(web_ca)
    (root / "web.crt").write_text(web_cert.cert_pem + web_ca.cert_pem)
    (root / "web.key").write_text(web_cert.key_pem)
    (root / "trust.pem").write_text(web_ca.cert_pem)
    region_a, region_b, microsoft = make_ca("RDS region CA a"), make_ca("RDS region CA b"), make_ca("RSA Root 2017")
    files = root / "files"
    files.mkdir()
    (files / "eu-west-1-bundle.pem").write_text(region_a.cert_pem + region_b.cert_pem)
    (files / "root-2017.crt").write_bytes(microsoft.cert_der)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(root / "web.crt"), str(root / "web.key"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(files))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ("https://localhost:%d" % server.server_address[1], str(root / "trust.pem"),
               [region_a.cert_pem, region_b.cert_pem, microsoft.cert_pem])
    finally:
        server.shutdown()
        server.server_close()


def test_ca_from_urls_reaches_the_config_map_and_the_connection(https_ca_server, tmp_path):
    """PEM bundle + DER file from HTTPS become one PEM bundle in the ConfigMap <prefix>-database-ca, every
    Airflow container mounts it, and the metadata connection asks for verify-full with that file."""
    base, trust, expected = https_ca_server
    render = tmp_path / "render"
    run = manifests.run_playbook("aws", str(render), env={"SSL_CERT_FILE": trust}, extra_vars={
        "database_tls_mode": "verify-full",
        "database_tls_ca_urls": [base + "/eu-west-1-bundle.pem", base + "/root-2017.crt"],
    })
    assert run.returncode == 0, run.tail()
    objects = {(obj["kind"], obj["metadata"]["name"]): obj for _path, obj in manifests.load_manifests(str(render))}
    bundle = objects[("ConfigMap", "airflow-database-ca")]["data"]["ca.pem"]
    assert [c.subject for c in x509.load_pem_x509_certificates(bundle.encode())] == [
        x509.load_pem_x509_certificate(pem.encode()).subject for pem in expected]
    uri = base64.b64decode(objects[("Secret", "airflow-metadata")]["data"]["connection"]).decode()
    query = dict(parse_qsl(urlsplit(uri).query))
    assert query == {"sslmode": "verify-full", "sslrootcert": "/etc/airflow/database-ca/ca.pem"}
    for (kind, name), obj in objects.items():
        if kind not in ("Deployment", "StatefulSet", "Job", "CronJob"):
            continue
        spec = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"] if kind == "CronJob" else obj["spec"]["template"]["spec"]
        for container in spec["containers"]:
            if not any(item.get("name") == "AIRFLOW_HOME" for item in container.get("env", [])):
                continue
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert mounts.get("/etc/airflow/database-ca") == "database-ca", "%s/%s misses the CA mount" % (kind, name)
            volumes = {v["name"]: v for v in spec["volumes"]}
            assert volumes["database-ca"]["configMap"]["name"] == "airflow-database-ca"


def test_an_unreachable_url_fails_naming_it(https_ca_server, tmp_path):
    """A URL that answers 404 fails the run before anything is written, naming the URL."""
    base, trust, _expected = https_ca_server
    render = tmp_path / "render"
    run = manifests.run_playbook("aws", str(render), env={"SSL_CERT_FILE": trust}, extra_vars={
        "database_tls_mode": "verify-full", "database_tls_ca_urls": [base + "/missing.pem"]})
    assert run.returncode != 0
    assert base + "/missing.pem" in run.output
    assert not manifests.manifest_files(str(render)), "manifests were written although the CA could not be fetched"
