# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run an Ansible module's ``main()`` in-process, the way Ansible would, and return its result.

The module runs unmodified: its arguments go through the real ``AnsibleModule`` argument handling
(types, choices, ``no_log``, check/diff mode), and its result goes through the real
``exit_json``/``fail_json`` path (including ``no_log`` masking), printed as JSON to stdout.
We capture that JSON and the ``SystemExit`` instead of letting the test process exit.

    from ansible_collections.airflow_k8s.cloud.plugins.modules import fernet_key
    from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module
    # or, without the collection on sys.path: from .utils import run_module

    result, failed = run_module(fernet_key, {"rotate": True}, check_mode=True, diff=True)
"""

from __future__ import annotations

import contextlib
import io
import json
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as _warnings

try:  # ansible-core >= 2.19: module_utils behave differently once controller code is imported
    from ansible.module_utils import _internal as _module_utils_internal
except ImportError:  # pragma: no cover - older ansible-core
    _module_utils_internal = None

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # pragma: no cover - older ansible-core
    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Fallback for ansible-core < 2.19: the classic set_module_args."""
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield


class ModuleDidNotExit(AssertionError):
    """The module returned from main() without calling exit_json or fail_json."""


def _reset_module_globals():
    """Warnings/deprecations are process-global in module_utils; a real module run starts empty."""
    for name in ("_global_warnings", "_global_deprecations"):
        store = getattr(_warnings, name, None)
        if store is not None:
            store.clear()


def run_module(module, args, check_mode=False, diff=False):
    """Run ``module.main()`` with ``args`` as the task arguments.

    :arg module: the imported module object (it must have a ``main()``).
    :arg args: dict of task arguments (``None`` means no arguments).
    :arg check_mode: run as with ``--check``.
    :arg diff: run as with ``--diff``.
    :returns: ``(result, failed)``: the result dict exactly as Ansible would receive it (after the
        module's own ``no_log`` masking), and whether the module failed (``fail_json`` or a non-zero
        exit).
    """
    module_args = dict(args or {})
    if check_mode:
        module_args["_ansible_check_mode"] = True
    if diff:
        module_args["_ansible_diff"] = True

    _reset_module_globals()
    stdout = io.StringIO()
    exit_code = None
    # A module runs in its own process, never in the controller's: without this, a test of a
    # controller plugin (a lookup, a filter) earlier in the same pytest process would turn the
    # module's warnings into controller Display output instead of returned results.
    as_a_module = (mock.patch.object(_module_utils_internal, "is_controller", False)
                   if hasattr(_module_utils_internal, "is_controller") else contextlib.nullcontext())
    with as_a_module, patch_module_args(module_args), contextlib.redirect_stdout(stdout):
        try:
            module.main()
        except SystemExit as exc:
            exit_code = exc.code
    if exit_code is None:
        raise ModuleDidNotExit("%s.main() returned without exit_json/fail_json" % module.__name__)

    output = stdout.getvalue().strip()
    # The result is the last line printed; anything a module printed before it is a bug we surface.
    last_line = output.splitlines()[-1] if output else ""
    try:
        result = json.loads(last_line)
    except ValueError as exc:
        raise AssertionError("module printed no JSON result (exit code %r): %r" % (exit_code, output)) from exc
    failed = bool(result.get("failed")) or exit_code not in (0, None)
    return result, failed
