# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the ``airflow_k8s.cloud.fernet_key`` module.

Real components: the module runs through ansible-core's real ``AnsibleModule`` (argument spec,
type conversion, ``no_log`` masking, check and diff mode, ``exit_json``/``fail_json`` JSON output)
via ``run_module``, and once through a real ``ansible-playbook`` run on localhost; keys are generated and checked with the real ``cryptography`` library, and
decryption is done with ``MultiFernet`` built exactly as Airflow's ``airflow.models.crypto.get_fernet()``
builds it. Nothing is mocked except, in one test, the absence of ``cryptography`` (a real failed
import of a fresh copy of the module). Property-based tests use hypothesis.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import sys

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.airflow_k8s.cloud.plugins.modules import fernet_key
from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

URLSAFE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def airflow_get_fernet(fernet_key_value):
    """What ``airflow.models.crypto.get_fernet()`` does with ``[core] fernet_key``."""
    return MultiFernet([Fernet(fernet_part.encode("utf-8")) for fernet_part in fernet_key_value.split(",")])


def fixed_key(seed):
    """A valid, deterministic Fernet key (32 bytes, URL-safe base64), so failures are reproducible."""
    return base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode("ascii")


def sha256_prefix(key):
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:8]


def assert_no_key_material(output, *secrets):
    """Neither a secret nor any 10-character piece of one appears in ``output`` (any JSON value)."""
    text = output if isinstance(output, str) else json.dumps(output)
    for secret in secrets:
        for element in secret.split(","):
            for start in range(0, max(len(element) - 9, 0)):
                piece = element[start:start + 10]
                assert piece not in text, "key material %r leaked into %r" % (piece, text)


def ok(args, **kwargs):
    result, failed = run_module(fernet_key, args, **kwargs)
    assert not failed, result.get("msg")
    return result


def failure(args, **kwargs):
    result, failed = run_module(fernet_key, args, **kwargs)
    assert failed, "expected a failure, got %r" % (result,)
    return result


KEY_A = fixed_key("a")
KEY_B = fixed_key("b")
KEY_C = fixed_key("c")
KEY_D = fixed_key("d")


# --- generation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [{}, {"existing": ""}, {"existing": None}], ids=["omitted", "empty", "null"])
def test_generates_a_key_when_there_is_none(args):
    result = ok(args)
    key = result["fernet_key"]
    assert result["changed"] is True
    assert result["generated"] is True
    assert result["rotated"] is False
    assert result["primary"] == key
    assert result["key_count"] == 1
    assert result["fingerprints"] == [sha256_prefix(key)]
    assert result["dropped_count"] == 0
    # A usable Fernet key: 44 URL-safe characters that cryptography accepts and can round-trip with.
    assert len(key) == 44 and set(key[:-1]) <= set(URLSAFE_ALPHABET) and key.endswith("=")
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"payload")) == b"payload"


def test_every_generation_is_a_new_random_key():
    keys = {ok({})["fernet_key"] for attempt in range(5)}
    assert len(keys) == 5


def test_rotate_without_existing_value_just_generates():
    result = ok({"rotate": True})
    assert result["changed"] is True and result["generated"] is True
    assert result["rotated"] is False
    assert result["key_count"] == 1


# --- unchanged -----------------------------------------------------------------------------------

@pytest.mark.parametrize("existing", [KEY_A, ",".join([KEY_A, KEY_B, KEY_C])], ids=["one", "three"])
def test_valid_value_is_returned_unchanged_and_unmasked(existing):
    result = ok({"existing": existing})
    assert result["changed"] is False
    assert result["generated"] is False and result["rotated"] is False
    # The value comes back in clear (existing is no_log, and Ansible would otherwise mask it).
    assert result["fernet_key"] == existing
    assert result["primary"] == existing.split(",")[0]
    assert result["key_count"] == len(existing.split(","))
    # ...but the invocation still hides the argument.
    assert result["invocation"]["module_args"]["existing"] == MASK


def test_keep_larger_than_the_list_changes_nothing():
    existing = ",".join([KEY_A, KEY_B])
    result = ok({"existing": existing, "keep": 5})
    assert result["changed"] is False
    assert result["fernet_key"] == existing


def test_duplicate_keys_warn_without_failing_or_naming_the_key():
    existing = ",".join([KEY_A, KEY_B, KEY_A])
    result = ok({"existing": existing})
    assert result["changed"] is False
    warnings = json.dumps(result.get("warnings"))
    assert "element 1 and element 3" in warnings
    assert_no_key_material(warnings, existing)


# --- rotation and keep ---------------------------------------------------------------------------

def test_rotation_prepends_a_new_key_and_keeps_all_previous_keys():
    existing = ",".join([KEY_B, KEY_A])
    result = ok({"existing": existing, "rotate": True})
    keys = result["fernet_key"].split(",")
    assert result["changed"] is True
    assert result["generated"] is True and result["rotated"] is True
    assert keys[1:] == [KEY_B, KEY_A]
    assert keys[0] not in (KEY_A, KEY_B)
    assert result["primary"] == keys[0]
    assert result["key_count"] == 3
    assert result["dropped_count"] == 0
    assert result["fingerprints"] == [sha256_prefix(key) for key in keys]
    Fernet(keys[0].encode())  # the new primary is a valid key


def test_rotation_with_keep_trims_the_oldest_keys():
    existing = ",".join([KEY_D, KEY_C, KEY_B, KEY_A])
    result = ok({"existing": existing, "rotate": True, "keep": 2})
    keys = result["fernet_key"].split(",")
    assert keys[1:] == [KEY_D, KEY_C]
    assert len(keys) == 3
    assert result["dropped_count"] == 2


def test_rotation_with_keep_zero_leaves_only_the_new_key():
    result = ok({"existing": ",".join([KEY_B, KEY_A]), "rotate": True, "keep": 0})
    assert result["key_count"] == 1
    assert result["fernet_key"] not in (KEY_A, KEY_B)
    assert result["dropped_count"] == 2
    assert result["rotated"] is True


def test_keep_zero_without_rotation_drops_the_old_keys():
    result = ok({"existing": ",".join([KEY_C, KEY_B, KEY_A]), "keep": 0})
    assert result["changed"] is True
    assert result["generated"] is False and result["rotated"] is False
    assert result["fernet_key"] == KEY_C
    assert result["dropped_count"] == 2


def test_keep_one_without_rotation_trims_to_primary_and_one():
    result = ok({"existing": ",".join([KEY_C, KEY_B, KEY_A]), "keep": 1})
    assert result["fernet_key"] == ",".join([KEY_C, KEY_B])
    assert result["changed"] is True


@pytest.mark.parametrize("keep, message", [
    (-1, "keep must be 0 or greater, got -1"),
    ("many", "keep"),
    ("1.5", "keep"),
])
def test_bad_keep_fails_through_argument_handling(keep, message):
    existing = ",".join([KEY_B, KEY_A])
    result = failure({"existing": existing, "keep": keep, "rotate": True})
    assert message in result["msg"]
    assert_no_key_material(result, existing)


def test_keep_given_as_a_string_number_is_converted():
    result = ok({"existing": ",".join([KEY_B, KEY_A]), "keep": "0"})
    assert result["fernet_key"] == KEY_B


def test_unknown_option_is_rejected():
    result = failure({"existing": KEY_A, "keys": 2})
    assert "keys" in result["msg"]
    assert_no_key_material(result, KEY_A)


# --- invalid values ------------------------------------------------------------------------------

INVALID_VALUES = [
    # (id, existing, phrases the message must contain)
    ("too-short", KEY_A[:40] + "=", ["the key", "41 characters long", "exactly 44"]),
    ("too-long", KEY_A + "AAAA", ["the key", "48 characters long"]),
    ("truncated-second", KEY_A + "," + KEY_B[:-1], ["element 2 of 2", "43 characters long"]),
    ("bad-character", "!" + KEY_A[1:], ["the key", "not URL-safe base64"]),
    ("non-ascii", "\u00e9" + KEY_A[1:], ["the key", "not URL-safe base64"]),
    ("dot-in-third", ",".join([KEY_A, KEY_B, KEY_C[:5] + "." + KEY_C[6:]]), ["element 3 of 3", "not URL-safe"]),
    ("standard-plus", KEY_A + "," + "+" + KEY_B[1:], ["element 2 of 2", "standard base64", "'-' and '_'"]),
    ("standard-slash", "/" + KEY_A[1:], ["the key", "standard base64"]),
    ("doubled-comma", ",".join([KEY_A, "", KEY_B]), ["element 2 of 3", "empty", "two commas in a row"]),
    ("trailing-comma", KEY_A + ",", ["element 2 of 2", "empty", "ends with a comma"]),
    ("leading-comma", "," + KEY_A, ["element 1 of 2", "empty", "starts with a comma"]),
    ("only-comma", ",", ["element 1 of 2", "empty"]),
    ("trailing-newline", KEY_A + "\n", ["the key", "whitespace"]),
    ("space-after-comma", KEY_A + ", " + KEY_B, ["element 2 of 2", "whitespace"]),
    ("only-spaces", "   ", ["the key", "whitespace"]),
    ("no-padding", KEY_A[:-1] + "A", ["the key", "padding"]),
    ("padding-inside", KEY_A[:10] + "=" + KEY_A[11:], ["the key", "padding"]),
    ("double-padding", KEY_A[:42] + "==", ["the key", "padding"]),
]


@pytest.mark.parametrize("existing, phrases", [case[1:] for case in INVALID_VALUES],
                         ids=[case[0] for case in INVALID_VALUES])
@pytest.mark.parametrize("rotate", [False, True], ids=["keep-value", "rotate"])
def test_invalid_value_fails_naming_problem_and_position_without_key_material(existing, phrases, rotate):
    result = failure({"existing": existing, "rotate": rotate})
    assert result["msg"].startswith("Invalid fernet key in 'existing': ")
    for phrase in phrases:
        assert phrase in result["msg"]
    assert_no_key_material(result, existing)
    assert "fernet_key" not in result and "primary" not in result
    assert result["invocation"]["module_args"]["existing"] == MASK


def test_invalid_value_fails_in_check_mode_too():
    result = failure({"existing": KEY_A + ","}, check_mode=True, diff=True)
    assert "element 2 of 2" in result["msg"]
    assert "diff" not in result


def test_missing_cryptography_fails_with_missing_required_lib(monkeypatch):
    """Load a fresh copy of the module while ``import cryptography`` really fails."""
    monkeypatch.setitem(sys.modules, "cryptography", None)
    monkeypatch.setitem(sys.modules, "cryptography.fernet", None)
    spec = importlib.util.spec_from_file_location("fernet_key_without_cryptography", fernet_key.__file__)
    module_copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module_copy)
    assert module_copy.HAS_CRYPTOGRAPHY is False
    result, failed = run_module(module_copy, {"existing": KEY_A})
    assert failed
    assert "Failed to import the required Python library (cryptography)" in result["msg"]
    assert_no_key_material(result, KEY_A)


# --- check mode and diff mode --------------------------------------------------------------------

def test_check_mode_generates_a_usable_throwaway_key():
    result = ok({}, check_mode=True)
    assert result["changed"] is True
    Fernet(result["fernet_key"].encode())


def test_check_mode_reports_no_change_for_a_valid_value():
    existing = ",".join([KEY_B, KEY_A])
    result = ok({"existing": existing}, check_mode=True)
    assert result["changed"] is False
    assert result["fernet_key"] == existing


def test_check_mode_predicts_rotation_and_trim():
    existing = ",".join([KEY_C, KEY_B, KEY_A])
    result = ok({"existing": existing, "rotate": True, "keep": 1}, check_mode=True)
    keys = result["fernet_key"].split(",")
    assert result["changed"] is True
    assert keys[1:] == [KEY_C]
    assert result["dropped_count"] == 2


def test_no_diff_without_diff_mode():
    assert "diff" not in ok({"existing": KEY_A, "rotate": True})


def test_diff_shows_counts_and_fingerprints_but_no_key_material():
    existing = ",".join([KEY_B, KEY_A])
    result = ok({"existing": existing, "rotate": True, "keep": 0}, diff=True)
    diff = result["diff"]
    new_key = result["primary"]
    assert diff["before"] == {"key_count": 2, "fingerprints": [sha256_prefix(KEY_B), sha256_prefix(KEY_A)]}
    assert diff["after"] == {"key_count": 1, "fingerprints": [sha256_prefix(new_key)]}
    assert_no_key_material(diff, existing, new_key)


def test_diff_for_a_new_key_and_in_check_mode():
    result = ok({}, check_mode=True, diff=True)
    assert result["diff"]["before"] == {"key_count": 0, "fingerprints": []}
    assert result["diff"]["after"]["fingerprints"] == [sha256_prefix(result["fernet_key"])]
    assert_no_key_material(result["diff"], result["fernet_key"])


def test_diff_is_identical_when_nothing_changes():
    result = ok({"existing": KEY_A}, diff=True)
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


# --- MultiFernet exactly as Airflow uses it ------------------------------------------------------

def test_rotation_keeps_old_data_readable_and_dropping_old_keys_needs_reencryption():
    initial = ok({})["fernet_key"]
    original_token = airflow_get_fernet(initial).encrypt(b"postgresql://airflow:secret@db/airflow")

    rotated = ok({"existing": initial, "rotate": True})["fernet_key"]
    assert rotated.split(",")[1] == initial
    crypto = airflow_get_fernet(rotated)
    # Data encrypted with the old key still decrypts with the rotated value.
    assert crypto.decrypt(original_token) == b"postgresql://airflow:secret@db/airflow"

    # What `airflow rotate-fernet-key` does: re-encrypt with the primary.
    reencrypted = crypto.rotate(original_token)
    new_primary = rotated.split(",")[0]
    assert Fernet(new_primary.encode()).decrypt(reencrypted) == b"postgresql://airflow:secret@db/airflow"
    with pytest.raises(InvalidToken):
        Fernet(initial.encode()).decrypt(reencrypted)

    # Drop the old keys through the module.
    dropped = ok({"existing": rotated, "keep": 0})
    assert dropped["changed"] is True
    assert dropped["fernet_key"] == new_primary
    final = airflow_get_fernet(dropped["fernet_key"])
    assert final.decrypt(reencrypted) == b"postgresql://airflow:secret@db/airflow"
    with pytest.raises(InvalidToken):
        final.decrypt(original_token)


def test_rotate_with_keep_zero_makes_old_tokens_unreadable():
    initial = ok({})["fernet_key"]
    token = airflow_get_fernet(initial).encrypt(b"x")
    replaced = ok({"existing": initial, "rotate": True, "keep": 0})["fernet_key"]
    with pytest.raises(InvalidToken):
        airflow_get_fernet(replaced).decrypt(token)


# --- property-based ------------------------------------------------------------------------------

key_strategy = st.binary(min_size=32, max_size=32).map(lambda raw: base64.urlsafe_b64encode(raw).decode("ascii"))
operations = st.lists(
    st.tuples(st.booleans(), st.one_of(st.none(), st.integers(min_value=0, max_value=3))),
    min_size=1, max_size=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_any_sequence_of_rotations_keeps_previous_keys_up_to_keep(steps):
    value = ok({})["fernet_key"]
    tokens = {value: airflow_get_fernet(value).encrypt(value.encode())}
    for rotate, keep in steps:
        before = value.split(",")
        args = {"existing": value, "rotate": rotate}
        if keep is not None:
            args["keep"] = keep
        result = ok(args)
        after = result["fernet_key"].split(",")

        expected_previous = before if keep is None else before[:keep + (0 if rotate else 1)]
        if rotate:
            assert after[0] not in before
            assert after[1:] == expected_previous
        else:
            assert after == expected_previous
        assert result["changed"] is (after != before)
        assert result["key_count"] == len(after)
        assert result["dropped_count"] == len(before) - len(expected_previous)

        # Every token made under a key that is still present decrypts; others do not.
        crypto = airflow_get_fernet(result["fernet_key"])
        for key, token in tokens.items():
            if key in after:
                assert crypto.decrypt(token) == key.encode()
            else:
                with pytest.raises(InvalidToken):
                    crypto.decrypt(token)
        value = result["fernet_key"]
        tokens[after[0]] = airflow_get_fernet(value).encrypt(after[0].encode())


@settings(max_examples=60, deadline=None)
@given(st.lists(key_strategy, min_size=1, max_size=5))
def test_any_valid_value_is_accepted_unchanged(keys):
    existing = ",".join(keys)
    result = ok({"existing": existing})
    assert result["changed"] is False
    assert result["fernet_key"] == existing
    airflow_get_fernet(result["fernet_key"])  # Airflow accepts it too


_NOT_URLSAFE = st.characters(blacklist_characters=URLSAFE_ALPHABET + "=,", blacklist_categories=("Cs",))


@settings(max_examples=80, deadline=None)
@given(st.lists(key_strategy, min_size=1, max_size=4), st.data())
def test_any_single_corruption_fails_with_its_position_and_no_key_material(keys, data):
    index = data.draw(st.integers(min_value=0, max_value=len(keys) - 1), label="element")
    key = keys[index]
    where = data.draw(st.integers(min_value=0, max_value=len(key) - 1), label="offset")
    corruption = data.draw(st.sampled_from(["replace", "delete", "insert"]), label="corruption")
    if corruption == "replace":
        broken = key[:where] + data.draw(_NOT_URLSAFE, label="character") + key[where + 1:]
    elif corruption == "delete":
        broken = key[:where] + key[where + 1:]
    else:
        broken = key[:where] + data.draw(st.sampled_from(URLSAFE_ALPHABET), label="character") + key[where:]
    corrupted = list(keys)
    corrupted[index] = broken
    existing = ",".join(corrupted)

    result = failure({"existing": existing, "rotate": data.draw(st.booleans(), label="rotate")})
    expected_position = "the key" if len(keys) == 1 else "element %d of %d" % (index + 1, len(keys))
    assert expected_position in result["msg"]
    assert_no_key_material(result, existing)


# --- through ansible-playbook --------------------------------------------------------------------

PLAYBOOK = """
- name: Run fernet_key the way the roles do
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Generate
      airflow_k8s.cloud.fernet_key:
      register: generated
      no_log: true
    - name: Read back unchanged
      airflow_k8s.cloud.fernet_key:
        existing: "{{ generated.fernet_key }}"
      register: unchanged
      no_log: true
    - name: Rotate
      airflow_k8s.cloud.fernet_key:
        existing: "{{ unchanged.fernet_key }}"
        rotate: true
      register: rotated
      no_log: true
    - name: Hand the results to the test
      ansible.builtin.copy:
        dest: "{{ result_file }}"
        mode: "0600"
        content: "{{ {'generated': generated, 'unchanged': unchanged, 'rotated': rotated} | to_json }}"
      no_log: true
      diff: false
"""


def _ansible_cli_available():
    try:
        return importlib.util.find_spec("ansible.__main__") is not None
    except ImportError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _ansible_cli_available(),
                    reason="ansible-test units exposes only ansible.module_utils; this needs ansible-core's CLI")
def test_through_ansible_playbook_values_survive_and_never_reach_the_output(tmp_path):
    """The action plugin (in the controller process), the controller's result handling and task-level no_log, for real."""
    from ansible_collections.airflow_k8s.cloud.tests.support.playbook import run_playbook  # pylint: disable=import-outside-toplevel

    # .../ansible_collections/airflow_k8s/cloud/plugins/modules/fernet_key.py -> the collections root
    collections_root = os.path.abspath(os.path.join(os.path.dirname(fernet_key.__file__), "..", "..", "..", ".."))
    assert os.path.basename(collections_root) == "ansible_collections"
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK)
    result_file = tmp_path / "results.json"
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    # The ansible-core that imports the module here (``python -m ansible``), in tmp_path with an empty
    # ansible.cfg: the collection is found through ANSIBLE_COLLECTIONS_PATH only.
    run = run_playbook(
        playbook, inventory="localhost,", args=("-c", "local", "--diff", "-vvv"), cwd=tmp_path, timeout=300,
        ansible_playbook=(sys.executable, "-m", "ansible", "playbook"),
        extra_vars={"ansible_python_interpreter": sys.executable, "result_file": str(result_file)},
        env={"ANSIBLE_COLLECTIONS_PATH": os.path.dirname(collections_root), "ANSIBLE_CONFIG": str(config),
             "ANSIBLE_LOCAL_TEMP": str(tmp_path / "local_tmp"), "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote_tmp")},
    )
    output = run.output
    assert run.returncode == 0, output[-3000:]
    results = json.loads(result_file.read_text())

    first = results["generated"]["fernet_key"]
    Fernet(first.encode())
    assert results["generated"]["changed"] is True
    # Unchanged value comes back as itself, not masked by the no_log option it was passed in.
    assert results["unchanged"]["fernet_key"] == first
    assert results["unchanged"]["changed"] is False
    rotated = results["rotated"]["fernet_key"].split(",")
    assert rotated[1] == first and len(rotated) == 2
    assert results["rotated"]["changed"] is True
    # Even at -vvv with --diff, no key material reaches the output.
    assert_no_key_material(output, results["rotated"]["fernet_key"])
    # The tasks ran the action plugin, in the controller process: no module was packaged or started.
    assert output.count("airflow_k8s.cloud.fernet_key: computed in the controller process, no module run") == 3
    assert "AnsiballZ_fernet_key" not in output
