# -*- coding: utf-8 -*-
# Copyright (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fernet key lists as Apache Airflow stores them in ``[core] fernet_key``.

Airflow reads the value as a comma-separated list of Fernet keys, newest first, and builds
``MultiFernet([Fernet(part.encode("utf-8")) for part in value.split(",")])``: the first key
encrypts, every key decrypts. This file validates such a value element by element, plans a
rotation or trim, and computes non-secret fingerprints. It never puts key material into an
error message, and it does not import cryptography: the caller passes the ``Fernet`` class.

:func:`fernet_key_result` is the whole computation of the ``fernet_key`` module and of its action
plugin (which runs it in the controller process): both validate their options with
:func:`argument_spec` and return what it returns.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import hashlib

#: A Fernet key is 32 random bytes in URL-safe base64: 43 characters and one '=' of padding.
KEY_LENGTH = 44
_URLSAFE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_STANDARD_ONLY = frozenset("+/")
FINGERPRINT_LENGTH = 8

#: What a no_log option reads in a result's ``invocation``, as AnsibleModule writes it.
NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
DIFF_HEADER = "fernet_key (key count and SHA-256 fingerprints, newest first)"


class FernetKeyError(ValueError):
    """An invalid fernet key value. The message names the problem and the element, never a key."""


def describe_position(position, count):
    if count == 1:
        return "the key"
    return "element %d of %d" % (position, count)


def check_key(key, position=1, count=1):
    """Raise FernetKeyError if ``key`` is not a single valid Fernet key.

    ``position`` (1-based) and ``count`` only shape the message.
    """
    where = describe_position(position, count)
    if key == "":
        if count == 1:
            cause = "the value is empty"
        elif position == 1:
            cause = "the value starts with a comma"
        elif position == count:
            cause = "the value ends with a comma"
        else:
            cause = "the value has two commas in a row"
        raise FernetKeyError(
            "%s is empty: %s. Separate keys with exactly one comma and put no comma "
            "at either end." % (where, cause))
    if any(character.isspace() for character in key):
        raise FernetKeyError(
            "%s contains whitespace (a space, tab or line break, for example a newline "
            "added by echo or a YAML block scalar). Fernet keys contain none: remove it from "
            "the stored value; the module does not strip it silently." % where)
    if any(character in _STANDARD_ONLY for character in key):
        raise FernetKeyError(
            "%s is standard base64 (it contains '+' or '/'). Fernet keys are URL-safe "
            "base64, which uses '-' and '_' instead." % where)
    if any(character not in _URLSAFE_ALPHABET and character != "=" for character in key):
        raise FernetKeyError(
            "%s contains characters that are not URL-safe base64 "
            "(allowed: A-Z, a-z, 0-9, '-', '_', and '=' as the last character)." % where)
    if len(key) != KEY_LENGTH:
        raise FernetKeyError(
            "%s is %d characters long; a Fernet key is exactly %d characters "
            "(32 random bytes in URL-safe base64)." % (where, len(key), KEY_LENGTH))
    if key[-1] != "=" or "=" in key[:-1]:
        raise FernetKeyError(
            "%s has misplaced '=' padding; a Fernet key ends with exactly one '=' "
            "and has none elsewhere." % where)
    # The checks above guarantee this decodes to 32 bytes; keep the decoder as the last word.
    if len(base64.urlsafe_b64decode(key.encode("ascii"))) != 32:  # pragma: no cover - defensive
        raise FernetKeyError("%s does not decode to 32 bytes." % where)


def parse_keys(value):
    """Split a stored value into its keys, newest first, validating each one.

    ``None`` and ``""`` mean "no value yet" and give ``[]``. Anything else must be one or more
    valid keys separated by single commas, exactly as Airflow splits it.
    """
    if value is None or value == "":
        return []
    keys = value.split(",")
    for position, key in enumerate(keys, start=1):
        check_key(key, position, len(keys))
    return keys


def duplicate_positions(keys):
    """Return ``[(first, second), ...]`` 1-based positions of keys that repeat an earlier key."""
    seen = {}
    duplicates = []
    for position, key in enumerate(keys, start=1):
        if key in seen:
            duplicates.append((seen[key], position))
        else:
            seen[key] = position
    return duplicates


def fingerprint(key):
    """First 8 hex digits of the SHA-256 of the key as stored (ASCII).

    Reproduce by hand with ``printf %s "$KEY" | sha256sum | cut -c1-8``. 32 bits of a hash of
    a 256-bit random key reveal nothing usable about the key.
    """
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:FINGERPRINT_LENGTH]


def summary(keys):
    """Non-secret description of a key list, used for diffs and return values."""
    return {
        "key_count": len(keys),
        "fingerprints": [fingerprint(key) for key in keys],
    }


class FernetPlan(object):
    """The outcome of applying ``rotate``/``keep`` to the current keys."""

    def __init__(self, before, after, generated, rotated):
        self.before = before
        self.after = after
        self.generated = generated
        self.rotated = rotated

    @property
    def changed(self):
        return self.before != self.after

    @property
    def dropped_count(self):
        """How many of the current keys were dropped (by ``keep``)."""
        kept = len(self.after) - (1 if self.generated else 0)
        return len(self.before) - kept

    @property
    def value(self):
        return ",".join(self.after)


def plan(existing, rotate, keep, generate_key):
    """Work out the new value.

    :arg existing: the current value (``None``/``""`` for none); validated with :func:`parse_keys`.
    :arg rotate: prepend a freshly generated key as the new primary.
    :arg keep: how many keys after the primary to keep (``None``: all). Applied on every call,
        so ``keep=0`` without ``rotate`` drops the old keys once data was re-encrypted.
    :arg generate_key: callable returning a new key as ``str`` or ``bytes``.
    :returns: :class:`FernetPlan`.
    """
    if keep is not None and keep < 0:
        raise FernetKeyError("keep must be 0 or greater, got %d." % keep)
    before = parse_keys(existing)
    after = list(before)
    generated = False
    if not before or rotate:
        new_key = generate_key()
        if isinstance(new_key, bytes):
            new_key = new_key.decode("ascii")
        check_key(new_key)
        after.insert(0, new_key)
        generated = True
    if keep is not None:
        after = after[:keep + 1]
    return FernetPlan(before, after, generated, rotated=generated and bool(before))


def argument_spec():
    """The options of the fernet_key module and action plugin (a new dict on every call)."""
    return dict(
        existing=dict(type="str", no_log=True),
        rotate=dict(type="bool", default=False),
        keep=dict(type="int"),
    )


def check_with_cryptography(keys, fernet_class):
    """Let cryptography itself accept every key, as Airflow's MultiFernet will."""
    for position, key in enumerate(keys, start=1):
        try:
            fernet_class(key.encode("utf-8"))
        except (ValueError, TypeError):
            # Do not chain cryptography's exception: only our own message, which names no key.
            raise FernetKeyError(
                "%s is not accepted by cryptography.fernet.Fernet." % describe_position(position, len(keys))) from None


def invocation(params):
    """The ``invocation`` of a result: the options, with ``existing`` masked as AnsibleModule masks it."""
    module_args = dict(params)
    if module_args.get("existing") is not None:
        module_args["existing"] = NO_LOG_PLACEHOLDER
    return {"module_args": module_args}


def fernet_key_result(params, diff, fernet_class):
    """``(result, warnings)`` of the fernet_key module for validated options ``params``.

    :arg diff: add the ``diff`` (key counts and fingerprints, no key material).
    :arg fernet_class: ``cryptography.fernet.Fernet``: generates new keys and has the last word on
        every key.
    :raises FernetKeyError: with the whole failure message (no key material in it).
    """
    keep = params["keep"]
    if keep is not None and keep < 0:
        raise FernetKeyError("keep must be 0 or greater, got %d." % keep)
    try:
        outcome = plan(params["existing"], params["rotate"], keep, fernet_class.generate_key)
        check_with_cryptography(outcome.before, fernet_class)
    except FernetKeyError as exc:
        raise FernetKeyError("Invalid fernet key in 'existing': %s" % exc) from None

    warnings = ["'existing' has the same key at element %d and element %d; "
                "the duplicate serves no purpose." % (first, second)
                for first, second in duplicate_positions(outcome.before)]
    after = summary(outcome.after)
    result = dict(
        changed=outcome.changed,
        fernet_key=outcome.value,
        primary=outcome.after[0],
        key_count=after["key_count"],
        fingerprints=after["fingerprints"],
        generated=outcome.generated,
        rotated=outcome.rotated,
        dropped_count=outcome.dropped_count,
    )
    if diff:
        result["diff"] = dict(before=summary(outcome.before), after=after,
                              before_header=DIFF_HEADER, after_header=DIFF_HEADER)
    return result, warnings
