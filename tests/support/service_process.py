# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a test service (the Kubernetes API emulator, the moto server) as a child process.

Both sides of the same small protocol:

* the service, once it serves, writes its pid file and a *ready file* holding its URL, both
  private (0600), and removes them when it stops (:func:`announce`);
* the parent starts the command, waits for the ready file (failing with the tail of the
  service's log when the process dies or the deadline passes), reads the URL
  (:func:`start_and_wait`), and later stops it with SIGTERM, then SIGKILL (:func:`stop`).

Standard library only: the service scripts import it both as ``tests.support.service_process``
and, when run as ``python tests/support/<script>.py``, as a sibling module.
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time


def write_private(path, text):
    """Write ``text`` to ``path`` with mode 0600 through a temporary file and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", text=True)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def announce(url, pidfile=None, ready_file=None):
    """Service side: write the pid file and the ready file (in that order), print the URL, and
    remove both files when the block ends, whatever ends it."""
    created = []
    try:
        if pidfile:
            write_private(pidfile, "%d\n" % os.getpid())
            created.append(pidfile)
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        if ready_file:
            write_private(ready_file, url + "\n")
            created.append(ready_file)
        yield
    finally:
        for path in reversed(created):
            with contextlib.suppress(OSError):
                os.unlink(path)


def start_and_wait(command, ready_file, log_path, timeout, error=RuntimeError, name="the service", poll=0.02):
    """Parent side: start ``command`` (output appended to ``log_path``) and wait until it writes
    ``ready_file``; returns ``(process, url)``. Raises ``error`` with the log's tail otherwise."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(ready_file)
    with open(log_path, "ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,  # pylint: disable=consider-using-with
                                   stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not os.path.exists(ready_file):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
                process.wait()
            with open(log_path, encoding="utf-8", errors="replace") as stream:
                raise error("%s did not start (exit code %s):\n%s" % (name, process.returncode, stream.read()[-4000:]))
        time.sleep(poll)
    with open(ready_file, encoding="utf-8") as stream:
        return process, stream.read().strip()


def stop(process, timeout=10.0):
    """SIGTERM, wait, and SIGKILL if it does not exit in time; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
