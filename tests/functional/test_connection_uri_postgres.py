# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The URIs built by ``airflow_k8s.cloud.connection_uri`` log in to a real PostgreSQL server.

Real components: a throwaway PostgreSQL server from Debian's packages (``postgresql_server``
fixture, tests/support/postgres.py; scram-sha-256 password authentication on 127.0.0.1), the real
``ansible-playbook`` from .venv resolving ``airflow_k8s.cloud`` from this checkout (ansible.cfg's
collections path), psycopg2 (libpq's URI parser) and SQLAlchemy's ``create_engine`` (what Airflow
uses for ``sql_alchemy_conn``). The role name, password, database name and a query parameter are
full of characters that break hand-written URIs; a wrong password must be refused by the server,
which proves authentication is really checked.
"""

import json
import os
import sys
import uuid

import pytest

from tests.support.playbook import run_playbook

psycopg2 = pytest.importorskip("psycopg2")
sqlalchemy = pytest.importorskip("sqlalchemy")

pytestmark = pytest.mark.postgres

# Every character that needs escaping in some part of a URI, quotes, spaces and non-ASCII.
PASSWORD = "p@ss:w/rd?#[x]%41+&= 'single' \"double\" ü中🐍;,$!~ end"
# Role and database names are at most 63 bytes in PostgreSQL; keep them short but awkward.
SUFFIX = uuid.uuid4().hex[:6]
USERNAME = "air flow@u:%s/ü'\"#?+&=%%" % SUFFIX
DATABASE = "airflow db/%s?#@:%%+ä[1]" % SUFFIX
# PostgreSQL keeps only printable ASCII in application_name (others become "?").
APPLICATION_NAME = "airflow & co = 100% +x #1?/@:"

PLAYBOOK = """\
- name: Build connection URIs with airflow_k8s.cloud.connection_uri
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Build one URI per case
      airflow_k8s.cloud.connection_uri:
        username: "{{ item.username }}"
        password: "{{ item.password }}"
        host: "{{ item.host }}"
        port: "{{ item.port }}"
        database: "{{ item.database }}"
        driver: "{{ item.driver }}"
        query: "{{ item.query }}"
      loop: "{{ connection_cases }}"
      register: connection_uris
      no_log: true

    - name: Hand the results to the test in a private file
      ansible.builtin.copy:
        content: "{{ connection_uris.results | map(attribute='uri') | list | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      no_log: true
"""


def _case(server, driver, password=PASSWORD):
    return {
        "username": USERNAME,
        "password": password,
        "host": server.host,
        "port": server.port,
        "database": DATABASE,
        "driver": driver,
        "query": {"application_name": APPLICATION_NAME, "sslmode": "disable", "connect_timeout": 10},
    }


@pytest.fixture(scope="module")
def awkward_login(postgresql_server):
    """A role and a database with awkward names, owned by the role; dropped afterwards."""
    assert len(USERNAME.encode("utf-8")) <= 63 and len(DATABASE.encode("utf-8")) <= 63
    postgresql_server.create_role(USERNAME, PASSWORD)
    postgresql_server.create_database(DATABASE, owner=USERNAME)
    yield postgresql_server
    postgresql_server.drop_database(DATABASE)
    postgresql_server.drop_role(USERNAME)


@pytest.fixture(scope="module")
def built_uris(awkward_login, tmp_path_factory):
    """Run the module through ansible-playbook from the checkout; return the URIs by case name."""
    server = awkward_login
    cases = {
        "psycopg2": _case(server, "psycopg2"),
        "libpq": _case(server, ""),
        "wrong_password": _case(server, "", password=PASSWORD + "x"),
    }
    work = tmp_path_factory.mktemp("connection_uri")
    os.chmod(work, 0o700)
    playbook = work / "build_uris.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    result_file = work / "uris.json"
    run = run_playbook(
        playbook, inventory="localhost,", args=("-c", "local"), timeout=300,
        # The runner's cwd, the repository root: ansible.cfg there puts the checkout on the collections path.
        extra_vars={"ansible_python_interpreter": sys.executable, "connection_cases": list(cases.values()),
                    "result_file": str(result_file)},
    )
    output = run.output
    assert run.returncode == 0, output
    # no_log held: neither the password nor its encoded form reached the output.
    assert "p@ss" not in output and "p%40ss" not in output
    assert (os.stat(result_file).st_mode & 0o777) == 0o600
    uris = json.loads(result_file.read_text(encoding="utf-8"))
    return dict(zip(cases, uris))


def _who_am_i(conn):
    with conn.cursor() as cursor:
        cursor.execute("select current_user, current_database(), current_setting('application_name')")
        return cursor.fetchone()


def test_module_ran_from_the_checkout_and_encoded_everything(built_uris):
    assert built_uris["psycopg2"].startswith("postgresql+psycopg2://")
    assert built_uris["libpq"].startswith("postgresql://")
    for uri in built_uris.values():
        assert uri.isascii() and " " not in uri
        assert uri.count("@") == 1 and uri.count("?") == 1 and "#" not in uri


def test_psycopg2_connects_with_the_libpq_uri(built_uris):
    conn = psycopg2.connect(built_uris["libpq"])
    try:
        assert _who_am_i(conn) == (USERNAME, DATABASE, APPLICATION_NAME)
    finally:
        conn.close()


def test_psycopg2_connects_with_the_sqlalchemy_uri_minus_the_driver(built_uris):
    uri = built_uris["psycopg2"].replace("postgresql+psycopg2://", "postgresql://", 1)
    conn = psycopg2.connect(uri)
    try:
        assert _who_am_i(conn) == (USERNAME, DATABASE, APPLICATION_NAME)
    finally:
        conn.close()


def test_sqlalchemy_create_engine_connects_with_the_default_uri(built_uris):
    engine = sqlalchemy.create_engine(built_uris["psycopg2"], poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sqlalchemy.text("select current_user, current_database(), current_setting('application_name')")
            ).one()
        assert tuple(row) == (USERNAME, DATABASE, APPLICATION_NAME)
    finally:
        engine.dispose()


def test_wrong_password_is_refused(built_uris):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(built_uris["wrong_password"]).close()
    uri = built_uris["wrong_password"].replace("postgresql://", "postgresql+psycopg2://", 1)
    engine = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)
    try:
        with pytest.raises(sqlalchemy.exc.OperationalError, match="password authentication failed"):
            engine.connect().close()
    finally:
        engine.dispose()


def test_hand_written_uri_does_not_work(awkward_login):
    """Why the module exists: the same credentials pasted raw into a URI do not log in."""
    server = awkward_login
    naive = "postgresql://%s:%s@%s:%d/%s?sslmode=disable" % (USERNAME, PASSWORD, server.host, server.port, DATABASE)
    with pytest.raises(psycopg2.Error):
        psycopg2.connect(naive, connect_timeout=10).close()
