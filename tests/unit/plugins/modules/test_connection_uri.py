# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.connection_uri`` module.

Real components: the module runs through ansible-core's real ``AnsibleModule`` (argument spec,
types, choices, required options, ``no_log`` masking, check mode, ``exit_json``/``fail_json``)
via ``run_module``. The URIs it returns are read back with the real parsers that consume them:
``urllib.parse`` (+ ``unquote``/``parse_qsl``), SQLAlchemy's ``make_url`` (what Airflow's
``create_engine`` uses), libpq's own parser through ``psycopg2.extensions.parse_dsn`` (what psql and
psycopg2 use), and ``configparser`` with ``BasicInterpolation`` (how airflow.cfg is read).
Property-based tests (hypothesis) generate arbitrary user names, passwords, database names, hosts,
ports and query parameters. Nothing is mocked. The connection to a real PostgreSQL server is in
``tests/functional/test_connection_uri_postgres.py``.
"""

from __future__ import annotations

import configparser
import ipaddress
import json
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg2.extensions import parse_dsn
from sqlalchemy.engine import make_url

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import connection_uri as uri_utils
from ansible_collections.airflow_k8s.cloud.plugins.modules import connection_uri
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# Distinctive enough that finding it in a failure result can only be a leak.
SECRET = "Tr0ub4dor-and-3-horses"
AWKWARD = "@:/?#[]%+&=' \"\t\\;,$!*()~é中🐍"


def base_args(**overrides):
    args = {"username": "airflow", "password": SECRET, "host": "db.example.com", "database": "airflow"}
    args.update(overrides)
    return {key: value for key, value in args.items() if value is not None or key not in overrides}


def run_ok(args, **kwargs):
    result, failed = run_module(connection_uri, args, **kwargs)
    assert not failed, result
    assert result["changed"] is False
    return result


def run_failing(args):
    result, failed = run_module(connection_uri, args)
    assert failed, result
    assert SECRET not in json.dumps(result, ensure_ascii=False)
    assert uri_utils.encode_component(SECRET) not in json.dumps(result)
    return result["msg"]


# --------------------------------------------------------------------------------------------
# Defaults and each option
# --------------------------------------------------------------------------------------------


def test_defaults_give_airflow_postgresql_psycopg2_uri():
    result = run_ok(base_args())
    assert result["uri"] == "postgresql+psycopg2://airflow:%s@db.example.com:5432/airflow" % SECRET
    assert result["uri_redacted"] == "postgresql+psycopg2://airflow:***@db.example.com:5432/airflow"
    assert result["scheme"] == "postgresql+psycopg2"
    assert result["username"] == "airflow"
    assert result["host"] == "db.example.com"
    assert result["port"] == 5432
    assert "warnings" not in result


def test_password_is_not_masked_inside_the_uri_but_is_in_the_invocation():
    """The password survives encoding unchanged here; AnsibleModule's no_log masking must not
    turn the URI into '...:********@...', while the echoed module arguments stay masked."""
    result = run_ok(base_args())
    assert "********" not in result["uri"]
    assert SECRET in result["uri"]
    assert result["invocation"]["module_args"]["password"] == MASK
    assert SECRET not in json.dumps(result["invocation"])
    assert SECRET not in result["uri_redacted"]


def test_check_mode_computes_the_same_result():
    normal = run_ok(base_args(query={"sslmode": "require"}))
    checked = run_ok(base_args(query={"sslmode": "require"}), check_mode=True)
    for key in ("uri", "uri_redacted", "scheme", "username", "host", "port", "changed"):
        assert checked[key] == normal[key]


@pytest.mark.parametrize(
    "driver, scheme",
    [
        ("psycopg2", "postgresql+psycopg2"),
        ("psycopg", "postgresql+psycopg"),
        ("asyncpg", "postgresql+asyncpg"),
        ("pg8000", "postgresql+pg8000"),
        ("", "postgresql"),
        ("none", "postgresql"),
        ("None", "postgresql"),
    ],
)
def test_driver(driver, scheme):
    result = run_ok(base_args(driver=driver))
    assert result["scheme"] == scheme
    assert result["uri"].startswith(scheme + "://airflow:")
    assert make_url(result["uri"]).drivername == scheme


@pytest.mark.parametrize(
    "driver, scheme", [(None, "mysql+mysqldb"), ("pymysql", "mysql+pymysql"), ("", "mysql")]
)
def test_mysql_dialect_has_its_own_default_driver_and_port(driver, scheme):
    args = base_args(dialect="mysql")
    if driver is not None:
        args["driver"] = driver
    result = run_ok(args)
    assert result["uri"] == "%s://airflow:%s@db.example.com:3306/airflow" % (scheme, SECRET)
    assert result["port"] == 3306


def test_port():
    result = run_ok(base_args(port=6432))
    assert result["uri"].endswith("@db.example.com:6432/airflow")
    assert make_url(result["uri"]).port == 6432


def test_port_given_as_string_is_converted_by_the_argument_spec():
    assert run_ok(base_args(port="6543"))["port"] == 6543


def test_username_password_database_are_percent_encoded():
    result = run_ok(base_args(username="us er@x", password="p@ss:w/rd?#[]%+&=", database="my db/1"))
    assert result["uri"] == (
        "postgresql+psycopg2://us%20er%40x:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%2B%26%3D"
        "@db.example.com:5432/my%20db%2F1"
    )
    assert result["uri_redacted"] == "postgresql+psycopg2://us%20er%40x:***@db.example.com:5432/my%20db%2F1"
    url = make_url(result["uri"])
    assert (url.username, url.password, url.database) == ("us er@x", "p@ss:w/rd?#[]%+&=", "my db/1")


def test_non_ascii_is_utf8_percent_encoded():
    result = run_ok(base_args(username="jürgen", password="пароль", database="données"))
    assert "j%C3%BCrgen:" in result["uri"]
    assert result["uri"].endswith("/donn%C3%A9es")
    assert result["uri"].isascii()


@pytest.mark.parametrize(
    "given, written, parsed",
    [
        ("::1", "[::1]", "::1"),
        ("[::1]", "[::1]", "::1"),
        ("2001:DB8:0:0:0:0:0:10", "[2001:db8::10]", "2001:db8::10"),
        ("[2001:db8::10]", "[2001:db8::10]", "2001:db8::10"),
        ("::ffff:192.0.2.1", "[::ffff:c000:201]", "::ffff:c000:201"),
    ],
)
def test_ipv6_hosts_are_bracketed(given, written, parsed):
    result = run_ok(base_args(host=given, port=5433))
    assert result["host"] == written
    assert result["uri"] == "postgresql+psycopg2://airflow:%s@%s:5433/airflow" % (SECRET, written)
    assert make_url(result["uri"]).host == parsed
    assert urlsplit(result["uri"]).hostname == parsed
    assert urlsplit(result["uri"]).port == 5433
    assert parse_dsn(result["uri"].replace("+psycopg2", "", 1))["host"] == parsed


@pytest.mark.parametrize("host", ["192.0.2.10", "localhost", "db", "a-b.c-d.example.com", "DB.Example.COM", "db.example.com.", "x" * 63 + ".example.com"])
def test_valid_hosts_are_written_as_given(host):
    result = run_ok(base_args(host=host))
    assert result["host"] == host
    assert make_url(result["uri"]).host == host


def test_query_is_encoded_and_sorted():
    query = {"sslmode": "require", "application_name": "air flow+1&x=y#z", "connect_timeout": 10, "options": "-c search_path=a,b"}
    result = run_ok(base_args(query=query))
    assert result["uri"].endswith(
        "/airflow?application_name=air%20flow%2B1%26x%3Dy%23z&connect_timeout=10"
        "&options=-c%20search_path%3Da%2Cb&sslmode=require"
    )
    expected = {key: str(value) for key, value in query.items()}
    assert dict(make_url(result["uri"]).query) == expected
    assert dict(parse_qsl(urlsplit(result["uri"]).query, strict_parsing=True)) == expected
    libpq = parse_dsn(result["uri"].replace("+psycopg2", "", 1))
    assert {key: libpq[key] for key in expected} == expected


def test_query_order_does_not_depend_on_input_order():
    first = run_ok(base_args(query={"b": "2", "a": "1", "c": "3"}))["uri"]
    second = run_ok(base_args(query={"c": "3", "a": "1", "b": "2"}))["uri"]
    assert first == second
    assert first.endswith("?a=1&b=2&c=3")


def test_azure_single_server_login():
    host = "legacy-db.postgres.database.azure.com"
    result = run_ok(base_args(host=host, login_format="azure_single_server", query={"sslmode": "require"}))
    assert result["username"] == "airflow@legacy-db"
    assert result["uri"] == (
        "postgresql+psycopg2://airflow%%40legacy-db:%s@%s:5432/airflow?sslmode=require" % (SECRET, host)
    )
    url = make_url(result["uri"])
    assert (url.username, url.host) == ("airflow@legacy-db", host)


def test_azure_single_server_login_is_not_suffixed_twice():
    result = run_ok(
        base_args(username="airflow@legacy-db", host="legacy-db.postgres.database.azure.com", login_format="azure_single_server")
    )
    assert result["username"] == "airflow@legacy-db"
    assert "airflow%40legacy-db:" in result["uri"]


def test_plain_login_keeps_the_username_even_on_azure_hosts():
    result = run_ok(base_args(host="flex-db.postgres.database.azure.com"))
    assert result["username"] == "airflow"
    assert "://airflow:" in result["uri"]


def test_azure_single_server_needs_a_host_name():
    message = run_failing(base_args(host="10.0.0.4", login_format="azure_single_server"))
    assert "'host'" in message and "azure_single_server" in message


def test_already_encoded_username_warns():
    result = run_ok(base_args(username="airflow%40legacy-db"))
    assert "airflow%2540legacy-db" in result["uri"]
    # ansible-core >= 2.19 returns warnings as structured summaries; older versions as strings.
    warnings = json.dumps(result["warnings"])
    assert "option 'username'" in warnings and "looks percent-encoded already" in warnings


def test_escape_for_configparser_reads_back_as_the_plain_uri():
    awkward = base_args(password="50%-off@home", database="db%1", query={"application_name": "100%"})
    plain = run_ok(awkward)["uri"]
    escaped = run_ok(dict(awkward, escape_for_configparser=True))
    assert escaped["uri"] == plain.replace("%", "%%")
    assert escaped["uri_redacted"].count("%%") == escaped["uri_redacted"].count("%") // 2

    parser = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
    parser.read_string("[database]\nsql_alchemy_conn = %s\n" % escaped["uri"])
    assert parser.get("database", "sql_alchemy_conn") == plain
    assert make_url(parser.get("database", "sql_alchemy_conn")).password == "50%-off@home"

    # And why the option exists: the unescaped URI is not readable through interpolation.
    unescaped = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
    unescaped.read_string("[database]\nsql_alchemy_conn = %s\n" % plain)
    with pytest.raises(configparser.InterpolationSyntaxError):
        unescaped.get("database", "sql_alchemy_conn")


def test_allow_empty_password_omits_the_password_part():
    for password in (None, ""):
        args = base_args(allow_empty_password=True)
        if password is None:
            del args["password"]
        else:
            args["password"] = password
        result = run_ok(args)
        assert result["uri"] == "postgresql+psycopg2://airflow@db.example.com:5432/airflow"
        assert result["uri_redacted"] == result["uri"]
        assert make_url(result["uri"]).password is None


# --------------------------------------------------------------------------------------------
# Every failure path: the message names the option and never contains the password
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["username", "host", "database"])
def test_missing_required_option(option):
    args = base_args()
    del args[option]
    assert option in run_failing(args)


@pytest.mark.parametrize("option", ["username", "host", "database"])
def test_empty_required_option(option):
    message = run_failing(base_args(**{option: ""}))
    assert "'%s'" % option in message and "empty" in message


@pytest.mark.parametrize("password", [None, ""])
def test_missing_or_empty_password_fails_by_default(password):
    args = base_args()
    if password is None:
        del args["password"]
    else:
        args["password"] = password
    message = run_failing(args)
    assert "'password'" in message and "allow_empty_password" in message


@pytest.mark.parametrize(
    "host, reason",
    [
        ("db example.com", "not a valid host name"),
        (" db.example.com", "not a valid host name"),
        ("db.example.com/airflow", "no \"/\""),
        ("postgresql://db.example.com", "no \"/\""),
        ("user@db.example.com", "\"@\""),
        ("db.example.com:5432", "not a valid IPv6"),
        ("-db.example.com", "not a valid host name"),
        ("db-.example.com", "not a valid host name"),
        ("db..example.com", "not a valid host name"),
        ("db_1.example.com", "not a valid host name"),
        ("dé.example.com", "not a valid host name"),
        ("x" * 64 + ".example.com", "not a valid host name"),
        (".".join(["abcdefghi"] * 26), "at most 253"),
        ("256.1.1.1", "not a valid IPv4"),
        ("1.2.3", "not a valid IPv4"),
        ("[::1", "unbalanced brackets"),
        ("[db.example.com]", "only for IPv6"),
        ("2001:db8::zz", "not a valid IPv6"),
        ("fe80::1%eth0", "zone identifiers"),
    ],
)
def test_bad_host_fails_clearly(host, reason):
    message = run_failing(base_args(host=host))
    assert "'host'" in message and reason in message


def test_host_with_credentials_is_not_echoed():
    message = run_failing(base_args(host="airflow:%s@db.example.com" % SECRET))
    assert "'host'" in message


@pytest.mark.parametrize("port", [0, -1, 65536, 100000])
def test_port_out_of_range_fails(port):
    message = run_failing(base_args(port=port))
    assert "'port'" in message and "65535" in message


def test_port_not_a_number_fails_in_the_argument_spec():
    assert "port" in run_failing(base_args(port="fivefourthreetwo"))


@pytest.mark.parametrize(
    "option, value",
    [("dialect", "oracle"), ("login_format", "user_at_server"), ("escape_for_configparser", "maybe")],
)
def test_argument_spec_choices_and_types(option, value):
    assert option in run_failing(base_args(**{option: value}))


@pytest.mark.parametrize("driver", ["psycopg3", "pymysql", "PSYCOPG2", "psycopg2 "])
def test_unknown_driver_for_dialect_fails(driver):
    message = run_failing(base_args(driver=driver))
    assert "'driver'" in message and "psycopg2" in message


@pytest.mark.parametrize(
    "query, reason",
    [
        ({"sslmode": ""}, "empty"),
        ({"sslmode": True}, "booleans"),
        ({"sslmode": ["require"]}, "string or a number"),
        ({"sslmode": None}, "string or a number"),
        ({"": "x"}, "non-empty"),
        ({"application_name": "a\x00b"}, "NUL"),
    ],
)
def test_bad_query_fails(query, reason):
    message = run_failing(base_args(query=query))
    assert "'query'" in message and reason in message


@pytest.mark.parametrize("option", ["username", "password", "database"])
def test_nul_character_fails(option):
    value = SECRET + "\x00" if option == "password" else "a\x00b"
    message = run_failing(base_args(**{option: value}))
    assert "'%s'" % option in message and "NUL" in message


def test_failure_messages_never_contain_the_password_even_when_other_options_are_bad():
    """Every error path at once, with a password that is mostly characters to be encoded."""
    for bad in ({"host": "bad host"}, {"port": 0}, {"database": ""}, {"driver": "x"}, {"query": {"a": ""}}):
        args = dict(base_args(password=SECRET + AWKWARD), **bad)
        result, failed = run_module(connection_uri, args)
        assert failed
        dumped = json.dumps(result, ensure_ascii=False)
        assert SECRET not in dumped
        assert uri_utils.encode_component(SECRET + AWKWARD) not in dumped


# --------------------------------------------------------------------------------------------
# Property-based round trips through the module
# --------------------------------------------------------------------------------------------

# Any Unicode text except NUL (PostgreSQL forbids it) and lone surrogates (not encodable), with
# URI-special characters, quotes, whitespace and control characters made frequent.
SPECIAL = list("%@:/?#[]+&=;,$!*()'\" \t\r\n\x01\x7f\\~.-_") + ["%25", "%40", "%2F", "é", "中", "🐍", "\u200b", "\xa0"]
any_text = st.lists(
    st.one_of(
        st.sampled_from(SPECIAL),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    min_size=1,
    max_size=30,
).map("".join)
label = st.from_regex(r"\A[A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?\Z")
hostname = st.lists(label, min_size=1, max_size=4).map(".".join).filter(lambda name: not name.split(".")[-1].isdigit())
hosts = st.one_of(
    hostname,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=6).map(lambda address: "[%s]" % address),
)
ports = st.integers(min_value=1, max_value=65535)
queries = st.dictionaries(any_text, any_text, max_size=4)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def expected_host(host):
    """What a parser should give back for the host: IPv6 without brackets, compressed."""
    bare = host[1:-1] if host.startswith("[") else host
    if ":" in bare:
        return ipaddress.IPv6Address(bare).compressed
    return bare


@SETTINGS
@given(username=any_text, password=any_text, database=any_text, host=hosts, port=ports, query=queries)
def test_round_trip_urllib_and_sqlalchemy(username, password, database, host, port, query):
    result = run_ok(
        {"username": username, "password": password, "database": database, "host": host, "port": port, "query": query}
    )
    uri = result["uri"]
    assert uri.isascii() and not any(char.isspace() for char in uri)

    parts = urlsplit(uri)
    assert parts.scheme == "postgresql+psycopg2"
    assert unquote(parts.username) == username
    assert unquote(parts.password) == password
    assert parts.hostname == expected_host(host).lower()
    assert parts.port == port
    assert unquote(parts.path[1:]) == database
    assert not parts.fragment
    assert parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(query)) == sorted(query.items())

    url = make_url(uri)
    assert url.drivername == "postgresql+psycopg2"
    assert url.username == username
    assert url.password == password
    assert url.host == expected_host(host)
    assert url.port == port
    assert url.database == database
    assert dict(url.query) == query

    redacted = make_url(result["uri_redacted"])
    assert (redacted.password, redacted.username, redacted.database) == ("***", username, database)


@SETTINGS
@given(username=any_text, password=any_text, database=any_text, host=hosts, port=ports)
def test_round_trip_libpq(username, password, database, host, port):
    """libpq's own URI parser (used by psql and psycopg2.connect) decodes to the exact inputs."""
    uri = run_ok(
        {"username": username, "password": password, "database": database, "host": host, "port": port,
         "driver": "", "query": {"sslmode": "prefer"}}
    )["uri"]
    parsed = parse_dsn(uri)
    assert parsed == {
        "user": username,
        "password": password,
        "dbname": database,
        "host": expected_host(host),
        "port": str(port),
        "sslmode": "prefer",
    }


@SETTINGS
@given(username=any_text, password=any_text, database=any_text, query=queries)
def test_round_trip_through_configparser(username, password, database, query):
    args = {"username": username, "password": password, "database": database, "host": "db.example.com", "query": query}
    plain = run_ok(args)["uri"]
    escaped = run_ok(dict(args, escape_for_configparser=True))["uri"]
    parser = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
    parser.read_string("[database]\nsql_alchemy_conn = %s\n" % escaped)
    assert parser.get("database", "sql_alchemy_conn") == plain


@SETTINGS
@given(username=any_text, password=any_text, database=any_text, host=hosts)
def test_round_trip_mysql(username, password, database, host):
    url = make_url(run_ok({"dialect": "mysql", "driver": "pymysql", "username": username, "password": password,
                           "database": database, "host": host})["uri"])
    assert (url.drivername, url.username, url.password, url.database, url.host, url.port) == (
        "mysql+pymysql", username, password, database, expected_host(host), 3306)
