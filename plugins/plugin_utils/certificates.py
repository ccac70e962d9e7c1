# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CA certificates for ``sslmode=verify-full``: check them and write them as one PEM bundle.

libpq reads ``sslrootcert`` as PEM and trusts every certificate in it. What reaches the database
role comes in three shapes: PEM text (the inventory's ``database_tls_ca_pem``, Cloud SQL's
``serverCaCert.cert``), a PEM file, and files fetched from the providers' documented URLs, which
``ansible.builtin.slurp`` hands over base64-encoded and which may be DER (Microsoft publishes its
RSA Root Certificate Authority 2017 as a DER ``.crt``). :func:`ca_bundle` takes any of them and
returns the certificates as PEM, each once, in their order; :func:`pem_problem` says what is wrong
with a text that should be PEM certificates (``None`` when nothing is). Parsing is the
``cryptography`` package's (ansible-core depends on it), so "PEM" means what OpenSSL accepts.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import binascii
import re


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)


class CertificateError(ValueError):
    """Not certificates; the message names the problem, never key material."""


def _x509():
    """``cryptography.x509``, imported on first use: importing it costs about 0.1 s, and Jinja imports
    this file whenever it compiles a template that names one of its filters or tests, which every
    run's preflight does, certificates or not."""
    try:
        from cryptography import x509
    except ImportError:  # pragma: no cover - ansible-core requires cryptography
        raise CertificateError("the Python package 'cryptography' is needed on the controller to check CA certificates")
    return x509


def pem_certificates(text, source="the value"):
    """The certificates of PEM ``text``, as ``cryptography`` objects, in order.

    Raises :class:`CertificateError` when the text holds no PEM block, a block that is not a
    certificate (a private key is named as such), or a certificate that does not parse.
    """
    x509 = _x509()
    if not isinstance(text, str):
        raise CertificateError("%s must be PEM text, got %s" % (source, type(text).__name__))
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise CertificateError("%s holds no PEM block (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)" % source)
    for number, (label, _body) in enumerate(blocks, start=1):
        if "PRIVATE KEY" in label:
            raise CertificateError("%s holds a private key (block %d, %s): give only the CA certificate(s)" % (source, number, label))
        if label != "CERTIFICATE":
            raise CertificateError("%s: PEM block %d is a %s, not a CERTIFICATE" % (source, number, label))
    try:
        certificates = x509.load_pem_x509_certificates(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise CertificateError("%s is not a valid PEM certificate: %s" % (source, error))
    return certificates


def pem_problem(text, source="the value"):
    """``None`` when ``text`` is PEM certificates, else what is wrong (for rules and messages)."""
    try:
        pem_certificates(text, source)
    except CertificateError as error:
        return str(error)
    return None


def _certificates_of(content, source):
    """Certificates of one item: PEM text, or base64 of a PEM or DER file (as slurp returns it)."""
    if "-----BEGIN" in content:
        return pem_certificates(content, source)
    try:
        raw = base64.b64decode(content, validate=False)
    except (binascii.Error, ValueError):
        raise CertificateError("%s is neither PEM text nor base64 of a certificate file" % source)
    if b"-----BEGIN" in raw:
        return pem_certificates(raw.decode("ascii", "replace"), source)
    try:
        return [_x509().load_der_x509_certificate(raw)]
    except ValueError as error:
        raise CertificateError("%s is neither a PEM nor a DER certificate: %s" % (source, error))


def ca_bundle(items, sources=None):
    """One PEM bundle of every certificate in ``items`` (a string or a list of strings).

    Each item is PEM text or the base64 of a PEM or DER file. ``sources`` (same length) names the
    items in messages (a URL, a variable). Duplicates are written once; the order is kept.
    """
    _x509()
    from cryptography.hazmat.primitives.serialization import Encoding
    if isinstance(items, str):
        items = [items]
    sources = list(sources or [])
    seen = set()
    pem = []
    for index, item in enumerate(items):
        source = sources[index] if index < len(sources) else "CA item %d" % (index + 1)
        if not isinstance(item, str) or not item.strip():
            raise CertificateError("%s is empty" % source)
        for certificate in _certificates_of(item.strip(), source):
            text = certificate.public_bytes(Encoding.PEM).decode("ascii")
            if text not in seen:
                seen.add(text)
                pem.append(text)
    if not pem:
        raise CertificateError("no CA certificate was given")
    return "".join(pem)
