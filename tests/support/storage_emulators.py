# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Object storage emulators on 127.0.0.1 for the remote task log tests, each a child process.

What they are (emulators, not the clouds):

* **Azurite** (npm ``azurite``, Microsoft's Azure Storage emulator), Blob service only
  (``azurite-blob``), data in a private folder. It speaks the Blob REST API with shared-key auth.
  The account is not Azurite's public development account: :class:`Azurite` makes a storage
  account with a random key per start (Azurite's ``AZURITE_ACCOUNTS`` variable), so a client
  with a wrong key is refused. Clients reach it with a connection string whose ``BlobEndpoint``
  is ``http://127.0.0.1:<port>/<account>``. ``--skipApiVersionCheck``: the Azure SDK pinned with
  the Airflow provider may send a newer ``x-ms-version`` than Azurite knows. It is installed by
  ``make setup-azurite`` (``npm install`` into ``.cache/azurite``, run by ``make test``).
* **gcp-storage-emulator** (PyPI, requirements-test.txt), an in-memory emulator of the Cloud
  Storage JSON and upload APIs, run through ``tests/support/gcs_emulator.py``, which gives a missing
  object's download Cloud Storage's ``No such object`` answer (the one gap Airflow's handler hits). The ``google-cloud-storage`` client talks to it when
  ``STORAGE_EMULATOR_HOST=http://127.0.0.1:<port>`` is set (the client's own documented switch),
  with anonymous credentials: it checks no credentials at all. ``--default-bucket`` creates the
  bucket at start.

S3 needs no process here: :class:`tests.support.moto_server.MotoServer` serves it.

Each is started on a free port and waited for (the port accepts connections; the process must not
have died), and stopped with SIGTERM, then SIGKILL. Output goes to a log file in the folder given.
"""

import base64
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AZURITE_DIR = os.path.join(REPOSITORY_ROOT, ".cache", "azurite")


class EmulatorError(RuntimeError):
    """An emulator is not installed, or did not start."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Emulator:
    """A child process serving on 127.0.0.1:``port``, output in ``<workdir>/<name>.log``."""

    name = "emulator"

    def __init__(self, workdir):
        self.workdir = os.fspath(workdir)
        os.makedirs(self.workdir, mode=0o700, exist_ok=True)
        self.port = free_port()
        self.log_path = os.path.join(self.workdir, self.name + ".log")
        self.process = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def command(self):
        raise NotImplementedError

    def environment(self):
        return dict(os.environ)

    def start(self, timeout=60.0):
        """Start the process and wait until its port accepts connections; returns self."""
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                self.command(), stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.workdir, env=self.environment(), start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with socket.socket() as probe:
                probe.settimeout(1)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.2)
        self.stop()
        raise EmulatorError("%s did not serve on port %d (exit code %s):\n%s"
                            % (self.name, self.port, self.process.returncode, self.log()[-4000:]))

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as stream:
            return stream.read()

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def azurite_blob_binary():
    """Path of ``azurite-blob`` from ``make setup-azurite`` (or on PATH); raises when absent."""
    local = os.path.join(AZURITE_DIR, "node_modules", ".bin", "azurite-blob")
    if os.access(local, os.X_OK):
        return local
    found = shutil.which("azurite-blob")
    if found:
        return found
    raise EmulatorError("azurite-blob is not installed: run `make setup-azurite` (npm install azurite into %s)" % AZURITE_DIR)


class Azurite(_Emulator):
    """Azurite's Blob service with one storage account of a random key (see the module docs)."""

    name = "azurite-blob"

    def __init__(self, workdir, account="conformancelogs"):
        super().__init__(workdir)
        self.account = account
        self.key = base64.b64encode(secrets.token_bytes(64)).decode("ascii")

    @property
    def blob_endpoint(self):
        return "%s/%s" % (self.url, self.account)

    @property
    def connection_string(self):
        """The connection string the Azure SDK (and Airflow's WASB connection) takes."""
        return "DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;" % (
            self.account, self.key, self.blob_endpoint)

    def command(self):
        data = os.path.join(self.workdir, "data")
        os.makedirs(data, mode=0o700, exist_ok=True)
        return [azurite_blob_binary(), "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", data,
                "--skipApiVersionCheck", "--disableProductStyleUrl", "--silent"]

    def environment(self):
        env = dict(os.environ)
        env["AZURITE_ACCOUNTS"] = "%s:%s" % (self.account, self.key)
        return env


class GcsEmulator(_Emulator):
    """gcp-storage-emulator in memory, with ``bucket`` created at start."""

    name = "gcp-storage-emulator"

    def __init__(self, workdir, bucket, python=None):
        super().__init__(workdir)
        self.bucket = bucket
        self.python = python or sys.executable

    def command(self):
        return [self.python, os.path.join(REPOSITORY_ROOT, "tests", "support", "gcs_emulator.py"), "start", "--host", "127.0.0.1", "--port", str(self.port),
                "--default-bucket", self.bucket, "--in-memory"]
