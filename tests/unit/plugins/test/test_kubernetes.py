# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes value tests accept what the API server and registries accept, and nothing else.

The accepted and refused examples follow k8s.io/apimachinery (resource.Quantity, label values,
DNS-1123 names) and the distribution/reference grammar for images."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from decimal import Decimal

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.test import kubernetes as k8s


@pytest.mark.parametrize("value, expected", [
    ("500m", Decimal("0.5")), ("2", Decimal(2)), (2, Decimal(2)), ("1.5Gi", Decimal(1.5 * 2 ** 30)), ("64Mi", Decimal(64 * 2 ** 20)),
    ("1k", Decimal(1000)), ("1e3", Decimal(1000)), (".5", Decimal("0.5")), ("100n", Decimal("1e-7")),
    ("1Gb", None), ("abc", None), ("", None), ("1 Gi", None), (" 1Gi", None), (True, None), ({"a": 1}, None), ("Gi", None),
])
def test_quantity(value, expected):
    assert k8s.quantity(value) == expected
    assert k8s.k8s_quantity(value) is (expected is not None)


@pytest.mark.parametrize("value, expected", [
    ({"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}, True),
    ({"requests": {"cpu": "1"}, "limits": {"cpu": "1000m"}}, True),  # equal is fine
    ({"limits": {"memory": "1Gi"}}, True),
    ({}, True),
    ({"requests": {"cpu": "2"}, "limits": {"cpu": "500m"}}, False),  # request above its limit
    ({"requests": {"memory": "2Gi"}, "limits": {"memory": "2G"}}, False),  # 2Gi > 2G
    ({"requests": {"memory": "1Gb"}}, False),
    ({"limits": {"cpu": "abc"}}, False),
    ({"request": {"cpu": "1"}}, False),  # typo of the key
    ({"requests": ["cpu"]}, False),
    ("1Gi", False),
])
def test_resources(value, expected):
    assert k8s.k8s_resources(value) is expected


@pytest.mark.parametrize("value, expected", [
    ("local", True), ("prod-eu_1.a", True), ("", True), ("a" * 63, True),
    ("a" * 64, False), ("data platform", False), ("-x", False), ("x.", False), ({"a": 1}, False), (True, False),
])
def test_label_value(value, expected):
    assert k8s.k8s_label_value(value) is expected


def test_labels_and_annotations():
    assert k8s.k8s_labels({"team": "data", "example.com/tier": "1"})
    assert not k8s.k8s_labels({"team": "data platform"})
    assert not k8s.k8s_labels({"Bad Key": "x"})
    assert not k8s.k8s_labels(["team"])
    assert k8s.k8s_annotations({"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x y"})
    assert not k8s.k8s_annotations({"a": 1})


@pytest.mark.parametrize("value, label, name", [
    ("airflow", True, True), ("airflow-tls", True, True), ("tls.example", False, True),
    ("My TLS", False, False), ("Airflow", False, False), ("-a", False, False), ("", False, False), ("a" * 64, False, True),
])
def test_names(value, label, name):
    assert k8s.k8s_label(value) is label
    assert k8s.k8s_name(value) is name


def test_name_lengths():
    assert k8s.k8s_label("a" * 40, max_length=40)
    assert not k8s.k8s_label("a" * 41, max_length=40)


@pytest.mark.parametrize("value, expected", [
    ("apache/airflow", True), ("registry.example.com:5000/team/airflow", True), ("airflow", True), ("prom/statsd-exporter", True),
    ("apache/airflow:3.3.2", False), ("apache/airflow@sha256:abc", False), ("Apache/Airflow", False), ("apache//airflow", False), ("", False),
])
def test_image_repository(value, expected):
    assert k8s.image_repository(value) is expected


@pytest.mark.parametrize("value, expected", [
    ("3.3.2", True), ("v0.28.0", True), ("3.3.2-python3.12", True), ("latest", True),
    ("3.3 2", False), ("", False), (".hidden", False), ("-x", False), ("a" * 129, False),
])
def test_image_tag(value, expected):
    assert k8s.image_tag(value) is expected


@pytest.mark.parametrize("value, expected", [
    ("203.0.113.0/24", True), ("10.0.0.1/32", True), ("2001:db8::/32", True),
    ("10.0.0.0/33", False), ("10.0.0.0", False), ("300.0.0.0/8", False), ("", False),
])
def test_cidr(value, expected):
    assert k8s.cidr(value) is expected


@pytest.mark.parametrize("value, expected", [
    ("https://airflow.example.com/", True), ("http://example.com/airflow/", True),
    ("airflow.example.com", False), ("/airflow/", False), ("ftp://example.com/", False), ("https:///path", False), ("https://a b/", False),
])
def test_url(value, expected):
    assert k8s.url(value) is expected


def test_every_test_is_registered():
    names = set(k8s.TestModule().tests())
    assert {"k8s_quantity", "k8s_resources", "k8s_label_value", "k8s_labels", "k8s_annotations", "k8s_name",
            "k8s_label", "image_repository", "image_tag", "cidr", "url"} == names
