# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the playbook and check the rendered Kubernetes manifests with real tools.

What it uses
    * ``ansible-playbook`` from the checkout's ``.venv`` (the real playbook and roles, render mode).
    * ``kubernetes-validate`` (its Python API, the same code as the CLI) with ``strict=True``
      against the official schemas of Kubernetes 1.30 and of the newest version the installed
      package ships (found from its ``kubernetes-json-schema/v<version>-local-strict`` folders).
    * ``checkov`` from ``.venv-checkov`` (kept apart: its pins conflict with ansible-lint's),
      offline (``--skip-download``), with the skipped checks read from ONE file,
      ``tests/checkov-skips.yaml``, where every skip has a reason.

Used by the pytest suites (tests/functional/test_render.py) and by the Molecule scenario's
verify step, through the command line::

    python -m tests.support.manifests DIR [DIR ...]    # exit status 1 and a report on any problem
"""

import glob
import json
import os
import re
import stat
import subprocess
import sys
import base64

import yaml

from tests.support import playbook as playbook_runner

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Names callers (bench/, the Molecule helpers) use from this module.
VENV_BIN = playbook_runner.VENV_BIN
PlaybookRun = playbook_runner.PlaybookRun
CHECKOV = os.path.join(REPOSITORY_ROOT, ".venv-checkov", "bin", "checkov")
CHECKOV_SKIPS = os.path.join(REPOSITORY_ROOT, "tests", "checkov-skips.yaml")
INVENTORIES = ("local", "azure", "aws", "gcp")
# The oldest Kubernetes version the manifests must be valid for.
MINIMUM_KUBERNETES_VERSION = "1.30"
# Files of the render folder that are not Kubernetes objects.
NOT_MANIFESTS = ("kustomization.yaml",)


def run_playbook(inventory, render_dir, playbook="site.yml", extra_args=(), check=False, env=None, extra_vars=None):
    """Run a playbook of the checkout on ``inventories/<inventory>`` in render mode into ``render_dir``
    (through :func:`tests.support.playbook.run_playbook`); returns its :class:`PlaybookRun`.

    Inventories that provision cloud resources render without credentials with their no-cloud
    overrides (tests/functional/vars/no_cloud_<inventory>.yml); ``extra_vars`` (a dict) and then
    ``-e`` arguments in ``extra_args`` still win over them."""
    sources = [{"sink_render_dir": os.fspath(render_dir)}]
    no_cloud = os.path.join(REPOSITORY_ROOT, "tests", "functional", "vars", "no_cloud_%s.yml" % inventory)
    if os.path.exists(no_cloud):
        sources.append(no_cloud)
    if extra_vars:
        sources.append(extra_vars)
    return playbook_runner.run_playbook(playbook, inventory=os.path.join("inventories", inventory), extra_vars=sources,
                                        args=(["--check"] if check else []) + list(extra_args), env=env)


def manifest_files(render_dir):
    """Every rendered manifest file (one object each), sorted; the kustomization is not one."""
    files = glob.glob(os.path.join(render_dir, "*", "*.yaml"))
    return sorted(path for path in files if os.path.basename(path) not in NOT_MANIFESTS)


def load_manifests(render_dir):
    """``[(path, object)]`` for every rendered manifest."""
    objects = []
    for path in manifest_files(render_dir):
        with open(path) as stream:
            documents = [document for document in yaml.safe_load_all(stream) if document is not None]
        for document in documents:
            objects.append((path, document))
    return objects


def schema_versions():
    """Kubernetes versions whose strict schemas the installed kubernetes-validate ships, oldest first."""
    import kubernetes_validate  # pylint: disable=import-outside-toplevel

    schema_root = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
    versions = set()
    for name in os.listdir(schema_root):
        match = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", name)
        if match:
            versions.add((int(match.group(1)), int(match.group(2))))
    return ["%d.%d" % version for version in sorted(versions)]


def validation_versions():
    """The versions every manifest must be valid for: the minimum supported one and the newest shipped."""
    versions = schema_versions()
    if MINIMUM_KUBERNETES_VERSION not in versions:
        raise RuntimeError("kubernetes-validate has no strict schema for Kubernetes %s (it has %s)"
                           % (MINIMUM_KUBERNETES_VERSION, ", ".join(versions)))
    return sorted({MINIMUM_KUBERNETES_VERSION, versions[-1]}, key=lambda version: tuple(int(part) for part in version.split(".")))


# Custom resources kubernetes-validate has no schema for: (apiVersion, kind) -> the JSON Schema of
# their CRD's openAPIV3Schema, vendored in tests/fixtures (tests/fixtures/keda/README.md says from where).
CUSTOM_RESOURCE_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): os.path.join(REPOSITORY_ROOT, "tests", "fixtures", "keda", "scaledobject-keda.sh-v1alpha1.json"),
}
# How a vendored CRD schema names ObjectMeta, and where kubernetes-validate's _definitions.json has it.
_OBJECT_META_REFS = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta#": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
}


def strict_crd_schema(node):
    """A CRD schema made strict as kubernetes-validate's ``-strict`` schemas are: every object schema that
    lists its properties and says nothing of others gets ``additionalProperties: false`` (an unknown field
    is an error, as server-side apply's field validation makes it), unless the CRD keeps unknown fields
    (``x-kubernetes-preserve-unknown-fields``). ObjectMeta references point at kubernetes-validate's
    definitions. Returns a new schema; the vendored file stays as published."""
    if isinstance(node, list):
        return [strict_crd_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    strict = {key: (_OBJECT_META_REFS.get(value, value) if key == "$ref" else strict_crd_schema(value)) for key, value in node.items()}
    if "properties" in node and "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        strict["additionalProperties"] = False
    return strict


def _custom_resource_problems(path, document, render_dir, versions):
    import jsonschema  # pylint: disable=import-outside-toplevel
    import kubernetes_validate  # pylint: disable=import-outside-toplevel
    from referencing import Registry, Resource  # pylint: disable=import-outside-toplevel

    with open(CUSTOM_RESOURCE_SCHEMAS[(document.get("apiVersion"), document.get("kind"))], encoding="utf-8") as stream:
        schema = strict_crd_schema(json.load(stream))
    problems = []
    for version in versions:
        # ObjectMeta (metadata) as the Kubernetes version's strict schema has it.
        definitions_path = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema",
                                        "v%s.0-local-strict" % version, "_definitions.json")
        with open(definitions_path, encoding="utf-8") as stream:
            registry = Resource.from_contents(json.load(stream)) @ Registry()
        problems.extend("%s: %s (Kubernetes %s): %s at %s" % (
            os.path.relpath(path, render_dir), document["kind"], version, error.message,
            "/".join(str(part) for part in error.absolute_path) or "top level")
            for error in jsonschema.Draft202012Validator(schema, registry=registry).iter_errors(document))
    return problems


def validate_schemas(render_dir, versions=None):
    """Strict schema validation of every manifest; returns a list of problems (empty: all valid).
    Custom resources of CUSTOM_RESOURCE_SCHEMAS are validated against their CRD's schema instead."""
    from kubernetes_validate import utils  # pylint: disable=import-outside-toplevel

    problems = []
    for path, document in load_manifests(render_dir):
        if (document.get("apiVersion"), document.get("kind")) in CUSTOM_RESOURCE_SCHEMAS:
            problems.extend(_custom_resource_problems(path, document, render_dir, versions or validation_versions()))
            continue
        for version in versions or validation_versions():
            try:
                utils.validate(document, version + ".0", strict=True)
            except utils.ValidationError as error:
                where = "/".join(str(part) for part in error.path)
                problems.append("%s: Kubernetes %s: %s at %s" % (os.path.relpath(path, render_dir), version, error.message, where or "top level"))
            except utils.SchemaNotFoundError as error:
                problems.append("%s: Kubernetes %s: %s" % (os.path.relpath(path, render_dir), version, error.message))
    return problems


def load_checkov_skips(path=CHECKOV_SKIPS):
    """The skipped checkov checks: ``[{id, reason, resources?, environments?}]``.

    ``resources``: regular expressions on checkov's resource ids; ``environments``: the
    environments (inventories) the skip applies to. Both optional: without them a skip is global.
    """
    with open(path) as stream:
        data = yaml.safe_load(stream) or {}
    skips = data.get("skips") or []
    for skip in skips:
        if not re.match(r"^CKV2?_K8S_\d+$", str(skip.get("id", ""))):
            raise ValueError("%s: %r is not a checkov Kubernetes check id" % (path, skip.get("id")))
        if len(str(skip.get("reason", "")).strip()) < 20:
            raise ValueError("%s: %s needs a reason (a sentence, not a word)" % (path, skip["id"]))
    return skips


def environment_of(render_dir):
    """The environment (label airflow-k8s.cloud/environment) the manifests of a render folder belong to."""
    for _path, document in load_manifests(render_dir):
        environment = ((document.get("metadata") or {}).get("labels") or {}).get("airflow-k8s.cloud/environment")
        if environment:
            return environment
    return None


def _skip_matches(skip, failure, environment):
    if skip["id"] != failure["check_id"]:
        return False
    if skip.get("environments") and environment not in skip["environments"]:
        return False
    resources = skip.get("resources")
    return not resources or any(re.search(pattern, failure["resource"]) for pattern in resources)


def run_checkov(render_dir, skips=None):
    """Scan the manifests with checkov; returns ``(problems, used_skip_ids)``.

    Checkov runs without skips of its own, so that the skips file is the only place where a
    check is waived, optionally for a few resources (regular expressions on checkov's
    ``Kind.namespace.name`` resource ids) or a few environments only.
    """
    if not os.access(CHECKOV, os.X_OK):
        raise RuntimeError("checkov is not installed in %s (python3 -m venv .venv-checkov && "
                           ".venv-checkov/bin/pip install checkov)" % os.path.dirname(CHECKOV))
    skips = load_checkov_skips() if skips is None else skips
    env = dict(os.environ)
    env.update({"BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT": "", "LOG_LEVEL": "ERROR"})
    # --file per manifest, not --directory: checkov silently skips folders below a hidden one
    # (Molecule renders into ~/.ansible/tmp/...), which would pass without scanning anything.
    files = manifest_files(render_dir)
    if not files:
        return ["no manifests in %s" % render_dir], set()
    process = subprocess.run([CHECKOV, "--framework", "kubernetes", "--output", "json", "--skip-download", "--compact",
                              "--quiet", "--file"] + files,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    # 0: no failures, 1: failures; anything else, or no JSON, is checkov itself failing.
    if process.returncode not in (0, 1):
        raise RuntimeError("checkov failed (%d): %s" % (process.returncode, process.stderr[-2000:]))
    try:
        report = json.loads(process.stdout)
    except ValueError:
        raise RuntimeError("checkov printed no JSON report: %s %s" % (process.stdout[-1000:], process.stderr[-1000:])) from None
    reports = report if isinstance(report, list) else [report]
    problems, used = [], set()
    scanned = 0
    environment = environment_of(render_dir)
    for part in reports:
        scanned += (part.get("summary") or {}).get("resource_count", 0)
        for failure in (part.get("results") or {}).get("failed_checks", []):
            matching = [skip for skip in skips if _skip_matches(skip, failure, environment)]
            if matching:
                used.update(skip["id"] for skip in matching)
                continue
            problems.append("%s %s (%s): %s" % (
                failure["check_id"], failure["resource"], failure.get("file_path", "?"), failure.get("check_name", "")))
        problems.extend("checkov could not parse %s" % name for name in (part.get("results") or {}).get("parsing_errors", []))
    if scanned == 0 and manifest_files(render_dir):
        problems.append("checkov scanned no resource in %s" % render_dir)
    return problems, used


def check_file_modes(render_dir):
    """Secrets only in ``secret-*.yaml`` files of mode 0600, every folder 0700; returns problems."""
    problems = []
    for folder in [render_dir] + sorted(glob.glob(os.path.join(render_dir, "*", ""))):
        mode = stat.S_IMODE(os.stat(folder).st_mode)
        if mode != 0o700:
            problems.append("folder %s has mode %o, not 700" % (folder, mode))
    for path, document in load_manifests(render_dir):
        is_secret = document.get("kind") == "Secret"
        named_secret = os.path.basename(path).startswith("secret-")
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if is_secret != named_secret:
            problems.append("%s: a Secret must be in a secret-*.yaml file and only a Secret" % path)
        if is_secret and mode != 0o600:
            problems.append("%s holds a Secret but has mode %o, not 600" % (path, mode))
        if is_secret and "stringData" in document:
            problems.append("%s: Secrets must use data, not stringData" % path)
        if mode & 0o022:
            problems.append("%s is writable by group or others (mode %o)" % (path, mode))
    return problems


def secret_values(render_dir, minimum_length=8):
    """Every value stored in a rendered Secret, decoded, with its base64 form: what must never be printed.

    Short values (user names like ``admin``) are left out: they are not secret and would match
    ordinary words in the output.
    """
    values = set()
    for _path, document in load_manifests(render_dir):
        if document.get("kind") != "Secret":
            continue
        for key, encoded in (document.get("data") or {}).items():
            decoded = base64.b64decode(encoded).decode("utf-8")
            if key == "username" or len(decoded) < minimum_length:
                continue
            values.add(decoded)
            values.add(encoded)
            # The parts of a connection URI: its password must not leak either.
            match = re.match(r"^[a-z0-9+]+://[^:/@]+:([^@]+)@", decoded)
            if match:
                values.add(match.group(1))
    return values


def secret_contents(render_dir):
    """``{path: bytes}`` of every rendered Secret file, to compare two runs byte for byte."""
    contents = {}
    for path in sorted(glob.glob(os.path.join(render_dir, "*", "secret-*.yaml"))):
        with open(path, "rb") as stream:
            contents[os.path.relpath(path, render_dir)] = stream.read()
    return contents


def check_render_dir(render_dir, checkov=True):
    """Every check of a render folder; returns a list of problems (empty: all good)."""
    problems = []
    if not manifest_files(render_dir):
        return ["no manifests in %s" % render_dir]
    problems.extend(check_file_modes(render_dir))
    problems.extend(validate_schemas(render_dir))
    if checkov:
        checkov_problems, _used = run_checkov(render_dir)
        problems.extend(checkov_problems)
    return problems


def main(argv=None):
    """Command line: check every render folder given; exit status 1 on any problem."""
    folders = list(argv if argv is not None else sys.argv[1:])
    if not folders:
        sys.stderr.write("usage: python -m tests.support.manifests RENDER_DIR [RENDER_DIR ...]\n")
        return 2
    failed = False
    for folder in folders:
        problems = check_render_dir(folder)
        count = len(manifest_files(folder))
        if problems:
            failed = True
            sys.stdout.write("%s: %d manifests, %d problems\n" % (folder, count, len(problems)))
            sys.stdout.write("".join("  - %s\n" % problem for problem in problems))
        else:
            sys.stdout.write("%s: %d manifests valid for Kubernetes %s (strict), checkov clean, modes 0600/0700\n"
                             % (folder, count, " and ".join(validation_versions())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
