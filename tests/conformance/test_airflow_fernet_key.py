# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keys from ``airflow_k8s.cloud.fernet_key`` work in Airflow, through a full rotation.

Real components: Apache Airflow 3.3 (``.venv-airflow``; ``airflow connections add/get``,
``airflow rotate-fernet-key``) on a PostgreSQL server from Debian's packages, and the fernet_key
module run through ansible-playbook for every step (generate, rotate, drop the old key), each time
with the value read back from where the previous step left it, as the collection does with its
Secret. The stored ciphertext is read straight from the ``connection`` table and checked with
``cryptography``'s Fernet, independently of Airflow.
"""

import pytest
from cryptography.fernet import Fernet, InvalidToken

from tests.conformance.airflow_harness import SECRETS, run_airflow, run_module

pytestmark = [pytest.mark.airflow, pytest.mark.postgres, pytest.mark.slow]

CONN_ID = "conformance_fernet"
# A connection password that would be visible in the table if it were stored in clear.
CONNECTION_PASSWORD = "conn-Pa55:w@rd/ünï 🔑"
SECRETS.add(CONNECTION_PASSWORD)


def fernet_key(**args):
    """One call of the module through Ansible; returns its result (secrets registered for redaction)."""
    (result,) = run_module("airflow_k8s.cloud.fernet_key", [args])
    SECRETS.add(result["fernet_key"], result["primary"])
    return result


def stored_password(database):
    """(ciphertext, is_encrypted) of the test connection's password, read with SQL."""
    with database.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT password, is_encrypted FROM connection WHERE conn_id = %s", (CONN_ID,))
        row = cursor.fetchone()
    assert row is not None, "connection %r is not in the metadata database" % CONN_ID
    return row


def decrypts_with(key, ciphertext):
    try:
        return Fernet(key.encode()).decrypt(ciphertext.encode()).decode("utf-8") == CONNECTION_PASSWORD
    except InvalidToken:
        return False


def read_back(database, home, fernet_value):
    """The connection's password as Airflow decrypts it with ``[core] fernet_key = fernet_value``."""
    result = run_airflow(
        ["connections", "get", CONN_ID, "--output", "json"],
        database.env(home, AIRFLOW__CORE__FERNET_KEY=fernet_value),
    )
    if not result.ok:
        return None
    (connection,) = result.json()
    return connection["password"]


def test_fernet_key_lifecycle(metadata_database, airflow_home):
    """Generate -> store a connection -> rotate (new key first) + rotate-fernet-key -> drop the old key."""
    database = metadata_database
    database.require_migrated()

    # 1. First run: no stored value, the module generates one key.
    first = fernet_key()
    assert first["key_count"] == 1 and first["generated"] is True
    old_key = first["primary"]
    assert first["fernet_key"] == old_key
    env = database.env(airflow_home, AIRFLOW__CORE__FERNET_KEY=first["fernet_key"])
    run_airflow(
        [
            "connections", "add", CONN_ID,
            "--conn-type", "postgres",
            "--conn-host", "db.example.internal",
            "--conn-login", "reporting",
            "--conn-password", CONNECTION_PASSWORD,
        ],
        env,
        check=True,
    )
    ciphertext, is_encrypted = stored_password(database)
    assert is_encrypted is True, "Airflow stored the password unencrypted: it did not accept the key"
    assert CONNECTION_PASSWORD not in ciphertext
    assert decrypts_with(old_key, ciphertext), "the stored password is not encrypted with the module's key"
    assert read_back(database, airflow_home, first["fernet_key"]) == CONNECTION_PASSWORD

    # 2. Rotation through the collection: a new primary key in front, the old key kept after it.
    rotated = fernet_key(existing=first["fernet_key"], rotate=True)
    new_key = rotated["primary"]
    assert rotated["key_count"] == 2 and rotated["rotated"] is True
    assert rotated["fernet_key"].split(",") == [new_key, old_key]
    assert new_key != old_key
    run_airflow(
        ["rotate-fernet-key"],
        database.env(airflow_home, AIRFLOW__CORE__FERNET_KEY=rotated["fernet_key"]),
        check=True,
    )
    ciphertext, is_encrypted = stored_password(database)
    assert is_encrypted is True
    assert decrypts_with(new_key, ciphertext), "rotate-fernet-key did not re-encrypt with the new primary key"
    assert not decrypts_with(old_key, ciphertext)
    assert read_back(database, airflow_home, rotated["fernet_key"]) == CONNECTION_PASSWORD

    # 3. Drop the old key (keep no keys after the primary): only the new key remains and suffices.
    trimmed = fernet_key(existing=rotated["fernet_key"], keep=0)
    assert trimmed["fernet_key"] == new_key and trimmed["key_count"] == 1 and trimmed["dropped_count"] == 1
    assert read_back(database, airflow_home, trimmed["fernet_key"]) == CONNECTION_PASSWORD

    # Control: the dropped key alone no longer reads the connection, so the read-backs above are
    # real decryptions, not something Airflow serves regardless of the key.
    assert read_back(database, airflow_home, old_key) != CONNECTION_PASSWORD
