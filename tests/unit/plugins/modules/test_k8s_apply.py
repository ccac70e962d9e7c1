# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_apply through its argument handling, against the Kubernetes API emulator.

Real components: the module's own code and kubernetes.core's module utilities (the code behind
kubernetes.core.k8s), the real ``kubernetes`` client, over HTTP to the project's API emulator
(tests/support/k8s_emulator.py, an emulator: no controllers, simulated workload status). The
emulator's request log shows what reached the API and in which order.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json
import os
import sys
from unittest import mock

import pytest

from ansible_collections.airflow_k8s.cloud.plugins.modules import k8s_apply

from ansible_collections.airflow_k8s.cloud.tests.unit.plugins.modules.utils import run_module

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
if REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, REPOSITORY_ROOT)

from tests.support.k8s_emulator import EmulatorProcess  # noqa: E402  pylint: disable=wrong-import-position

SECRET_VALUE = "c2VjcmV0LXZhbHVlLW9mLXRoZS10ZXN0"  # base64 of a made-up secret


def objects():
    return {
        "workloads": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "team"},
             "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                      "template": {"metadata": {"labels": {"app": "web"}},
                                   "spec": {"containers": [{"name": "web", "image": "nginx",
                                                            "envFrom": [{"secretRef": {"name": "token"}}]}]}}}},
        ],
        "config": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "team"},
             "data": {"app.cfg": "[core]\nparallelism = 32\n"}},
            {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "token", "namespace": "team"},
             "data": {"token": SECRET_VALUE}},
        ],
        "namespace": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}],
    }


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with EmulatorProcess.start(tmp_path_factory.mktemp("emulator")) as running:
        yield running


def apply(emulator, definitions, **kwargs):
    """Apply ``definitions`` (by component); their Secrets go in the secrets option, as the sink passes them."""
    args = {"objects": {component: [obj for obj in listed if obj.get("kind") != "Secret"] for component, listed in definitions.items()},
            "secrets": json.dumps({component: [obj for obj in listed if obj.get("kind") == "Secret"]
                                   for component, listed in definitions.items()}),
            "kubeconfig": emulator.kubeconfig, "context": emulator.context,
            "labels": {"app.kubernetes.io/managed-by": "test"}}
    args.update(kwargs.pop("extra", {}))
    return run_module(k8s_apply, args, **kwargs)


def writes_since(emulator, start):
    return [(record["verb"], record["path"].rsplit("/", 1)[-1]) for record in emulator.read_request_log()[start:]
            if record.get("verb") in ("apply", "create", "patch", "update", "delete")]


def test_one_ordered_pass_then_nothing_to_change(emulator):
    start = len(emulator.read_request_log())
    result, failed = apply(emulator, objects())
    assert not failed, result
    # Namespace first, the Secret and the ConfigMap before the Deployment that reads them.
    assert [name for verb, name in writes_since(emulator, start)] == ["team", "token", "settings", "web"]
    assert [(obj["kind"], obj["component"], obj["changed"]) for obj in result["objects"]] == [
        ("Namespace", "namespace", True), ("Secret", "config", True), ("ConfigMap", "config", True),
        ("Deployment", "workloads", True)]
    assert result["changed"] and len(result["changed_objects"]) == 4
    assert result["objects"][3]["rollout"] == "ready"  # the emulator reports the rollout complete

    again, failed = apply(emulator, objects())
    assert not failed and not again["changed"] and again["changed_objects"] == []
    assert all(not obj["changed"] for obj in again["objects"])


def test_drift_is_named_with_its_diff_in_check_mode_and_repaired_by_a_run(emulator):
    apply(emulator, objects())
    edited = objects()
    edited["config"][0]["data"]["app.cfg"] = "[core]\nparallelism = 4242\n"
    apply(emulator, {"config": [edited["config"][0]]}, extra={"field_manager": "someone-else"})

    check, failed = apply(emulator, objects(), check_mode=True, diff=True)
    assert not failed and check["changed"]
    assert check["changed_objects"] == ["ConfigMap team/settings"]
    assert [(entry["before_header"], "4242" in entry["before"], "parallelism = 32" in entry["after"])
            for entry in check["diff"]] == [("ConfigMap team/settings", True, True)]
    assert all(obj["rollout"] is None for obj in check["objects"])  # nothing is known in a dry run

    repaired, failed = apply(emulator, objects())
    assert repaired["changed_objects"] == ["ConfigMap team/settings"]
    assert not apply(emulator, objects())[0]["changed"]


def test_secrets_are_named_never_shown(emulator):
    apply(emulator, objects())
    changed = objects()
    changed["config"][1]["data"]["token"] = "bmV3LXNlY3JldC12YWx1ZQ=="
    result, failed = apply(emulator, changed, diff=True, extra={"_ansible_verbosity": 3})
    assert not failed
    assert result["changed_objects"] == ["Secret team/token"]
    assert result["diff"] == [{"before_header": "Secret team/token", "after_header": "Secret team/token",
                               "before": "(Secret content hidden)\n", "after": "(Secret content hidden)\n"}]
    text = repr(result)
    assert "bmV3LXNlY3JldC12YWx1ZQ==" not in text and SECRET_VALUE not in text
    assert result["invocation"]["module_args"]["secrets"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_secrets_stay_out_of_the_modules_log_entry(emulator):
    """Every module logs its arguments (syslog/journald): the secrets option is not among them."""
    logged = []
    with mock.patch.object(k8s_apply.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg)):
        result, failed = apply(emulator, objects())
    assert not failed and logged
    assert SECRET_VALUE not in " ".join(logged) and "secrets=NOT_LOGGING_PARAMETER" in " ".join(logged)


@pytest.mark.parametrize("bad, message", [
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, "objects.config[1] needs metadata.name"),
    ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "team"}, "stringData": {"a": "b"}},
     "secrets.config[1] is a Secret with stringData"),
])
def test_unusable_objects_fail_before_any_request(emulator, bad, message):
    definitions = objects()
    definitions["config"].append(copy.deepcopy(bad))
    start = len(emulator.read_request_log())
    result, failed = apply(emulator, definitions)
    assert failed and message in result["msg"]
    assert emulator.read_request_log()[start:] == []
