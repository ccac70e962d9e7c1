# -*- coding: utf-8 -*-
# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build SQLAlchemy/libpq database connection URIs that survive any character in their parts.

Pure functions, no Ansible dependency: the ``connection_uri`` module, its action plugin (which
runs the same computation in the controller process), other plugins and the tests import this
file. Both the module and the action validate their options with :func:`argument_spec` and return
what :func:`connection_uri_result` returns.

Encoding rules (why the URI looks the way it does):

* username, password, database name, query keys and query values are percent-encoded with
  ``urllib.parse.quote(value, safe="")``: every byte except ``A-Z a-z 0-9 _ . - ~`` becomes
  ``%XX`` (UTF-8 for non-ASCII). ``quote`` (not ``quote_plus``) matters: a space becomes ``%20``
  and ``+`` becomes ``%2B``, so neither ``unquote`` (SQLAlchemy's ``make_url`` for user, password
  and database, libpq for everything) nor ``parse_qsl`` (which reads ``+`` as a space) can change
  them. ``/``, ``@``, ``:``, ``?``, ``#``, ``[``, ``]``, ``%`` are encoded too, so no part can
  end early.
* the host is never encoded: it must be a valid DNS name (RFC 1123), IPv4 or IPv6 address;
  IPv6 addresses are written in brackets.
* ``escape_configparser`` doubles every ``%`` for airflow.cfg, whose parser applies configparser
  ``BasicInterpolation`` (``%%`` reads back as ``%``). Environment variables and Kubernetes
  Secrets take the URI as is.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress
import re

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported, but keep the import safe
    from urllib import quote  # type: ignore  # pylint: disable=ansible-bad-import-from

# dialect -> default port, default driver, known SQLAlchemy drivers
DIALECTS = {
    'postgresql': {
        'default_port': 5432,
        'default_driver': 'psycopg2',
        'drivers': ('psycopg2', 'psycopg', 'asyncpg', 'pg8000'),
    },
    'mysql': {
        'default_port': 3306,
        'default_driver': 'mysqldb',
        'drivers': ('mysqldb', 'pymysql', 'mysqlconnector'),
    },
}
NO_DRIVER = ('', 'none')
LOGIN_FORMATS = ('plain', 'azure_single_server')
REDACTED_PASSWORD = '***'
MAX_HOSTNAME_LENGTH = 253
#: What a no_log option reads in a result's ``invocation``, as AnsibleModule writes it.
NO_LOG_PLACEHOLDER = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'

_LABEL = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$')
_PERCENT_ESCAPE = re.compile(r'%[0-9A-Fa-f]{2}')


class ConnectionUriError(ValueError):
    """Invalid input. ``option`` names the offending option; messages never contain a password."""

    def __init__(self, option, message):
        super(ConnectionUriError, self).__init__("option '%s': %s" % (option, message))
        self.option = option


def encode_component(value):
    """Percent-encode one URI part so that any character survives (see the module docstring)."""
    return quote(value, safe='')


def escape_configparser(text):
    """Double every ``%`` so configparser's BasicInterpolation reads ``text`` back unchanged."""
    return text.replace('%', '%%')


def _require_text(option, value, allow_empty=False):
    if value is None:
        value = ''
    if not isinstance(value, str):
        raise ConnectionUriError(option, 'must be a string, got %s' % type(value).__name__)
    if not value and not allow_empty:
        raise ConnectionUriError(option, 'is required and must not be empty')
    if '\x00' in value:
        raise ConnectionUriError(option, 'must not contain a NUL character')
    return value


def normalize_host(host):
    """Validate ``host`` and return ``(uri_form, kind)``; kind is ``hostname``, ``ipv4`` or ``ipv6``.

    IPv6 addresses are accepted with or without brackets and returned compressed, in brackets.
    """
    host = _require_text('host', host)
    # Not echoed: a host like "user:secret@db" or "postgresql://user:secret@db" carries a password.
    if '@' in host:
        raise ConnectionUriError('host', 'must not contain "@" (user name and password have their own options)')
    if '/' in host:
        raise ConnectionUriError('host', 'must be a bare host name or address, not a URL or path (no "/")')
    if host.startswith('[') or host.endswith(']'):
        if not (host.startswith('[') and host.endswith(']')):
            raise ConnectionUriError('host', 'unbalanced brackets in %r' % host)
        inner = host[1:-1]
        if ':' not in inner:
            raise ConnectionUriError('host', 'brackets are only for IPv6 addresses, got %r' % host)
        host = inner
    if ':' in host:
        if '%' in host:
            raise ConnectionUriError('host', 'IPv6 zone identifiers (%%eth0) are not supported, got %r' % host)
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            raise ConnectionUriError('host', '%r is not a valid IPv6 address (a port goes in option port)' % host)
        return '[%s]' % address.compressed, 'ipv6'

    if len(host.rstrip('.')) > MAX_HOSTNAME_LENGTH:
        raise ConnectionUriError('host', 'host names are at most %d characters long' % MAX_HOSTNAME_LENGTH)
    labels = host[:-1].split('.') if host.endswith('.') else host.split('.')
    if not all(_LABEL.match(label) for label in labels):
        raise ConnectionUriError(
            'host',
            '%r is not a valid host name, IPv4 or IPv6 address (host names are dot-separated labels of '
            '1-63 letters, digits and hyphens, RFC 1123; no spaces, "/", "@", ":" or scheme)' % host,
        )
    if labels[-1].isdigit():  # a numeric top-level label: must be a dotted-quad IPv4 address
        try:
            return str(ipaddress.IPv4Address(host)), 'ipv4'
        except ValueError:
            raise ConnectionUriError('host', '%r is not a valid IPv4 address' % host)
    return host, 'hostname'


def validate_port(port):
    if isinstance(port, bool) or not isinstance(port, int):
        raise ConnectionUriError('port', 'must be an integer')
    if not 1 <= port <= 65535:
        raise ConnectionUriError('port', 'must be between 1 and 65535, got %d' % port)
    return port


def _query_string(query):
    if not query:
        return ''
    if not isinstance(query, dict):
        raise ConnectionUriError('query', 'must be a dictionary of parameter names to values')
    pairs = []
    for key in sorted(query, key=str):
        value = query[key]
        if not isinstance(key, str) or not key:
            raise ConnectionUriError('query', 'parameter names must be non-empty strings')
        if '\x00' in key:
            raise ConnectionUriError('query', 'parameter names must not contain a NUL character')
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConnectionUriError(
                'query',
                'value of %r must be a string or a number, got %s (quote YAML booleans: "true")'
                % (key, type(value).__name__),
            )
        value = str(value)
        if not value:
            raise ConnectionUriError('query', 'value of %r is empty (leave the parameter out instead)' % key)
        if '\x00' in value:
            raise ConnectionUriError('query', 'value of %r must not contain a NUL character' % key)
        pairs.append('%s=%s' % (encode_component(key), encode_component(value)))
    return '?' + '&'.join(pairs)


def _login_name(username, login_format, host, host_kind):
    if login_format == 'plain':
        return username
    if login_format == 'azure_single_server':
        if host_kind != 'hostname':
            raise ConnectionUriError(
                'host',
                'login_format=azure_single_server needs the server host name '
                '(<server>.postgres.database.azure.com), not an IP address',
            )
        server = host.split('.')[0]
        suffix = '@' + server
        if username.lower().endswith(suffix.lower()):
            return username
        return username + suffix
    raise ConnectionUriError('login_format', 'must be one of %s, got %r' % (', '.join(LOGIN_FORMATS), login_format))


def build_connection_uri(
    username,
    host,
    database,
    password=None,
    dialect='postgresql',
    driver=None,
    port=None,
    query=None,
    login_format='plain',
    escape_for_configparser=False,
    allow_empty_password=False,
):
    """Return a dict with ``uri``, ``uri_redacted``, ``username`` (the login actually used),
    ``host``, ``port``, ``scheme`` and ``warnings`` (list of str, no secrets).

    Raises :class:`ConnectionUriError` naming the option on bad input; never echoes the password.
    """
    if dialect not in DIALECTS:
        raise ConnectionUriError('dialect', 'must be one of %s, got %r' % (', '.join(sorted(DIALECTS)), dialect))
    spec = DIALECTS[dialect]

    if driver is None:
        driver = spec['default_driver']
    driver = _require_text('driver', driver, allow_empty=True)
    if driver.lower() in NO_DRIVER:
        scheme = dialect
    elif driver in spec['drivers']:
        scheme = '%s+%s' % (dialect, driver)
    else:
        raise ConnectionUriError(
            'driver',
            'for dialect %s must be one of %s, or empty/none for the plain %s:// scheme; got %r'
            % (dialect, ', '.join(spec['drivers']), dialect, driver),
        )

    username = _require_text('username', username)
    database = _require_text('database', database)
    password = _require_text('password', password, allow_empty=True)
    if not password and not allow_empty_password:
        raise ConnectionUriError(
            'password',
            'is required and must not be empty (set allow_empty_password=true for logins that '
            'authenticate otherwise, e.g. client certificates or IAM tokens)',
        )
    host_text, host_kind = normalize_host(host)
    port = validate_port(spec['default_port'] if port is None else port)
    login = _login_name(username, login_format, host_text, host_kind)

    warnings = []
    for option, value in (('username', username), ('database', database)):
        match = _PERCENT_ESCAPE.search(value)
        if match:
            warnings.append(
                "option '%s' contains %r, which looks percent-encoded already. Pass the raw value: "
                'the module encodes it (%r becomes %r).'
                % (option, match.group(0), match.group(0), encode_component(match.group(0)))
            )

    tail = '@%s:%d/%s%s' % (host_text, port, encode_component(database), _query_string(query))
    userinfo = encode_component(login)
    uri = '%s://%s%s%s' % (scheme, userinfo, ':' + encode_component(password) if password else '', tail)
    uri_redacted = '%s://%s%s%s' % (scheme, userinfo, ':' + REDACTED_PASSWORD if password else '', tail)
    if escape_for_configparser:
        uri = escape_configparser(uri)
        uri_redacted = escape_configparser(uri_redacted)
    return {
        'uri': uri,
        'uri_redacted': uri_redacted,
        'scheme': scheme,
        'username': login,
        'host': host_text,
        'port': port,
        'warnings': warnings,
    }


def argument_spec():
    """The options of the connection_uri module and action plugin (a new dict on every call)."""
    return dict(
        dialect=dict(type='str', default='postgresql', choices=sorted(DIALECTS)),
        driver=dict(type='str'),
        username=dict(type='str', required=True),
        password=dict(type='str', no_log=True),
        allow_empty_password=dict(type='bool', default=False, no_log=False),
        host=dict(type='str', required=True),
        port=dict(type='int'),
        database=dict(type='str', required=True),
        query=dict(type='dict', default={}),
        login_format=dict(type='str', default='plain', choices=list(LOGIN_FORMATS)),
        escape_for_configparser=dict(type='bool', default=False),
    )


def invocation(params):
    """The ``invocation`` of a result: the options, with the password masked as AnsibleModule masks it."""
    module_args = dict(params)
    if module_args['password']:
        module_args['password'] = NO_LOG_PLACEHOLDER
    return {'module_args': module_args}


def connection_uri_result(params):
    """``(result, warnings)`` of the connection_uri module for validated options ``params``.

    The result never reports a change and carries the URI (a secret) in ``uri``.
    Raises :class:`ConnectionUriError` on bad input; never echoes the password.
    """
    result = build_connection_uri(
        username=params['username'],
        password=params['password'],
        host=params['host'],
        port=params['port'],
        database=params['database'],
        dialect=params['dialect'],
        driver=params['driver'],
        query=params['query'],
        login_format=params['login_format'],
        escape_for_configparser=params['escape_for_configparser'],
        allow_empty_password=params['allow_empty_password'],
    )
    warnings = result.pop('warnings')
    result['changed'] = False
    return result, warnings
