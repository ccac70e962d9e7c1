# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the sink knows about Kubernetes objects, shared by its modules and filters.

One place for: the checks an object must pass before anything is written, the common labels,
the order a cluster accepts objects in, the manifest path of render mode, the stable YAML text
of a manifest, the rollout state a server's answer shows, and the checksum annotations that roll
a workload's pods when a ConfigMap or Secret they read changes. Used by the render_manifests
and k8s_apply modules (on the controller), render_manifests' action plugin (through
module_utils/render.py) and the manifests filter plugin.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import binascii
import copy
import hashlib
import json

try:
    import yaml
    try:  # libyaml's loader and emitter where PyYAML has them: several times faster, the same text
        from yaml import CSafeLoader as SafeLoader, CSafeDumper as SafeDumper
    except ImportError:  # pragma: no cover - PyYAML without libyaml
        from yaml import SafeLoader, SafeDumper
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

#: The options of the objects of a run, as the sink's modules take them (doc fragment run_objects).
RUN_OBJECTS_ARGUMENT_SPEC = dict(
    objects=dict(type="dict", required=True),
    secrets=dict(type="str", default="{}", no_log=True),
    labels=dict(type="dict", default={}),
)

#: What a diff shows of a Secret's content.
SECRET_HIDDEN = "(Secret content hidden)\n"

#: Kinds applied before everything else, in this order: what other objects live in or refer to.
#: Secrets come right after the Namespace, before the workloads that read them.
FIRST_KINDS = (
    "Namespace", "CustomResourceDefinition", "PriorityClass", "StorageClass", "PersistentVolume",
    "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "Secret", "ConfigMap", "Role", "RoleBinding",
    "PersistentVolumeClaim", "Service",
)
#: Kinds applied last: they start pods, which need everything above.
LAST_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")

#: Where each pod-bearing kind keeps its pod template.
POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
#: The kinds whose pod template gets checksum annotations. Not Jobs: a Job's pod template is
#: immutable, so a new checksum under the same name would be refused (422); the collection's Jobs
#: are named after a hash of their spec instead, and a Job's pod reads the values when it starts.
#: A CronJob's template may change: its next Jobs carry the new checksums.
CHECKSUM_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob")
#: Prefix of the checksum annotations: ``checksum.airflow-k8s.cloud/secret-<name>``.
CHECKSUM_ANNOTATION_PREFIX = "checksum.airflow-k8s.cloud/"
#: What a checksum covers: every field of a ConfigMap's or Secret's content.
CHECKSUM_FIELDS = ("data", "stringData", "binaryData")
#: Longest name part of an annotation key (after the prefix and its slash).
ANNOTATION_NAME_MAX = 63


def object_problems(objects, variable, secrets=None):
    """Messages for objects that cannot be applied or rendered, each naming the object by position.

    ``objects`` is a list of objects, or a mapping of component name to such a list (the run's
    objects as the component roles hand them over); an empty result means every object is usable.
    ``secrets``: None accepts any kind, False refuses Secrets (they belong in the no_log Secrets
    option), True accepts only Secrets.
    """
    if isinstance(objects, dict):
        problems = []
        for component in sorted(objects):
            problems.extend(object_problems(objects[component], "%s.%s" % (variable, component), secrets))
        return problems
    if not isinstance(objects, (list, tuple)):
        return ["%s must be a list of Kubernetes objects" % variable]
    problems = []
    for index, obj in enumerate(objects):
        where = "%s[%d]" % (variable, index)
        if not isinstance(obj, dict):
            problems.append("%s is not a mapping" % where)
            continue
        metadata = obj.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        missing = [field for field, value in (("apiVersion", obj.get("apiVersion")), ("kind", obj.get("kind")),
                                              ("metadata.name", name)) if not value]
        if missing:
            problems.append("%s needs %s" % (where, ", ".join(missing)))
            continue
        if any("/" in str(part) or str(part) in (".", "..") for part in (obj["kind"], name)):
            problems.append("%s: kind and metadata.name must not contain '/'" % where)
        if obj.get("kind") == "Secret" and "stringData" in obj:
            problems.append("%s is a Secret with stringData: use data (base64) so a re-apply is a no-op" % where)
        if secrets is False and obj.get("kind") == "Secret":
            problems.append("%s is a Secret: hand Secrets over apart from the other objects, which are not kept out of logs"
                            % where)
        if secrets is True and obj.get("kind") != "Secret":
            problems.append("%s is not a Secret" % where)
    return problems


class RunObjectsError(ValueError):
    """The objects or Secrets of a run are unusable. The message names objects, never a Secret's value."""


def merge_run_objects(objects, secrets_text, no_log_values, objects_option="objects", secrets_option="secrets"):
    """The objects and Secrets of a run, merged by component; raises :class:`RunObjectsError` on bad input.

    ``secrets_text`` is the JSON text of the ``no_log`` Secrets option. Every value of a Secret's
    ``data`` is added to the set ``no_log_values`` (a module's ``no_log_values``) before any check,
    so it is masked in whatever result reports the failure.
    """
    objects = objects or {}
    try:
        secrets = json.loads(secrets_text or "{}")
    except ValueError:
        secrets = None
    if not isinstance(secrets, dict):
        raise RunObjectsError("%s must be JSON text: a mapping of component to a list of Secrets" % secrets_option)
    # Every Secret value is masked, also that of a Secret given among the objects by mistake (refused below).
    for listed in list(secrets.values()) + list(objects.values()):
        for obj in listed if isinstance(listed, list) else []:
            no_log_values.update(secret_values(obj))
    problems = object_problems(objects, objects_option, secrets=False) + object_problems(secrets, secrets_option, secrets=True)
    if problems:
        raise RunObjectsError("; ".join(problems))
    merged = dict((component, list(listed)) for component, listed in objects.items())
    for component, listed in secrets.items():
        merged.setdefault(component, []).extend(listed)
    return merged


def run_objects(module, objects_option="objects", secrets_option="secrets"):
    """The objects and Secrets a sink module was given, merged by component; fails on bad input.

    Secrets come as JSON text in a ``no_log`` option: Ansible then keeps them out of the module's
    log entry (the syslog line every module writes with its arguments) and out of its output,
    without masking every name and kind they contain, as a structured ``no_log`` option would.
    Every value of their ``data`` is registered as a ``no_log`` value too, so it is masked wherever
    else it could show. ``objects`` may not hold Secrets, so none is logged by mistake.
    """
    try:
        return merge_run_objects(module.params[objects_option], module.params[secrets_option], module.no_log_values,
                                 objects_option, secrets_option)
    except RunObjectsError as error:
        module.fail_json(msg=str(error))


def with_labels(obj, labels):
    """A copy of ``obj`` with ``labels`` merged into metadata.labels (``labels`` win on conflict)."""
    labelled = copy.deepcopy(obj)
    if labels:
        metadata = labelled.setdefault("metadata", {})
        merged = dict(metadata.get("labels") or {})
        merged.update(labels)
        metadata["labels"] = merged
    return labelled


def kind_rank(obj):
    """Sort key: the position of the object's kind in the order a cluster accepts them."""
    kind = obj.get("kind")
    if kind in FIRST_KINDS:
        return FIRST_KINDS.index(kind)
    if kind in LAST_KINDS:
        return len(FIRST_KINDS) + 1 + LAST_KINDS.index(kind)
    return len(FIRST_KINDS)


def identity(obj):
    """``Kind namespace/name`` (``Kind name`` for cluster-scoped objects): how reports name an object."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    return "%s %s%s" % (obj.get("kind"), (namespace + "/") if namespace else "", metadata.get("name"))


def manifest_path(obj, component, with_namespace=False):
    """Relative path of an object's manifest in render mode: ``<component>/<kind>-<name>.yaml``.

    Secrets are named ``secret-<name>.yaml``, so they are recognisable and kept at mode 0600.
    ``with_namespace`` gives ``<component>/<kind>-<namespace>-<name>.yaml``, for objects of one
    kind and name in several namespaces (RoleBindings in multi-namespace mode).
    """
    namespace = (obj["metadata"].get("namespace") or "") if with_namespace else ""
    return "%s/%s-%s%s.yaml" % (component, obj["kind"].lower(), (namespace + "-") if namespace else "", obj["metadata"]["name"])


def manifest_paths(objects):
    """``[(component, object, path)]`` for a run's objects by component; objects that would share a
    path (same kind and name, other namespaces) get the namespace in their file name."""
    entries = [(component, obj, manifest_path(obj, component)) for component in sorted(objects) for obj in objects[component]]
    seen = {}
    for _component, _obj, path in entries:
        seen[path] = seen.get(path, 0) + 1
    return [(component, obj, manifest_path(obj, component, with_namespace=True) if seen[path] > 1 else path)
            for component, obj, path in entries]


def secret_values(obj):
    """The values of a Secret's ``data`` (base64 text): what a module must never print."""
    if not isinstance(obj, dict) or obj.get("kind") != "Secret":
        return set()
    return set(str(value) for value in (obj.get("data") or {}).values() if value)


def decoded_secrets(secrets, names=None):
    """``{name: {key: decoded value}}`` of the Secret objects in ``secrets`` (others are skipped), only
    those named in ``names`` if given. Raises ValueError, naming the Secret and key (never the value),
    for a value that is not base64-encoded UTF-8 text."""
    stored = {}
    for secret in secrets:
        if not isinstance(secret, dict) or secret.get("kind", "Secret") != "Secret":
            continue
        name = (secret.get("metadata") or {}).get("name")
        if not name or (names is not None and name not in names):
            continue
        values = {}
        for key, encoded in (secret.get("data") or {}).items():
            try:
                values[key] = base64.b64decode(encoded if isinstance(encoded, (str, bytes)) else str(encoded), validate=True).decode("utf-8", "strict")
            except (binascii.Error, TypeError, ValueError, UnicodeError):
                raise ValueError("Secret %s, key %s: the stored value is not base64-encoded UTF-8 text" % (name, key))
        stored[name] = values
    return stored


def pod_template(obj):
    """The pod template (a mapping) of a Deployment, StatefulSet, DaemonSet, Job or CronJob; None otherwise."""
    path = POD_TEMPLATE_PATHS.get(obj.get("kind")) if isinstance(obj, dict) else None
    template = obj
    for field in path or ():
        template = template.get(field) if isinstance(template, dict) else None
    return template if path and isinstance(template, dict) else None


def pod_references(pod_spec):
    """``[(kind, name)]`` of the ConfigMaps and Secrets a pod spec reads, sorted, each once.

    Read: ``env[].valueFrom.secretKeyRef``/``configMapKeyRef`` and ``envFrom[].secretRef``/
    ``configMapRef`` of its containers and init containers, and its ``secret``, ``configMap`` and
    ``projected`` volumes. A pod reads these only from its own namespace.
    """
    found = set()

    def add(kind, reference, field="name"):
        if isinstance(reference, dict) and reference.get(field):
            found.add((kind, str(reference[field])))

    pod_spec = pod_spec if isinstance(pod_spec, dict) else {}
    for container in (pod_spec.get("initContainers") or []) + (pod_spec.get("containers") or []):
        if not isinstance(container, dict):
            continue
        for variable in container.get("env") or []:
            source = (variable.get("valueFrom") if isinstance(variable, dict) else None) or {}
            add("Secret", source.get("secretKeyRef"))
            add("ConfigMap", source.get("configMapKeyRef"))
        for source in container.get("envFrom") or []:
            if isinstance(source, dict):
                add("Secret", source.get("secretRef"))
                add("ConfigMap", source.get("configMapRef"))
    for volume in pod_spec.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        add("Secret", volume.get("secret"), field="secretName")
        add("ConfigMap", volume.get("configMap"))
        projected = volume.get("projected") if isinstance(volume.get("projected"), dict) else {}
        for source in projected.get("sources") or []:
            if isinstance(source, dict):
                add("Secret", source.get("secret"))
                add("ConfigMap", source.get("configMap"))
    return sorted(found)


def content_checksum(obj):
    """SHA-256 of a ConfigMap's or Secret's content (data, stringData, binaryData; canonical JSON).

    A Secret's values go in, only the digest comes out; the same content gives the same digest
    whether it comes from the run, a rendered file or the server.
    """
    content = dict((field, (obj or {}).get(field) or {}) for field in CHECKSUM_FIELDS)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checksum_annotation(kind, name):
    """``checksum.airflow-k8s.cloud/<kind>-<name>`` (kind in lower case), a valid annotation key.

    The name part of a key may have 63 characters; a longer one keeps its start and ends with a
    hash of the whole object name, so it stays unique and valid.
    """
    key = "%s-%s" % (kind.lower(), name)
    if len(key) > ANNOTATION_NAME_MAX:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
        key = "%s-%s" % (key[:ANNOTATION_NAME_MAX - len(digest) - 1].rstrip("-."), digest)
    return CHECKSUM_ANNOTATION_PREFIX + key


def content_index(objects):
    """``{(kind, namespace, name): object}`` of the ConfigMaps and Secrets among a run's objects by component."""
    index = {}
    for component in sorted(objects):
        for obj in objects[component]:
            if isinstance(obj, dict) and obj.get("kind") in ("ConfigMap", "Secret"):
                metadata = obj.get("metadata") or {}
                index[(obj["kind"], metadata.get("namespace") or "", metadata.get("name"))] = obj
    return index


def with_checksums(objects, read=None):
    """A run's objects by component, each workload's pod template annotated with the checksums of
    the ConfigMaps and Secrets it reads (``checksum.airflow-k8s.cloud/secret-<name>: <sha256>``).

    Kinds: those of :data:`CHECKSUM_KINDS` (not Jobs, whose pod template is immutable). A referenced
    object is taken from the run's own objects first; otherwise from ``read(kind, namespace, name)``
    (the server's copy in apply mode, a rendered file in render mode), called at most once per
    object, which returns the object or None. An object found nowhere gets no annotation (a pod
    that needs it cannot start anyway; an optional one is simply absent). Objects that change are
    copies; the others are returned as they are. Nothing but digests is added.
    """
    index = content_index(objects)
    read_before = {}

    def content(kind, namespace, name):
        key = (kind, namespace, name)
        if key not in index and key not in read_before:
            read_before[key] = read(kind, namespace, name) if read else None
        return index.get(key, read_before.get(key))

    annotated = {}
    for component in objects:
        annotated[component] = []
        for obj in objects[component]:
            template = pod_template(obj) if obj.get("kind") in CHECKSUM_KINDS else None
            namespace = ((obj.get("metadata") or {}).get("namespace") or "") if template is not None else ""
            checksums = {}
            for kind, name in pod_references((template or {}).get("spec")):
                found = content(kind, namespace, name)
                if found is not None:
                    checksums[checksum_annotation(kind, name)] = content_checksum(found)
            if checksums:
                obj = copy.deepcopy(obj)
                template = pod_template(obj)
                metadata = template["metadata"] = template.get("metadata") or {}
                annotations = metadata["annotations"] = dict(metadata.get("annotations") or {})
                annotations.update(checksums)
            annotated[component].append(obj)
    return annotated


if HAS_YAML:
    class ManifestDumper(SafeDumper):  # pylint: disable=too-many-ancestors
        """Safe dumper that writes multi-line strings (airflow.cfg, pod templates) as literal blocks
        (libyaml's emitter where PyYAML has it: the same text as PyYAML's own, about five times faster)."""

    def _represent_str(dumper, data):
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    ManifestDumper.add_representer(str, _represent_str)


def load_yaml(stream):
    """The one YAML document of a file or text (safe loader)."""
    return yaml.load(stream, Loader=SafeLoader)


def load_yaml_documents(text):
    """Every non-empty YAML document of a text (safe loader), as rendered templates produce them."""
    return [document for document in yaml.load_all(text, Loader=SafeLoader) if document is not None]


def to_yaml(obj, document_start=True):
    """Stable YAML text of an object: sorted keys, literal blocks for multi-line strings."""
    text = yaml.dump(obj, Dumper=ManifestDumper, default_flow_style=False, sort_keys=True, allow_unicode=True, width=100)
    return ("---\n" + text) if document_start else text


def rollout_state(obj):
    """What a server's copy of a workload or Job says about its rollout.

    Returns ``ready`` for a Deployment, StatefulSet or DaemonSet whose current generation is
    observed and fully updated and available, and for a complete Job; ``failed`` for a failed Job;
    ``pending`` otherwise; ``None`` for other kinds. The same conditions kubernetes.core's
    waiters check, read from one answer instead of polled.
    """
    kind = obj.get("kind")
    status = obj.get("status") or {}
    if kind == "Job":
        conditions = dict((condition.get("type"), condition.get("status")) for condition in status.get("conditions") or [])
        if conditions.get("Complete") == "True":
            return "ready"
        if conditions.get("Failed") == "True":
            return "failed"
        return "pending"
    if kind not in WORKLOAD_KINDS:
        return None
    metadata = obj.get("metadata") or {}
    if status.get("observedGeneration", 0) < metadata.get("generation", 0):
        return "pending"
    if kind == "DaemonSet":
        wanted = status.get("desiredNumberScheduled", 0)
        ready = (status.get("updatedNumberScheduled", 0) == wanted and status.get("numberReady", 0) == wanted
                 and status.get("numberAvailable", 0) == wanted)
    else:
        wanted = (obj.get("spec") or {}).get("replicas", 1)
        ready = (status.get("updatedReplicas", 0) == wanted and status.get("readyReplicas", 0) == wanted
                 and (kind == "StatefulSet" or status.get("availableReplicas", 0) == wanted)
                 and status.get("replicas", 0) == wanted)
    return "ready" if ready else "pending"


def wait_groups(waits):
    """``waits`` (``[{apiVersion, kind, namespace, name}]``) grouped for one list call each: one group per
    apiVersion, kind and namespace, ``{apiVersion, kind, namespace, names}``, in first-seen order.
    Raises ValueError for an entry without kind or name."""
    groups = []
    for wait in waits:
        if not isinstance(wait, dict) or not wait.get("kind") or not wait.get("name"):
            raise ValueError("each object to wait for needs kind and name, got %r" % (wait,))
        key = dict(apiVersion=wait.get("apiVersion") or "v1", kind=wait["kind"], namespace=wait.get("namespace") or "")
        group = next((group for group in groups if all(group[name] == value for name, value in key.items())), None)
        if group is None:
            group = dict(key, names=[])
            groups.append(group)
        if wait["name"] not in group["names"]:
            group["names"].append(wait["name"])
    return groups


def group_states(resources, group):
    """``{name: ready|failed|pending}`` for the names of ``group`` (one of :func:`wait_groups`) in
    ``resources`` (the answer of a list call of that kind and namespace); a name the answer lacks is
    ``pending``. Items of a list answer carry no kind of their own: they are of the group's kind."""
    states = dict(((obj.get("metadata") or {}).get("name"), rollout_state(dict(obj, kind=group["kind"])))
                  for obj in resources or [] if isinstance(obj, dict) and obj.get("kind", group["kind"]) == group["kind"])
    return dict((name, states.get(name) or "pending") for name in group["names"])


def failure_message(job):
    """The message of a Job's Failed condition ('' if it has none)."""
    return " ".join(condition.get("message") or "" for condition in (job.get("status") or {}).get("conditions") or []
                    if condition.get("type") == "Failed").strip()


# Retiring objects (apply mode): what an earlier full run applied and this one no longer describes
# (a component switched off: Celery, PgBouncer, Flower, an autoscaler) is deleted, but only when it
# still carries this collection's ownership. The sink keeps the list of what a full run applied in
# one ConfigMap, the record; see docs/DESIGN.md.

#: Kinds never retired: deleting a Namespace deletes everything in it, owned or not; a Job is the
#: record of one run (hash-named), whose clean-up is its role's (the dags role's earlier deliveries).
NEVER_RETIRED_KINDS = ("Namespace", "Job")
#: The annotation (value ``never``) by which an object's role keeps its clean-up to itself.
RETIRE_ANNOTATION = "airflow-k8s.cloud/retire"
#: The record's key holding the applied objects, as JSON.
RECORD_KEY = "objects.json"


def retirable(obj):
    """Whether the sink may ever retire ``obj`` (an object of the run), so whether the record lists it."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return obj.get("kind") not in NEVER_RETIRED_KINDS and annotations.get(RETIRE_ANNOTATION) != "never"


def record_entry(obj):
    """``{apiVersion, kind, namespace, name}`` of an object: what the record keeps of it."""
    metadata = obj.get("metadata") or {}
    return dict(apiVersion=obj.get("apiVersion"), kind=obj.get("kind"), namespace=metadata.get("namespace") or "", name=metadata.get("name"))


def _record_key(entry):
    # The API group, not the version: an object whose apiVersion moved (autoscaling/v2beta2 to v2) is the same object.
    api_version = entry.get("apiVersion") or ""
    return (api_version.rsplit("/", 1)[0] if "/" in api_version else "", entry.get("kind"), entry.get("namespace") or "", entry.get("name"))


def record_config_map(name, namespace, entries, labels):
    """The record: a ConfigMap listing ``entries`` (record_entry of every object a full run applied), sorted."""
    listed = sorted((dict(entry) for entry in entries), key=_record_key)
    return dict(apiVersion="v1", kind="ConfigMap",
                metadata=dict(name=name, namespace=namespace, labels=dict(labels or {})),
                data={RECORD_KEY: json.dumps(listed, sort_keys=True, indent=1) + "\n"})


def read_record(config_map):
    """The entries of a record ConfigMap as the server returned it; [] for none. ValueError when unreadable."""
    if not config_map:
        return []
    try:
        entries = json.loads(((config_map.get("data") or {}).get(RECORD_KEY)) or "[]")
    except ValueError as error:
        raise ValueError("its %s is not JSON: %s" % (RECORD_KEY, error))
    if not isinstance(entries, list) or not all(isinstance(entry, dict) and entry.get("kind") and entry.get("name") for entry in entries):
        raise ValueError("its %s is not a list of objects with kind and name" % RECORD_KEY)
    return entries


def retired_objects(recorded, current):
    """The entries of ``recorded`` that ``current`` (record entries of this run) no longer has, never
    retired kinds excepted, in the order to delete them: workloads first (they stop using the rest), then the others
    in the reverse of the apply order."""
    kept = set(_record_key(entry) for entry in current)
    retired = [dict(entry) for entry in recorded
               if _record_key(entry) not in kept and entry.get("kind") not in NEVER_RETIRED_KINDS]
    return sorted(retired, key=lambda entry: (-kind_rank(entry), entry.get("namespace") or "", entry.get("name")))


def ownership_problem(obj, owner_labels, field_manager):
    """Why the server's copy of an object is not this collection's to delete; None when it is: it carries
    every label of ``owner_labels`` and ``field_manager`` manages some of its fields (server-side apply)."""
    metadata = obj.get("metadata") or {}
    labels = metadata.get("labels") or {}
    missing = sorted(key for key, value in (owner_labels or {}).items() if labels.get(key) != value)
    if missing:
        return "it lacks the label%s %s" % ("" if len(missing) == 1 else "s", ", ".join("%s=%s" % (key, owner_labels[key]) for key in missing))
    managers = set(entry.get("manager") for entry in metadata.get("managedFields") or [] if isinstance(entry, dict))
    if field_manager not in managers:
        return "field manager %s manages none of its fields (managers: %s)" % (field_manager, ", ".join(sorted(str(manager) for manager in managers)) or "none")
    return None
