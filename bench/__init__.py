# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks of airflow_k8s.cloud: ``python -m bench`` from the repository root (see bench/README.md)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type
