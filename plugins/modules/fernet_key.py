#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: fernet_key
short_description: Generate, validate and rotate the Apache Airflow fernet key
version_added: 0.1.0
author:
  - airflow_k8s.cloud developers (!UNKNOWN)
description:
  - Computes the value of Apache Airflow's C([core] fernet_key) setting, a comma-separated list of
    Fernet keys, newest first. Airflow encrypts with the first key (the primary) and decrypts
    with any of them, so keeping earlier keys after a rotation keeps existing connections and
    variables readable.
  - With no current value, generates a new key. With a valid current value, returns it unchanged,
    unless O(rotate) prepends a new key or O(keep) drops old ones.
  - Validates the current value element by element (length, URL-safe base64 alphabet, padding,
    empty elements, whitespace) and fails with a message that names the problem and the
    element by position. Messages never contain the value or any key.
  - The module only computes a value; it stores nothing. Store RV(fernet_key) yourself, for
    example in a Kubernetes Secret, and read it back into O(existing) on later runs.
  - Keys are generated with the C(generate_key) method of C(cryptography.fernet.Fernet), exactly as
    Airflow does.
options:
  existing:
    description:
      - The current value, as read back from where it is stored. One key or several keys
        separated by single commas, newest first.
      - Omit it or pass an empty string when there is no value yet; a new key is then generated.
      - Whitespace is an error, not silently removed, so that the module never changes a stored
        value without reporting it. A trailing newline (for example from C(echo) or a YAML C(|)
        block) must be removed from the stored value.
    type: str
  rotate:
    description:
      - Generate a new key and put it first (the new primary), keeping the current keys after it
        so that data encrypted with them still decrypts.
      - Re-encrypt existing data afterwards with C(airflow rotate-fernet-key), then drop the old
        keys with O(keep=0).
      - Every run with O(rotate=true) generates another key, so use it in a task that runs only
        when a rotation is wanted, never on every run.
    type: bool
    default: false
  keep:
    description:
      - How many keys to keep after the primary key. Default is to keep them all.
      - Applied on every run, with or without O(rotate). With O(rotate=true) the previous primary
        counts as the first kept key. With O(rotate=false) it trims the current list, which is
        how old keys are dropped once C(airflow rotate-fernet-key) has re-encrypted all data.
      - Data still encrypted only with a dropped key can no longer be decrypted.
      - Must be 0 or greater.
    type: int
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module has no side effects, so check mode computes exactly what a normal run would,
        including the C(changed) status.
      - When a key would be generated, check mode returns a freshly generated key in RV(fernet_key)
        so later tasks can still template their objects. That key is a throwaway; it is different on
        every run and is never stored, because the tasks that store it do not change anything in
        check mode either.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff never contains key material. It shows the number of keys and, for each key, newest
        first, its fingerprint, the first 8 hexadecimal digits of the SHA-256 of the key.
  action:
    description:
      - The module's action plugin does its work in the controller process, whatever the task's host
        and connection, because keeping, generating or rotating a key touches no system, and a module process
        would cost about half a second. An async task runs the module itself.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
notes:
  - The returned values RV(fernet_key) and RV(primary) are B(secrets). Every task that uses this
    module, and every task that uses its registered result, must set the task keyword C(no_log) to
    C(true). The module cannot hide its own return value from the task output.
  - O(existing) is C(no_log), so it is masked in the module's invocation and logs. Its value is
    deliberately not masked in RV(fernet_key), which would otherwise read
    C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER) whenever the value is unchanged.
  - The computation runs on the controller (the action plugin, see the C(action) attribute) and needs
    the C(cryptography) Python library there, which ansible-core requires anyway. Use the task keyword
    C(run_once=true) so that every host uses the same key.
  - O(existing) never reaches a module log entry (syslog or journald). The controller process writes none,
    and the module, when it runs (async tasks), logs it as a C(no_log) option.
  - Fingerprints can be reproduced by hand with C(printf %s "$KEY" | sha256sum | cut -c1-8).
seealso:
  - name: Airflow documentation on fernet key rotation
    description: Why keys are kept after a rotation and how data is re-encrypted.
    link: https://airflow.apache.org/docs/apache-airflow/stable/security/secrets/fernet.html
requirements:
  - cryptography
"""

EXAMPLES = r"""
- name: Read the stored fernet key, if any
  kubernetes.core.k8s_info:
    kind: Secret
    namespace: airflow
    name: airflow-fernet-key
  register: fernet_secret
  no_log: true

- name: Generate the fernet key on the first run, keep it on later runs
  airflow_k8s.cloud.fernet_key:
    existing: "{{ (fernet_secret.resources | first).data['fernet-key'] | b64decode
                  if fernet_secret.resources else omit }}"
  register: fernet
  no_log: true
  delegate_to: localhost
  run_once: true

- name: Rotate the key, keeping the previous one so existing data still decrypts
  airflow_k8s.cloud.fernet_key:
    existing: "{{ stored_fernet_key }}"
    rotate: true
    keep: 1
  register: fernet
  no_log: true
  when: rotate_fernet_key | default(false)

- name: After `airflow rotate-fernet-key` re-encrypted everything, drop the old keys
  airflow_k8s.cloud.fernet_key:
    existing: "{{ stored_fernet_key }}"
    keep: 0
  register: fernet
  no_log: true

- name: Show which keys are in use without showing them
  ansible.builtin.debug:
    msg: "{{ fernet.key_count }} key(s): {{ fernet.fingerprints | join(', ') }}"
"""

RETURN = r"""
fernet_key:
  description:
    - The value to store as Airflow's C([core] fernet_key); comma-separated keys, newest first.
    - Secret. Set C(no_log) to C(true) on the task.
  returned: success
  type: str
  sample: "<44-character new key>,<44-character previous key>"
primary:
  description:
    - The newest key, which Airflow uses to encrypt. Secret.
  returned: success
  type: str
  sample: "<44-character key>"
key_count:
  description: Number of keys in RV(fernet_key).
  returned: success
  type: int
  sample: 2
fingerprints:
  description:
    - For each key in RV(fernet_key), newest first, the first 8 hexadecimal digits of the SHA-256
      of the key. Not secret; use them to compare keys across environments or runs.
  returned: success
  type: list
  elements: str
  sample: ["3f9a0c1b", "a71e55d2"]
generated:
  description: Whether a new key was generated (the first key, or a rotation).
  returned: success
  type: bool
  sample: true
rotated:
  description: Whether a new key was put in front of existing keys.
  returned: success
  type: bool
  sample: false
dropped_count:
  description: How many of the existing keys were dropped because of O(keep).
  returned: success
  type: int
  sample: 0
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.airflow_k8s.cloud.plugins.module_utils.fernet import (
    FernetKeyError,
    argument_spec,
    fernet_key_result,
    invocation,
)

try:
    from cryptography.fernet import Fernet
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None


def _exit_with_secret(module, result):
    """exit_json, returning the key material on purpose.

    ``existing`` is no_log, so AnsibleModule would replace every occurrence of its value in the
    result, which includes RV(fernet_key) whenever it is unchanged or only had a key prepended.
    Mask the invocation ourselves, then stop masking that value so the result carries the keys.
    """
    result["invocation"] = invocation(module.params)
    existing = module.params.get("existing")
    if existing:
        module.no_log_values.discard(existing)
    module.exit_json(**result)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)

    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)

    error = None
    try:
        result, warnings = fernet_key_result(module.params, module._diff, Fernet)
    except FernetKeyError as exc:
        error = str(exc)
    if error is not None:
        module.fail_json(msg=error)

    for warning in warnings:
        module.warn(warning)
    _exit_with_secret(module, result)


if __name__ == "__main__":
    main()
