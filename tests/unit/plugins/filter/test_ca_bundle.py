# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ca_bundle and pem_certificates with real certificates made by ``cryptography`` (tests/support/certificates.py):
PEM text, base64 of PEM and DER files (what slurp returns for the providers' downloads), and what they refuse."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509

from ansible_collections.airflow_k8s.cloud.plugins.filter.ca_bundle import FilterModule, ca_bundle
from ansible_collections.airflow_k8s.cloud.plugins.test import pem_certificates as pem_certificates_plugin
from ansible_collections.airflow_k8s.cloud.plugins.test.pem_certificates import pem_certificates
from tests.support.certificates import make_ca, make_server_certificate


@pytest.fixture(scope="module")
def cas():
    return make_ca("first CA"), make_ca("second CA")


def _subjects(pem):
    return [cert.subject.rfc4514_string() for cert in x509.load_pem_x509_certificates(pem.encode())]


def test_pem_text_and_files_make_one_bundle(cas):
    first, second = cas
    items = [first.cert_pem, base64.b64encode(second.cert_der).decode(), base64.b64encode(first.cert_pem.encode()).decode()]
    bundle = ca_bundle(items, ["inline", "second.crt", "first.pem"])
    assert _subjects(bundle) == ["CN=first CA", "CN=second CA"], "each certificate once, in order, DER converted"
    assert bundle.startswith("-----BEGIN CERTIFICATE-----") and bundle.endswith("-----END CERTIFICATE-----\n")


def test_a_single_string_is_one_item(cas):
    first, second = cas
    assert _subjects(ca_bundle("junk before\n" + first.cert_pem + second.cert_pem)) == ["CN=first CA", "CN=second CA"]


@pytest.mark.parametrize("item, message", [
    ("", "CA item 1 is empty"),
    ("not a certificate", "neither PEM text nor base64"),
    ("bm90IGEgY2VydGlmaWNhdGU=", "neither a PEM nor a DER certificate"),
    ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a valid PEM certificate"),
])
def test_refused_items_are_named(item, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ca_bundle([item])


def test_a_private_key_is_refused_without_showing_it(cas):
    server = make_server_certificate(cas[0])
    with pytest.raises(AnsibleFilterError, match="holds a private key") as raised:
        ca_bundle([server.cert_pem + server.key_pem], ["database_tls_ca_pem"])
    assert "database_tls_ca_pem" in str(raised.value)
    assert server.key_pem.splitlines()[1] not in str(raised.value)


def test_pem_certificates_test(cas):
    server = make_server_certificate(cas[0])
    assert pem_certificates(cas[0].cert_pem) and pem_certificates(cas[0].cert_pem + cas[1].cert_pem)
    assert not pem_certificates(server.key_pem)
    assert not pem_certificates(cas[0].cert_pem + server.key_pem)
    assert not pem_certificates("")
    assert not pem_certificates(None)
    assert not pem_certificates(base64.b64encode(cas[0].cert_der).decode())


def test_registered():
    assert FilterModule().filters()["ca_bundle"] is ca_bundle
    assert pem_certificates_plugin.TestModule().tests()["pem_certificates"] is pem_certificates


def test_pem_problem_names_the_problem(cas):
    pem_problem = FilterModule().filters()["pem_problem"]
    assert pem_problem(cas[0].cert_pem) == ""
    assert "holds no PEM block" in pem_problem("hello", "database_tls_ca_pem")
    assert "database_tls_ca_pem" in pem_problem("hello", "database_tls_ca_pem")
    assert "private key" in pem_problem(make_server_certificate(cas[0]).key_pem)
