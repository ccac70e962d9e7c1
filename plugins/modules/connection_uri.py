#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: connection_uri
short_description: Build a database connection URI for Airflow with every part correctly escaped
version_added: 0.1.0
description:
  - Builds the SQLAlchemy / libpq connection URI that Airflow uses for its metadata database
    (C([database] sql_alchemy_conn), C(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)), for example
    C(postgresql+psycopg2://airflow:p%40ss@db.example.com:5432/airflow?sslmode=require).
  - >-
    The user name, password, database name and query parameters are percent-encoded so that
    B(any) character, including C(@ : / ? # [ ] % + & =), quotes, spaces and non-ASCII text, reaches
    the database unchanged. The host is validated (DNS name, IPv4 or IPv6 address) rather than encoded.
  - The module only computes; it never connects anywhere and never reports a change. Its action plugin
    does the computation in the controller process, with the same code, so no module process runs.
    It returns the URI in RV(uri), which contains the password, so tasks that call it must set
    C(no_log=true), and a printable RV(uri_redacted) with the password masked.
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
options:
  dialect:
    description:
      - SQLAlchemy dialect, the part of the scheme before C(+).
    type: str
    choices: [postgresql, mysql]
    default: postgresql
  driver:
    description:
      - SQLAlchemy driver, the part of the scheme after C(+).
      - When omitted, C(psycopg2) for O(dialect=postgresql) (Airflow's default) and C(mysqldb) for
        O(dialect=mysql).
      - For O(dialect=postgresql) one of C(psycopg2), C(psycopg) (psycopg 3), C(asyncpg), C(pg8000);
        for O(dialect=mysql) one of C(mysqldb), C(pymysql), C(mysqlconnector).
      - An empty string or C(none) gives the plain C(postgresql://) / C(mysql://) scheme, which
        libpq (C(psql), C(psycopg2.connect)) also understands.
    type: str
  username:
    description:
      - Database login name, raw (not percent-encoded). The module encodes it.
      - With O(login_format=azure_single_server), C(@<server>) is appended unless already present.
    type: str
    required: true
  password:
    description:
      - Password, raw (not percent-encoded). The module encodes it. Any character except NUL.
      - Required and non-empty unless O(allow_empty_password=true).
    type: str
  allow_empty_password:
    description:
      - Allow an empty or missing O(password); the URI then has no password part
        (C(postgresql+psycopg2://user@host:5432/db)). For logins that authenticate otherwise,
        for example with client certificates, C(.pgpass) or cloud IAM tokens supplied at connect time.
    type: bool
    default: false
  host:
    description:
      - Database server host name (RFC 1123 labels of letters, digits and hyphens, at most 253
        characters), IPv4 address or IPv6 address (with or without brackets; written in brackets).
      - A bare host only; no scheme, user, port or path.
    type: str
    required: true
  port:
    description:
      - TCP port, 1 to 65535.
      - When omitted, 5432 for O(dialect=postgresql) and 3306 for O(dialect=mysql).
    type: int
  database:
    description:
      - Database name, raw (not percent-encoded). The module encodes it.
    type: str
    required: true
  query:
    description:
      - Extra connection parameters appended as the query string, sorted by name so the URI is stable,
        for example C(sslmode=require) or C(connect_timeout=10).
      - Names and values are percent-encoded. Values must be non-empty strings or numbers
        (quote YAML booleans).
    type: dict
    default: {}
  login_format:
    description:
      - How the login name is written.
      - V(plain) uses O(username) as is. Use it for Azure Database for PostgreSQL B(Flexible Server),
        Amazon RDS, Cloud SQL and any other server.
      - V(azure_single_server) writes the legacy Azure Database for PostgreSQL/MySQL B(Single Server)
        login C(user@server), where C(server) is the first label of O(host)
        (C(myserver) for C(myserver.postgres.database.azure.com)). Azure retired Single Server in
        March 2025; this is only for servers migrated with their old settings.
    type: str
    choices: [plain, azure_single_server]
    default: plain
  escape_for_configparser:
    description:
      - Double every C(%) in the result (C(%40) becomes C(%%40)) so the URI can be written into
        C(airflow.cfg), which Airflow reads with configparser interpolation.
      - Leave it V(false) for environment variables (C(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)),
        Kubernetes Secrets and C(sql_alchemy_conn_secret), which are read literally.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: The module computes the same result in check mode; it never changes anything.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  action:
    support: full
    description:
      - The module's action plugin does its work in the controller process, whatever the task's host
        and connection, because building a URI touches no system, and a module process would cost about half a
        second. An async task runs the module itself.
  platform:
    support: N/A
    platforms: all
    description: Pure computation, on the controller (see the action attribute).
notes:
  - >-
    B(Why everything is percent-encoded.) In a URI, C(@) ends the user information, C(:) separates
    user and password, C(/) starts the database, C(?) the query, C(#) a fragment, C([ ]) enclose an IPv6
    host and C(%) starts an escape. A password containing any of them, written raw, silently
    truncates or shifts the parts. The module encodes every byte other than letters, digits and
    C(_ . - ~) as C(%XX) (UTF-8 for non-ASCII), with Python's C(urllib.parse.quote) and an empty C(safe) set. Spaces become
    C(%20), never C(+): SQLAlchemy's query parser reads C(+) as a space. SQLAlchemy's C(make_url) and
    libpq both decode user, password and database, so the server sees exactly the original values.
  - >-
    B(The user%40server trick.) Old guides for Azure Single Server told you to write the login
    C(user@server) by hand as C(user%40server) in the URI. Pass the raw O(username) and use
    O(login_format=azure_single_server) instead; the module writes C(user%40server). A O(username) that
    already contains a percent escape triggers a warning, because it would be encoded a second time.
  - >-
    B(configparser interpolation.) C(airflow.cfg) is read with Python configparser interpolation, where
    C(%) is special and C(%%) means a literal C(%). An encoded URI always contains C(%) when a part needed
    escaping, so use O(escape_for_configparser=true) for C(airflow.cfg) only.
  - >-
    The returned RV(uri) is a secret. Register the result in a task with C(no_log=true) and pass it on
    through a Kubernetes Secret, never through a ConfigMap or the log. RV(uri_redacted) is safe to print.
  - >-
    Empty passwords are refused by default because an empty password in a URI usually means a missing
    variable, not a passwordless login; see O(allow_empty_password).
seealso:
  - name: SQLAlchemy database URLs
    description: The URI format this module writes (SQLAlchemy 2 C(make_url)).
    link: https://docs.sqlalchemy.org/en/20/core/engines.html#database-urls
  - name: libpq connection URIs
    description: The C(postgresql://) format of PostgreSQL's client library.
    link: https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS
  - name: Airflow metadata database configuration
    description: C(sql_alchemy_conn) and its environment variable and secret variants.
    link: https://airflow.apache.org/docs/apache-airflow/stable/howto/set-up-database.html
'''

EXAMPLES = r'''
- name: Build the Airflow metadata database URI (Azure Flexible Server, TLS required)
  airflow_k8s.cloud.connection_uri:
    username: airflow
    password: "{{ database_password }}"
    host: airflow-db.postgres.database.azure.com
    database: airflow
    query:
      sslmode: require
  register: database_uri
  no_log: true

- name: Show where Airflow will connect, without the password
  ansible.builtin.debug:
    msg: "Metadata database: {{ database_uri.uri_redacted }}"

- name: Same URI for psycopg 3 on an IPv6 address and a non-default port
  airflow_k8s.cloud.connection_uri:
    driver: psycopg
    username: airflow
    password: "{{ database_password }}"
    host: "2001:db8::10"
    port: 6432
    database: airflow
  register: database_uri_psycopg3
  no_log: true

- name: URI for the [database] section of airflow.cfg (percent signs doubled)
  airflow_k8s.cloud.connection_uri:
    username: airflow
    password: "{{ database_password }}"
    host: db.internal.example.com
    database: airflow
    escape_for_configparser: true
  register: database_uri_for_cfg
  no_log: true

- name: Legacy Azure Single Server login (airflow@legacy-db), plain libpq scheme
  airflow_k8s.cloud.connection_uri:
    driver: ""
    username: airflow
    password: "{{ database_password }}"
    host: legacy-db.postgres.database.azure.com
    database: airflow
    login_format: azure_single_server
    query:
      sslmode: require
  register: legacy_database_uri
  no_log: true
'''

RETURN = r'''
uri:
  description:
    - The connection URI, password included. A secret; use C(no_log=true) on the task.
    - Percent signs are doubled when O(escape_for_configparser=true).
  returned: success
  type: str
  sample: postgresql+psycopg2://airflow:s%40cr%3At%2F@airflow-db.postgres.database.azure.com:5432/airflow?sslmode=require
uri_redacted:
  description:
    - The same URI with the password replaced by C(***); safe to log and display.
  returned: success
  type: str
  sample: postgresql+psycopg2://airflow:***@airflow-db.postgres.database.azure.com:5432/airflow?sslmode=require
scheme:
  description: The URI scheme, C(<dialect>+<driver>) or the bare dialect.
  returned: success
  type: str
  sample: postgresql+psycopg2
username:
  description: The login name written into the URI before encoding (with C(@server) for
    O(login_format=azure_single_server)).
  returned: success
  type: str
  sample: airflow
host:
  description: The host as written into the URI (IPv6 addresses compressed and in brackets).
  returned: success
  type: str
  sample: airflow-db.postgres.database.azure.com
port:
  description: The port written into the URI.
  returned: success
  type: int
  sample: 5432
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.connection_uri import (
    ConnectionUriError,
    argument_spec,
    connection_uri_result,
    invocation,
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        result, warnings = connection_uri_result(params)
    except ConnectionUriError as error:
        # Messages never contain the password; no_log masking stays active here as a second guard.
        module.fail_json(msg=str(error), option=error.option)

    for warning in warnings:
        module.warn(warning)

    # AnsibleModule masks every occurrence of a no_log value in the result. The URI is a deliberate
    # secret output: when encoding leaves the password unchanged (letters, digits, "_.-~") masking
    # would corrupt `uri` into "...:********@...". So stop masking the password in the result, and
    # return the invocation arguments with the password masked ourselves. The task must use no_log.
    if params['password']:
        module.no_log_values.discard(params['password'])
    module.exit_json(invocation=invocation(params), **result)


if __name__ == '__main__':
    main()
