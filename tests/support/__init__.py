# Copyright: (c) 2025, airflow_k8s.cloud contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Shared pytest helpers for the airflow_k8s.cloud test suites.

- :mod:`tests.support.postgres` -- a throwaway PostgreSQL server from Debian's packages
  (the session fixture ``postgresql_server`` in ``tests/conftest.py`` wraps it).
"""
