# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the sink and verify roles: checking objects, reporting writes, reading Secrets back."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.module_utils import manifests

ROLLOUT_KINDS = manifests.WORKLOAD_KINDS + ("Job",)


def k8s_object_problems(objects, variable="sink_run_objects", secrets=None):
    """What makes objects unusable, one message per object; empty when every object is usable.

    ``secrets``: None accepts any kind, false refuses Secrets, true accepts only Secrets.
    """
    return manifests.object_problems(objects, variable, secrets)


def k8s_checked_objects(objects, variable="sink_run_objects", secrets=None):
    """``objects`` as they are when every object is usable; otherwise fails, naming each unusable one
    (:func:`k8s_object_problems`), so that the task using them writes nothing."""
    problems = manifests.object_problems(objects, variable, secrets)
    if problems:
        raise AnsibleFilterError("The run's objects are unusable, nothing was written: %s." % "; ".join(problems))
    return objects


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def _render_report(result, check_mode, render_dir, field_manager):
    files, changed, removed = result.get("files", []), result.get("changed_files", []), result.get("removed_files", [])
    components = _plural(len(result.get("components", [])), "component")
    lines = ["Rendered %s for %s to %s/" % (_plural(len(files), "object"), components, render_dir)]
    if changed:
        lines.append("%s: %s." % ("Would write" if check_mode else "Written", ", ".join(changed)))
    if removed:
        lines.append("%s (no longer produced): %s." % ("Would remove" if check_mode else "Removed", ", ".join(removed)))
    if not changed and not removed:
        lines.append("No drift: no file would change." if check_mode else "Nothing changed: every file was already as rendered.")
    lines += [
        "%s are in secret-*.yaml files (mode 0600, folder 0700): they hold credentials in clear text (base64). "
        "Do not commit or share them; build/ is git-ignored." % _plural(result.get("secrets", 0), "Secret"),
        "Apply them with: kubectl apply --server-side --field-manager=%s -k %s" % (field_manager, render_dir),
        "Or let Ansible apply them: set sink_mode: apply in the inventory (needs cluster credentials).",
    ]
    return lines


def _apply_report(result, check_mode, field_manager):
    objects = result.get("objects", [])
    changed = result.get("changed_objects", [])
    components = set(obj.get("component") for obj in objects)
    secrets = [obj for obj in objects if obj.get("secret")]
    lines = ["Applied %s (%s) for %s with server-side apply (field manager %s)%s." % (
        _plural(len(objects), "object"), _plural(len(secrets), "Secret"), _plural(len(components), "component"),
        field_manager, ", as a dry run" if check_mode else "")]
    if changed:
        lines.append("%s%s%s: %s." % ("Drift: " if check_mode else "Created or changed: ", _plural(len(changed), "object"),
                                      " would change" if check_mode else "", ", ".join(changed)))
    elif not result.get("deleted_objects"):
        lines.append("No drift: no object would change." if check_mode
                     else "Nothing changed: every object was already as described.")
    changed_secrets = [manifests.identity(dict(kind="Secret", metadata=dict(name=obj["name"], namespace=obj["namespace"])))
                       for obj in secrets if obj.get("changed")]
    if changed_secrets:
        lines.append("Secrets %s (content hidden): %s." % ("that would change" if check_mode else "changed", ", ".join(changed_secrets)))
    deleted = result.get("deleted_objects") or []
    if deleted:
        lines.append("%s (no component describes them any more): %s." % ("Would delete" if check_mode else "Deleted", ", ".join(deleted)))
    left = [entry for entry in result.get("retired") or [] if entry.get("action") == "left alone"]
    if left:
        lines.append("Left alone (no longer described, but not owned by this collection): %s." % ", ".join(
            "%s (%s)" % (manifests.identity(dict(kind=entry.get("kind"), metadata=dict(name=entry.get("name"), namespace=entry.get("namespace")))),
                         entry.get("reason")) for entry in left))
    return lines


def sink_report(result, mode, check_mode=False, render_dir="", field_manager=""):
    """The lines the sink prints after it wrote: what it wrote, what changed (the drift), and what next.

    ``result`` is the registered result of render_manifests (render) or k8s_apply (apply). Only
    names are reported, never content.
    """
    if not isinstance(result, dict):
        raise AnsibleFilterError("sink_report needs the registered result of render_manifests or k8s_apply")
    if result.get("skipped"):
        return ["Nothing was written (the write step was skipped)."]
    if mode == "render":
        return _render_report(result, check_mode, render_dir, field_manager)
    if mode == "apply":
        return _apply_report(result, check_mode, field_manager)
    raise AnsibleFilterError("sink_report: mode must be apply or render, got %r" % (mode,))


def k8s_rollout_waits(result):
    """The workloads and Jobs of a k8s_apply result that verify must wait for.

    Those that changed in this run, and those whose rollout the server did not report ready;
    a rollout that was already complete and did not change needs no wait. Each entry is
    ``{apiVersion, kind, namespace, name, changed, rollout}``.
    """
    if not isinstance(result, dict) or result.get("skipped"):
        return []
    return [dict((key, obj.get(key)) for key in ("apiVersion", "kind", "namespace", "name", "changed", "rollout"))
            for obj in result.get("objects", [])
            if obj.get("kind") in ROLLOUT_KINDS and (obj.get("changed") or obj.get("rollout") != "ready")]


def secret_data(secrets, names=None):
    """Stored Secrets by name, each a mapping of key to decoded value: ``{name: {key: value}}``.

    ``secrets`` is a list of Secret objects (``k8s_info``'s ``resources``, or the rendered Secret
    manifests); ``names`` keeps only those Secrets. A value that is not valid base64 or not UTF-8
    fails, naming the Secret and key (never the value).
    """
    if not isinstance(secrets, (list, tuple)):
        raise AnsibleFilterError("secret_data needs a list of Secret objects")
    try:
        return manifests.decoded_secrets(secrets, names)
    except ValueError as error:
        raise AnsibleFilterError(str(error))


def spec_hash_name(obj, length=8):
    """``obj`` with ``-<hash>`` appended to its name: the first ``length`` hex digits of the SHA-256
    of its ``spec`` as sorted JSON. For Jobs, whose pod template cannot change: a changed Job must be
    a new Job, an unchanged one keeps its name (and a second run changes nothing). A list of objects
    gets each named so."""
    if isinstance(obj, (list, tuple)):
        return [spec_hash_name(item, length) for item in obj]
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict) or not obj["metadata"].get("name") or "spec" not in obj:
        raise AnsibleFilterError("spec_hash_name needs a Kubernetes object with metadata.name and spec")
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 64:
        raise AnsibleFilterError("spec_hash_name: length must be a whole number from 1 to 64, got %r" % (length,))
    digest = hashlib.sha256(json.dumps(obj["spec"], sort_keys=True).encode("utf-8")).hexdigest()
    named = dict(obj, metadata=dict(obj["metadata"], name="%s-%s" % (obj["metadata"]["name"], digest[:length])))
    return named


def run_steps(names, run_tags=("all",), skip_tags=()):
    """The variables among ``names`` (``<step>_run_objects``, ``<step>_run_secrets``) whose step the
    run's tags select, in their order.

    A component role whose objects are data has no task for ``--tags`` to skip, so the sink decides
    for it, the way Ansible decides for a task tagged with the step's name (site.yml tags every step
    with its role's name): selected when ``--tags`` is empty (``all``), ``tagged`` or names the step,
    and ``--skip-tags`` names neither ``all``, ``tagged`` nor the step.
    """
    run_tags, skip_tags = set(run_tags or ("all",)), set(skip_tags or ())
    selected = []
    for name in names:
        if not isinstance(name, str) or "_run_" not in name:
            raise AnsibleFilterError("run_steps: %r is not a <step>_run_objects or <step>_run_secrets variable name" % (name,))
        step = name.rsplit("_run_", 1)[0]
        if run_tags & {"all", "tagged", step} and not skip_tags & {"all", "tagged", step}:
            selected.append(name)
    return selected


class FilterModule(object):
    """Filters of the sink and verify roles."""

    def filters(self):
        return {
            "k8s_checked_objects": k8s_checked_objects,
            "k8s_object_problems": k8s_object_problems,
            "k8s_rollout_waits": k8s_rollout_waits,
            "run_steps": run_steps,
            "secret_data": secret_data,
            "sink_report": sink_report,
            "spec_hash_name": spec_hash_name,
        }
