# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""redact_url: a value that may carry credentials, safe to put in a message."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible.module_utils.common.text.converters import to_text

# The user information of a URL (scheme://user:password@host, scheme://token@host) and of an
# scp-like git address (user@host:path keeps its user: it is not a secret, e.g. git@github.com).
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]*)@")
# A password=... or token=... parameter in a query string or key=value list.
_SECRET_PARAMETER = re.compile(r"(?i)(?P<key>(?:password|passwd|pwd|token|secret|sig|signature|key)=)[^&;\s]*")


def redact_url(value):
    """``value`` with the user information of every URL in it replaced by ``***`` and secret-looking
    query parameters emptied: ``https://bot:tok3n@git.example.com/repo.git`` becomes
    ``https://***@git.example.com/repo.git``. Anything else is returned as it is."""
    text = to_text(value, errors="surrogate_or_strict")
    text = _USERINFO.sub(lambda match: "%s***@" % match.group("scheme"), text)
    return _SECRET_PARAMETER.sub(lambda match: "%s***" % match.group("key"), text)


class FilterModule(object):
    """Masking of credentials in values shown in messages."""

    def filters(self):
        return {"redact_url": redact_url}
