# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for values Kubernetes and container registries accept, used by the roles' preflight rules
(the functions live in module_utils/k8s_values.py, which the preflight action uses too)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.k8s_values import (  # noqa: F401 pylint: disable=unused-import
    cidr,
    image_repository,
    image_tag,
    k8s_annotations,
    k8s_label,
    k8s_label_value,
    k8s_labels,
    k8s_name,
    k8s_quantity,
    k8s_resources,
    quantity,
    url,
)


class TestModule(object):
    """Kubernetes and registry value tests."""

    def tests(self):
        return {
            "k8s_quantity": k8s_quantity,
            "k8s_resources": k8s_resources,
            "k8s_label_value": k8s_label_value,
            "k8s_labels": k8s_labels,
            "k8s_annotations": k8s_annotations,
            "k8s_name": k8s_name,
            "k8s_label": k8s_label,
            "image_repository": image_repository,
            "image_tag": image_tag,
            "cidr": cidr,
            "url": url,
        }
