# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the functional suites.

- ``k8s_emulator`` (session scope): the Kubernetes API emulator (``tests/support/k8s_emulator.py``,
  built on kmock) started in a subprocess on a free 127.0.0.1 port, with its kubeconfig (context
  ``emulator``), request log and pid file in a temporary directory; stopped with SIGTERM at the end
  of the session. It yields a :class:`tests.support.k8s_emulator.EmulatorProcess` with ``.url``,
  ``.kubeconfig``, ``.request_log`` and ``.read_request_log()``. Tests that use it should carry
  ``@pytest.mark.emulator`` and use their own namespaces (the emulator is shared by the session).
- ``k8s_emulator_factory``: starts extra emulators (e.g. ``workload_status="none"``) for one test.
"""

import pytest


@pytest.fixture(scope="session")
def k8s_emulator(tmp_path_factory):
    """One emulator for the whole session, stopped at the end."""
    pytest.importorskip("kmock", reason="kmock (requirements-test.txt) is needed for the Kubernetes API emulator")
    from tests.support.k8s_emulator import EmulatorProcess  # pylint: disable=import-outside-toplevel

    emulator = EmulatorProcess.start(tmp_path_factory.mktemp("k8s-emulator"))
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def k8s_emulator_factory(tmp_path):
    """``start(**options)`` starts an emulator for this test only; all are stopped afterwards."""
    pytest.importorskip("kmock", reason="kmock (requirements-test.txt) is needed for the Kubernetes API emulator")
    from tests.support.k8s_emulator import EmulatorProcess  # pylint: disable=import-outside-toplevel

    started = []

    def start(**options):
        emulator = EmulatorProcess.start(tmp_path / ("emulator-%d" % len(started)), **options)
        started.append(emulator)
        return emulator

    try:
        yield start
    finally:
        for emulator in started:
            emulator.stop()
