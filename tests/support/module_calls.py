# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check every call the roles make to a cloud collection module against that module's REAL
argument spec, without a cloud.

There is no Azure or GCP (nor an emulator of them) here. What can be proven offline is that every
task calls an existing module of the installed collection with arguments the module accepts:
option names, types, choices, required options, mutually exclusive / required_if rules. A typo
or an invalid choice in a role must fail a test, not a customer's first run.

How
    1. :func:`capture_spec` imports the real module from the installed ``ansible_collections``
       package and runs its ``main()`` with ``AnsibleModule.__init__`` patched to record its
       keyword arguments and abort. That is where azure.azcollection (``AzureRMModuleBase``, which
       merges the common ``AZURE_*`` options) and google.cloud (``GcpModule``, which merges
       ``auth_kind``/``project``/...) hand over their final spec, before any SDK is used: the
       modules import without the azure/google libraries.
    2. :func:`build_shadow_collections` writes, in a temporary folder, a collection of the same
       name (``azure.azcollection``, ``google.cloud``) whose modules are shims. Each shim embeds
       the captured spec (env fallbacks kept as such) and builds a real ``AnsibleModule`` from it,
       so Ansible itself enforces types, choices and required options. It appends the call (module,
       arguments with ``no_log`` values masked, check mode) or the validation failure to a JSON-lines
       log, and answers with a canned result shaped like the module's RETURN documentation,
       computed by :mod:`tests.support.cloud_fakes` (which also remembers what was "created", so a
       second run reports ``changed=false``).
    3. Put that folder FIRST on the collections path
       (``ANSIBLE_COLLECTIONS_PATH=<shadow>:<checkout>/.collections:...``) and run the real
       ``site.yml``. Modules of other collections (kubernetes.core, ours) stay real.

A module the roles call that has no shim does not resolve, and the run fails: the list of shimmed
modules is the list of modules the harness knows canned results for (``cloud_fakes.RESPONDERS``).
"""

import importlib
import json
import os

from ansible.module_utils import basic
from ansible.module_utils.basic import env_fallback

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALL_LOG_ENV = "AIRFLOW_K8S_MODULE_CALL_LOG"
STATE_DIR_ENV = "AIRFLOW_K8S_FAKE_CLOUD_DIR"
ROOT_ENV = "AIRFLOW_K8S_TEST_ROOT"
# AnsibleModule keyword arguments that carry validation rules (besides argument_spec).
RULE_KEYWORDS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by",
                 "supports_check_mode", "bypass_checks", "no_log", "add_file_common_args")


class _Captured(Exception):
    """Raised by the patched AnsibleModule.__init__ once the spec is recorded."""


class SpecNotSerializable(ValueError):
    """The spec holds something a shim cannot rebuild (a callable type or fallback)."""


def capture_spec(fqcn):
    """The keyword arguments the real module passes to ``AnsibleModule`` (argument_spec, rules)."""
    namespace, collection, name = fqcn.split(".")
    module = importlib.import_module("ansible_collections.%s.%s.plugins.modules.%s" % (namespace, collection, name))
    recorded = {}
    original = basic.AnsibleModule.__init__

    def record(self, *args, **kwargs):  # pylint: disable=unused-argument
        if args:
            kwargs["argument_spec"] = args[0]
        recorded.update(kwargs)
        raise _Captured()

    basic.AnsibleModule.__init__ = record
    try:
        module.main()
    except _Captured:
        pass
    finally:
        basic.AnsibleModule.__init__ = original
    if "argument_spec" not in recorded:
        raise RuntimeError("%s did not build an AnsibleModule in main()" % fqcn)
    return recorded


def _encode(value, where):
    """JSON-safe copy of a spec; ``(env_fallback, [names])`` becomes ``{"__env_fallback__": names}``."""
    if isinstance(value, dict):
        return {key: _encode(item, "%s.%s" % (where, key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and value[0] is env_fallback:
            return {"__env_fallback__": list(value[1])}
        return [_encode(item, where) for item in value]
    if callable(value):
        raise SpecNotSerializable("%s holds a callable (%r)" % (where, value))
    return value


def serializable_spec(fqcn):
    """:func:`capture_spec` as JSON-safe data."""
    recorded = capture_spec(fqcn)
    result = {"argument_spec": _encode(recorded["argument_spec"], fqcn)}
    for keyword in RULE_KEYWORDS:
        if recorded.get(keyword) is not None:
            result[keyword] = _encode(recorded[keyword], "%s:%s" % (fqcn, keyword))
    return result


SHIM = '''#!/usr/bin/python
# -*- coding: utf-8 -*-
# GENERATED by tests/support/module_calls.py: a test shim of {fqcn}.
# It validates the task's arguments with the real module's argument spec (captured from the
# installed collection), logs the call and answers with a canned result. Not for real use.
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import sys

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.common.parameters import remove_values

FQCN = {fqcn!r}
CAPTURED = json.loads({spec!r})


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {{"__env_fallback__"}}:
            return (env_fallback, value["__env_fallback__"])
        return dict((key, _decode(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def _log(entry):
    with open(os.environ["{log_env}"], "a") as stream:
        stream.write(json.dumps(entry, sort_keys=True, default=str) + "\\n")


class ShimModule(AnsibleModule):
    def fail_json(self, msg=None, **kwargs):
        if not getattr(self, "_shim_validated", False):
            _log({{"module": FQCN, "valid": False, "msg": msg}})
        super(ShimModule, self).fail_json(msg=msg, **kwargs)


def main():
    options = _decode(CAPTURED)
    spec = options.pop("argument_spec")
    module = ShimModule(argument_spec=spec, **options)
    module._shim_validated = True
    params = remove_values(module.params, module.no_log_values)
    _log({{"module": FQCN, "valid": True, "check_mode": module.check_mode, "params": params}})
    sys.path.insert(0, os.environ["{root_env}"])
    from tests.support import cloud_fakes
    result = cloud_fakes.respond(FQCN, module.params, module.check_mode, os.environ["{state_env}"])
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
'''


def build_shadow_collections(root, modules):
    """Write shim collections for ``modules`` (FQCNs) under ``root/ansible_collections``; return root."""
    for fqcn in modules:
        namespace, collection, name = fqcn.split(".")
        folder = os.path.join(root, "ansible_collections", namespace, collection)
        os.makedirs(os.path.join(folder, "plugins", "modules"), exist_ok=True)
        os.makedirs(os.path.join(folder, "meta"), exist_ok=True)
        with open(os.path.join(folder, "meta", "runtime.yml"), "w") as stream:
            stream.write("---\nrequires_ansible: '>=2.15.0'\n")
        with open(os.path.join(folder, "MANIFEST.json"), "w") as stream:
            json.dump({"collection_info": {"namespace": namespace, "name": collection, "version": "0.0.0-shim"}}, stream)
        source = SHIM.format(fqcn=fqcn, spec=json.dumps(serializable_spec(fqcn)), log_env=CALL_LOG_ENV,
                             root_env=ROOT_ENV, state_env=STATE_DIR_ENV)
        with open(os.path.join(folder, "plugins", "modules", name + ".py"), "w") as stream:
            stream.write(source)
    return root


def shim_environment(shadow_root, state_dir, call_log):
    """Environment variables that make ansible-playbook use the shims and log to ``call_log``."""
    collections_path = [shadow_root, os.path.join(REPOSITORY_ROOT, ".collections")]
    return {
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(collections_path),
        CALL_LOG_ENV: call_log,
        STATE_DIR_ENV: state_dir,
        ROOT_ENV: REPOSITORY_ROOT,
    }


def read_calls(call_log):
    """The logged calls, in order (each a dict: module, valid, params or msg, check_mode)."""
    if not os.path.exists(call_log):
        return []
    with open(call_log) as stream:
        return [json.loads(line) for line in stream if line.strip()]


def run_shim(fqcn, args, shadow_root, state_dir, call_log, check_mode=False):
    """Run one shim as Ansible would (a module subprocess with its arguments); return (rc, result)."""
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    namespace, collection, name = fqcn.split(".")
    path = os.path.join(shadow_root, "ansible_collections", namespace, collection, "plugins", "modules", name + ".py")
    payload = dict(args)
    payload["_ansible_check_mode"] = check_mode
    env = dict(os.environ)
    env.update(shim_environment(shadow_root, state_dir, call_log))
    env["PYTHONPATH"] = REPOSITORY_ROOT
    process = subprocess.run([sys.executable, path], input=json.dumps({"ANSIBLE_MODULE_ARGS": payload}),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env, check=False)
    output = process.stdout.strip().splitlines()
    return process.returncode, json.loads(output[-1]) if output else {"stderr": process.stderr}
