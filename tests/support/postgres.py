# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway PostgreSQL server for tests, built from Debian's ``postgresql`` packages.

What it is
    A real ``postgres`` process (the newest version found under ``/usr/lib/postgresql/<ver>/bin``),
    initialised with ``initdb`` in a fresh temporary directory and removed again afterwards.
    Nothing is installed, no system cluster (``pg_ctlcluster``) is touched.

How it is set up
    * ``initdb`` runs as the ``postgres`` OS user (through ``runuser -u postgres --``) when the tests
      run as root -- PostgreSQL refuses to run as root -- and as the current user otherwise. The temp
      directory is mode 0700 and owned by whoever runs the server.
    * Authentication is ``scram-sha-256`` for every connection, local socket included, so a wrong
      password really fails. The superuser password is random; it is handed to ``initdb`` through a
      0600 ``--pwfile`` that is deleted right after ``initdb``.
    * The server listens on 127.0.0.1 only, on a free TCP port, and puts its unix socket in the temp
      directory (never in ``/var/run/postgresql``). ``fsync`` is off: data is thrown away anyway.
    * ``pg_ctl -w start`` / ``pg_ctl -w -m fast stop``; ``stop()`` also removes the directory and is
      registered with :mod:`atexit`. A small watchdog process also stops the server and removes the
      directory if the test process dies without cleaning up (SIGTERM/SIGKILL, e.g. a CI timeout).

Usage
    In pytest use the session-scoped fixture ``postgresql_server`` from ``tests/conftest.py``
    (it skips the test with a clear message when no server binaries are installed;
    ``.ci/run`` installs the ``postgresql`` apt package so CI always has them)::

        @pytest.mark.postgres
        def test_something(postgresql_server):
            postgresql_server.create_role("app user", "p@ss:w/rd")
            postgresql_server.create_database("app db", owner="app user")
            with postgresql_server.connect(user="app user", password="p@ss:w/rd",
                                           dbname="app db") as conn:
                ...

    Outside pytest (scripts, other harnesses)::

        with PostgresServer() as server:
            print(server.host, server.port, server.superuser)   # never print the password
            conn = server.connect()

API
    ``PostgresServer(bin_dir=None, superuser="postgres", tls=None)`` (``tls``: the server's certificate and key
    as PEM text; TLS is then on and required for TCP connections, ``hostssl`` in ``pg_hba.conf``); ``start()``, ``stop()``; attributes ``host`` (``127.0.0.1``),
    ``port``, ``superuser``, ``superuser_password``, ``version``, ``bin_dir``, ``socket_dir``,
    ``log_file``; ``dsn(user=None, password=None, dbname="postgres")`` -> libpq keyword/value string
    (values quoted by psycopg2, so any character is safe); ``url(...)`` -> a ``postgresql://`` URI with
    every part percent-encoded; ``connect(...)`` -> psycopg2 connection; ``create_role(name, password,
    superuser=False)``, ``create_database(name, owner=None)``, ``drop_database(name)``,
    ``drop_role(name)``. Role and database names go through ``psycopg2.sql.Identifier`` and
    passwords through ``psycopg2.sql.Literal``, so names and passwords may contain any character
    (except NUL, which PostgreSQL does not allow).

    :func:`find_postgres_bin_dir` returns the newest ``bin`` directory or raises
    :class:`PostgresUnavailable`.
"""

import atexit
import glob
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from urllib.parse import quote

POSTGRES_ROOT = "/usr/lib/postgresql"
LISTEN_HOST = "127.0.0.1"

# Run by the watchdog process: argv = owner pid, base dir, pg_ctl command... Polls the owner; when it
# is gone without having stopped the server, stops it (immediate mode) and deletes the directory.
_WATCHDOG = """
import os, shutil, subprocess, sys, time
owner, base_dir, pg_ctl = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
while True:
    time.sleep(1)
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
subprocess.run(pg_ctl, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
shutil.rmtree(base_dir, ignore_errors=True)
"""


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries (or no way to run them) on this machine."""


class PostgresError(RuntimeError):
    """initdb/pg_ctl failed; the message carries the tail of the server log, never a password."""


def _version_key(path):
    name = os.path.basename(os.path.dirname(path.rstrip("/")))
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def find_postgres_bin_dir(root=POSTGRES_ROOT):
    """Return the ``bin`` directory of the newest installed PostgreSQL server.

    Raises :class:`PostgresUnavailable` when no ``<root>/<ver>/bin/{initdb,pg_ctl,postgres}`` exists.
    """
    candidates = [
        bin_dir
        for bin_dir in glob.glob(os.path.join(root, "*", "bin"))
        if all(os.access(os.path.join(bin_dir, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "postgres"))
    ]
    if not candidates:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries under %s/<version>/bin (install the Debian package "
            "'postgresql', e.g. `apt-get install postgresql`; .ci/run does this in CI)" % root
        )
    return max(candidates, key=_version_key)


def _free_port(host=LISTEN_HOST):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One throwaway PostgreSQL cluster on 127.0.0.1; see the module docstring."""

    def __init__(self, bin_dir=None, superuser="postgres", tls=None):
        self.bin_dir = bin_dir or find_postgres_bin_dir()
        # (certificate PEM, private key PEM) of the server: TLS on, and required on TCP (hostssl).
        self.tls = tls
        self.version = os.path.basename(os.path.dirname(self.bin_dir))
        self.host = LISTEN_HOST
        self.port = None
        self.superuser = superuser
        self.superuser_password = secrets.token_urlsafe(24)
        self.base_dir = None
        self.data_dir = None
        self.socket_dir = None
        self.log_file = None
        self._run_as = self._pick_os_user()
        self._running = False
        self._watchdog = None

    # -- process handling -------------------------------------------------------------------

    @staticmethod
    def _pick_os_user():
        """Return the OS user name to run the server as, or None for the current user."""
        if os.geteuid() != 0:
            return None
        if shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root but `runuser` is missing: cannot drop to the postgres user")
        try:
            import pwd  # pylint: disable=import-outside-toplevel

            pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root but there is no `postgres` OS user (PostgreSQL refuses to run as root)"
            ) from None
        return "postgres"

    def _command(self, tool, *args):
        cmd = [os.path.join(self.bin_dir, tool)] + list(args)
        if self._run_as:
            cmd = ["runuser", "-u", self._run_as, "--"] + cmd
        return cmd

    def _run(self, tool, *args, timeout=120):
        env = dict(os.environ, LC_ALL="C", LANG="C")
        for name in ("PGPASSWORD", "PGPASSFILE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGDATA"):
            env.pop(name, None)
        proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
            self._command(tool, *args),
            cwd=self.base_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise PostgresError(
                "%s failed (exit %d):\n%s\n%s" % (tool, proc.returncode, proc.stdout[-3000:], self._log_tail())
            )
        return proc.stdout

    def _log_tail(self, size=3000):
        if not self.log_file or not os.path.exists(self.log_file):
            return ""
        with open(self.log_file, encoding="utf-8", errors="replace") as handle:
            return "server log (tail):\n" + handle.read()[-size:]

    def _chown(self, path):
        if self._run_as:
            shutil.chown(path, user=self._run_as, group=None)

    def _write_private(self, path, text):
        """Write ``text`` to a new file readable only by the server's OS user."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        self._chown(path)

    def start(self):
        """initdb + ``pg_ctl -w start``. Returns self."""
        if self._running:
            return self
        # Short path under /tmp: unix socket paths are limited to ~107 bytes, and the postgres
        # user must be able to traverse every parent (pytest's basetemp is 0700 root).
        self.base_dir = tempfile.mkdtemp(prefix="pgtest-", dir="/tmp")
        atexit.register(self.stop)
        try:
            os.chmod(self.base_dir, 0o700)
            self._chown(self.base_dir)
            self.data_dir = os.path.join(self.base_dir, "data")
            self.socket_dir = os.path.join(self.base_dir, "socket")
            self.log_file = os.path.join(self.base_dir, "server.log")
            os.mkdir(self.socket_dir, 0o700)
            self._chown(self.socket_dir)

            pwfile = os.path.join(self.base_dir, "superuser.pw")
            self._write_private(pwfile, self.superuser_password + "\n")
            try:
                self._run(
                    "initdb",
                    "--pgdata=" + self.data_dir,
                    "--username=" + self.superuser,
                    "--pwfile=" + pwfile,
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-instructions",
                )
            finally:
                os.unlink(pwfile)

            if self.tls:
                self._write_private(os.path.join(self.data_dir, "server.crt"), self.tls[0])
                self._write_private(os.path.join(self.data_dir, "server.key"), self.tls[1])
            # Everything, the unix socket included, needs a password; with TLS, TCP needs TLS too.
            with open(os.path.join(self.data_dir, "pg_hba.conf"), "w", encoding="utf-8") as handle:
                handle.write(
                    "# written by tests/support/postgres.py\n"
                    "local all all scram-sha-256\n"
                    "%s all all 127.0.0.1/32 scram-sha-256\n" % ("hostssl" if self.tls else "host")
                )
            self._start_on_free_port()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_on_free_port(self, attempts=3):
        last_error = None
        for _attempt in range(attempts):
            self.port = _free_port()
            with open(os.path.join(self.data_dir, "postgresql.auto.conf"), "w", encoding="utf-8") as handle:
                handle.write(
                    "# written by tests/support/postgres.py\n"
                    "listen_addresses = '%s'\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "password_encryption = 'scram-sha-256'\n"
                    "fsync = off\n"
                    "synchronous_commit = off\n"
                    "full_page_writes = off\n"
                    "shared_buffers = '32MB'\n"
                    "max_connections = 50\n"
                    "log_min_messages = warning\n" % (self.host, self.port, self.socket_dir)
                )
                if self.tls:
                    handle.write("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
            try:
                self._run("pg_ctl", "--pgdata=" + self.data_dir, "--log=" + self.log_file, "-w", "-t", "60", "start")
            except PostgresError as error:  # port taken between _free_port() and bind: retry
                last_error = error
                continue
            self._running = True
            self._start_watchdog()
            return
        raise last_error

    def _start_watchdog(self):
        stop = self._command("pg_ctl", "--pgdata=" + self.data_dir, "-w", "-m", "immediate", "stop")
        self._watchdog = subprocess.Popen(  # noqa: S603 - fixed argv, no shell  pylint: disable=consider-using-with
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), self.base_dir] + stop,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # survives a signal sent to the test's process group
        )

    def stop(self):
        """Stop the server (fast shutdown) and remove its directory. Safe to call twice."""
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        if self._running:
            self._running = False
            try:
                self._run("pg_ctl", "--pgdata=" + self.data_dir, "-w", "-t", "60", "-m", "fast", "stop")
            except PostgresError:
                self._run("pg_ctl", "--pgdata=" + self.data_dir, "-w", "-m", "immediate", "stop")
        if self.base_dir and os.path.isdir(self.base_dir):
            shutil.rmtree(self.base_dir, ignore_errors=True)
        self.base_dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # -- clients ----------------------------------------------------------------------------

    def _login(self, user, password, dbname):
        if user is None:
            user = self.superuser
            if password is None:
                password = self.superuser_password
        return {
            "host": self.host,
            "port": self.port,
            "user": user,
            "password": password,
            "dbname": dbname,
        }

    def dsn(self, user=None, password=None, dbname="postgres"):
        """libpq keyword/value connection string (defaults: the superuser, database ``postgres``)."""
        from psycopg2.extensions import make_dsn  # pylint: disable=import-outside-toplevel

        return make_dsn(**self._login(user, password, dbname))

    def url(self, user=None, password=None, dbname="postgres", driver=""):
        """``postgresql[+driver]://`` URI with user, password and database percent-encoded."""
        login = self._login(user, password, dbname)
        scheme = "postgresql+" + driver if driver else "postgresql"
        return "%s://%s:%s@%s:%d/%s" % (
            scheme,
            quote(login["user"], safe=""),
            quote(login["password"] or "", safe=""),
            self.host,
            self.port,
            quote(login["dbname"], safe=""),
        )

    def connect(self, user=None, password=None, dbname="postgres", **kwargs):
        """psycopg2 connection; superuser and database ``postgres`` unless told otherwise."""
        import psycopg2  # pylint: disable=import-outside-toplevel

        return psycopg2.connect(connect_timeout=10, **dict(self._login(user, password, dbname), **kwargs))

    def _admin(self, statement):
        conn = self.connect()
        try:
            conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
            with conn.cursor() as cursor:
                cursor.execute(statement)
        finally:
            conn.close()

    def create_role(self, name, password, superuser=False):
        """CREATE ROLE ... LOGIN PASSWORD ...; the server stores a SCRAM verifier."""
        from psycopg2 import sql  # pylint: disable=import-outside-toplevel

        self._admin(
            sql.SQL("CREATE ROLE {} WITH LOGIN {} PASSWORD {}").format(
                sql.Identifier(name),
                sql.SQL("SUPERUSER" if superuser else "NOSUPERUSER"),
                sql.Literal(password),
            )
        )

    def create_database(self, name, owner=None):
        """CREATE DATABASE (UTF8, template0) owned by ``owner`` (default: the superuser)."""
        from psycopg2 import sql  # pylint: disable=import-outside-toplevel

        self._admin(
            sql.SQL("CREATE DATABASE {} WITH OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                sql.Identifier(name), sql.Identifier(owner or self.superuser)
            )
        )

    def drop_database(self, name):
        from psycopg2 import sql  # pylint: disable=import-outside-toplevel

        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def drop_role(self, name):
        from psycopg2 import sql  # pylint: disable=import-outside-toplevel

        self._admin(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
