# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pytest helpers for the airflow_k8s.cloud test suites.

- :mod:`tests.support.postgres` -- a throwaway PostgreSQL server from Debian's packages
  (the session fixture ``postgresql_server`` in ``tests/conftest.py`` wraps it).
"""
