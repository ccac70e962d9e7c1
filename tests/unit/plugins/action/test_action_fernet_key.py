# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fernet_key action plugin: the module's result, computed in the controller process.

Real components: the action plugin's ``run`` with ansible-core's argument validation, the real
``cryptography`` library, and the module through ``run_module`` (real ``AnsibleModule``) for the
comparison. Only ``_execute_module`` is replaced, by a recorder, to show whether a module process
would have been started.
"""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from ansible_collections.airflow_k8s.cloud.plugins.action import fernet_key as action
from ansible_collections.airflow_k8s.cloud.plugins.modules import fernet_key as module
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.action.test_action_connection_uri import warning_texts
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.action.utils import MODULE_RESULT, run_action
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.test_fernet_key import (
    KEY_A, KEY_B, KEY_C, MASK, assert_no_key_material, sha256_prefix)
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module


def in_process(args, **kwargs):
    result, module_runs = run_action(action, args, **kwargs)
    assert module_runs == [], "a module process was started"
    return result


# Cases without a new key: the module and the action must return the same result, byte for byte.
CASES = {
    "unchanged": {"existing": KEY_A},
    "unchanged-three": {"existing": ",".join([KEY_A, KEY_B, KEY_C])},
    "keep-trims": {"existing": ",".join([KEY_C, KEY_B, KEY_A]), "keep": 1},
    "keep-as-text": {"existing": ",".join([KEY_B, KEY_A]), "keep": "0"},
    "duplicate-warns": {"existing": ",".join([KEY_A, KEY_B, KEY_A])},
    "failure-trailing-comma": {"existing": KEY_A + ","},
    "failure-whitespace": {"existing": KEY_A + "\n", "rotate": True},
    "failure-negative-keep": {"existing": KEY_A, "keep": -1},
    "failure-keep-not-a-number": {"existing": KEY_A, "keep": "many"},
    "failure-unknown-option": {"existing": KEY_A, "keys": 2},
}


@pytest.mark.parametrize("args", list(CASES.values()), ids=list(CASES))
@pytest.mark.parametrize("check_mode, diff", [(False, False), (True, True), (False, True)],
                         ids=["run", "check-diff", "diff"])
def test_the_action_returns_exactly_what_the_module_returns(args, check_mode, diff):
    expected, failed = run_module(module, dict(args, _ansible_module_name="airflow_k8s.cloud.fernet_key"),
                                  check_mode=check_mode, diff=diff)
    result = in_process(args, check_mode=check_mode, diff=diff)
    assert bool(result.get("failed")) is failed
    if failed:
        expected.pop("failed")
        result.pop("failed")
    assert warning_texts(result) == warning_texts(expected)
    assert_no_key_material({k: v for k, v in result.items() if k not in ("fernet_key", "primary")}, args["existing"])


@pytest.mark.parametrize("args", [{}, {"existing": ""}, {"existing": KEY_B, "rotate": True, "keep": 0}],
                         ids=["first-key", "empty", "rotate"])
@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_a_new_key_is_generated_in_process_like_the_module_does(args, check_mode):
    expected, failed = run_module(module, args, check_mode=check_mode, diff=True)
    result = in_process(args, check_mode=check_mode, diff=True)
    assert not failed and not result.get("failed")
    new_key = result["primary"]
    Fernet(new_key.encode())
    assert new_key not in (expected["primary"], KEY_B)
    # Everything but the new key (and what is computed from it) is the module's.
    for key in ("changed", "key_count", "generated", "rotated", "dropped_count", "invocation"):
        assert result[key] == expected[key], key
    assert result["fingerprints"] == [sha256_prefix(new_key)]
    assert result["diff"]["before"] == expected["diff"]["before"]
    assert result["diff"]["after"] == {"key_count": 1, "fingerprints": [sha256_prefix(new_key)]}
    assert_no_key_material(result["diff"], new_key)


def test_the_existing_value_is_returned_unmasked_and_masked_in_the_invocation():
    existing = ",".join([KEY_B, KEY_A])
    result = in_process({"existing": existing, "rotate": True})
    assert result["fernet_key"].split(",")[1:] == [KEY_B, KEY_A]
    assert result["invocation"]["module_args"]["existing"] == MASK
    assert_no_key_material(json.dumps(result["invocation"]), existing)


def test_a_failure_masks_the_existing_value_everywhere():
    result = in_process({"existing": KEY_A + "," + KEY_B[:-1]})
    assert result["failed"] is True and "element 2 of 2" in result["msg"]
    assert result["invocation"]["module_args"]["existing"] == MASK
    assert_no_key_material(result, KEY_A + "," + KEY_B)


def test_without_cryptography_the_action_fails_as_the_module_does(monkeypatch):
    monkeypatch.setattr(action, "Fernet", None)
    monkeypatch.setattr(action, "CRYPTOGRAPHY_IMPORT_ERROR", "Traceback: ImportError")
    result = in_process({"existing": KEY_A})
    assert result["failed"] is True
    assert "Failed to import the required Python library (cryptography)" in result["msg"]
    assert_no_key_material(result, KEY_A)


def test_an_async_task_runs_the_module():
    result, module_runs = run_action(action, {"existing": KEY_A}, async_val=30)
    assert len(module_runs) == 1 and module_runs[0]["wrap_async"]
    assert result == MODULE_RESULT
