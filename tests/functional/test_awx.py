# Copyright: (c) 2025, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What AWX/Tower needs to run the collection: collections, execution environment, surveys.

Real components: ``ansible-builder create`` from the checkout's .venv (offline: an unreachable
proxy is set, so any network access would fail) on ``execution-environment.yml``, and the
introspection script that ansible-builder puts into the build context, run here as ansible-builder
runs it inside the image, on the collections of ``collections/requirements.yml`` as the .venv's
``ansible`` package ships them. The azure.azcollection, google.cloud and our own module sources
are parsed (``ast``) to know which Python distributions they import. The surveys in
``awx/surveys/`` are validated with ``jsonschema`` against ``awx_survey_schema.json`` (AWX's
survey format) and against the roles' ``meta/argument_specs.yml`` and the inventories.
No AWX, container engine or network is involved.
"""

import ast
import glob
import json
import os
import re
import subprocess
import sys

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.support.collection import REPO_ROOT, tool
from tests.support.manifests import INVENTORIES

COLLECTIONS_ROOT = os.path.join(REPO_ROOT, ".venv", "lib")
SURVEY_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "awx_survey_schema.json")
# Clouds and the words that mark a variable as belonging to one of them.
CLOUD_WORDS = {"azure": ("azure",), "aws": ("aws",), "gcp": ("gcp", "filestore"), "local": ("local",)}
SECRET_NAME = re.compile(r"(password|secret|token|fernet_key|account_key|connection)$")
# Imports provided by ansible-core itself (and so by every execution environment).
PROVIDED_BY_ANSIBLE_CORE = {"ansible", "yaml", "jinja2", "packaging", "ansible_collections"}
# Import name -> distribution, where they differ.
DISTRIBUTION_OF_IMPORT = {"google.auth": "google-auth", "google.oauth2": "google-auth", "msgraph": "msgraph-sdk",
                          "azure.cli.core": "azure-cli-core"}
# Imports satisfied by another distribution's own dependencies (msgraph-sdk pulls these).
TRANSITIVE = {"kiota_authentication_azure", "msgraph_core"}


def _load_yaml(path):
    with open(os.path.join(REPO_ROOT, path), encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def _installed_collections():
    """``{fqcn: path}`` of the collections the .venv's ansible package ships."""
    found = {}
    for manifest in glob.glob(os.path.join(COLLECTIONS_ROOT, "python3*", "site-packages", "ansible_collections", "*", "*",
                                           "MANIFEST.json")):
        path = os.path.dirname(manifest)
        namespace, name = path.split(os.sep)[-2:]
        found["%s.%s" % (namespace, name)] = path
    return found


def _collection_version(path):
    with open(os.path.join(path, "MANIFEST.json"), encoding="utf-8") as stream:
        return json.load(stream)["collection_info"]["version"]


def _used_collections():
    """Every collection whose modules, lookups or filters the roles and playbooks name (FQCN)."""
    used = set()
    files = glob.glob(os.path.join(REPO_ROOT, "roles", "**", "*.yml"), recursive=True)
    files += glob.glob(os.path.join(REPO_ROOT, "playbooks", "**", "*.yml"), recursive=True)
    files.append(os.path.join(REPO_ROOT, "site.yml"))
    pattern = re.compile(r"\b([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\b")
    installed = _installed_collections()
    for path in files:
        with open(path, encoding="utf-8") as stream:
            for match in pattern.finditer(stream.read()):
                fqcn = "%s.%s" % match.groups()
                if fqcn in installed:
                    used.add(fqcn)
    return used - {"ansible.builtin", "airflow_k8s.cloud"}


def _requirements_collections():
    return {entry["name"]: entry["version"] for entry in _load_yaml("collections/requirements.yml")["collections"]}


def _specifier(galaxy_range):
    return SpecifierSet(",".join(part.strip() for part in galaxy_range.split(",")))


# ------------------------------------------------------------------ collections/requirements.yml

def test_collections_requirements_list_every_collection_the_roles_call():
    listed = _requirements_collections()
    used = _used_collections()
    assert used, "found no collection FQCN in the roles: the scan is broken"
    assert sorted(used - set(listed)) == [], "collections/requirements.yml lacks collections the roles call"
    assert sorted(set(listed) - used) == [], "collections/requirements.yml lists collections nothing calls"


def test_collections_requirements_ranges_hold_the_tested_versions():
    installed = _installed_collections()
    for name, version_range in _requirements_collections().items():
        version = _collection_version(installed[name])
        assert _specifier(version_range).contains(version, prereleases=True), (
            "%s %s (what the tests run with) is outside %s" % (name, version, version_range))


def test_galaxy_dependencies_match_collections_requirements():
    """galaxy.yml declares the same collections, with the same ranges, as collections/requirements.yml."""
    dependencies = _load_yaml("galaxy.yml").get("dependencies") or {}
    listed = _requirements_collections()
    assert dependencies == listed, (
        "galaxy.yml dependencies %s differ from collections/requirements.yml %s" % (dependencies, listed))


# ------------------------------------------------------------------ execution environment

@pytest.fixture(scope="module")
def build_context(tmp_path_factory):
    """``ansible-builder create`` on execution-environment.yml, offline; the context folder."""
    context = str(tmp_path_factory.mktemp("ee") / "context")
    env = dict(os.environ, HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", NO_PROXY="", no_proxy="")
    process = subprocess.run(
        [tool("ansible-builder"), "create", "--file", "execution-environment.yml", "--context", context,
         "--output-filename", "Containerfile"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert process.returncode == 0, process.stdout
    return context


def _read(path):
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def _requirement_names(lines):
    names = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            names.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return names


def test_ee_definition_is_version_3():
    definition = _load_yaml("execution-environment.yml")
    assert definition["version"] == 3
    assert definition["dependencies"]["galaxy"] == "collections/requirements.yml"
    assert definition["dependencies"]["system"] == "bindep.txt"
    # Nothing may drop what a collection needs (azure_rm_common imports the whole Azure SDK).
    assert "exclude" not in definition["dependencies"]


def test_ee_build_context_has_everything(build_context):
    containerfile = _read(os.path.join(build_context, "Containerfile"))
    definition = _load_yaml("execution-environment.yml")
    build = os.path.join(build_context, "_build")
    assert 'EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"] in containerfile
    assert definition["dependencies"]["ansible_core"]["package_pip"] in containerfile
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "introspect.py introspect --user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    for step in ("gke-gcloud-auth-plugin", "kubelogin"):
        assert step in containerfile, "the exec credential plugin %s is not installed" % step
    # The copied dependency files are the repository's.
    assert yaml.safe_load(_read(os.path.join(build, "requirements.yml"))) == _load_yaml("collections/requirements.yml")
    assert _read(os.path.join(build, "bindep.txt")) == _read(os.path.join(REPO_ROOT, "bindep.txt"))
    assert os.path.isfile(os.path.join(build, "configs", "google-cloud-cli.repo"))
    assert os.access(os.path.join(build, "scripts", "introspect.py"), os.R_OK)


def test_ee_python_requirements_hold_the_runtime_requirements(build_context):
    """Every runtime requirement of requirements.txt, with the same specifier (ansible-core replaces ansible)."""
    ee = _requirement_names(_read(os.path.join(build_context, "_build", "requirements.txt")).splitlines())
    runtime = _requirement_names(_read(os.path.join(REPO_ROOT, "requirements.txt")).splitlines())
    runtime.pop("ansible")
    for name, requirements in runtime.items():
        assert name in ee, "%s (requirements.txt) is not in the execution environment" % name
        assert {str(r.specifier) for r in requirements} <= {str(r.specifier) for r in ee[name]}, name


def _module_imports(path):
    """Top-level module names imported at module level (also inside try blocks) by a Python file."""
    with open(path, encoding="utf-8") as stream:
        tree = ast.parse(stream.read(), path)
    names = set()
    nodes = list(tree.body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.Try):
            nodes.extend(node.body)
            for handler in node.handlers:
                nodes.extend(handler.body)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _distribution(module):
    """The PyPI distribution that provides an import (None: the standard library or ansible-core)."""
    parts = module.split(".")
    if parts[0] in PROVIDED_BY_ANSIBLE_CORE or parts[0] in TRANSITIVE or parts[0] in sys.stdlib_module_names:
        return None
    for prefix, distribution in DISTRIBUTION_OF_IMPORT.items():
        if module == prefix or module.startswith(prefix + "."):
            return distribution
    if parts[0] == "azure" and len(parts) > 2 and parts[1] in ("mgmt", "storage"):
        return "azure-%s-%s" % (parts[1], parts[2])
    if parts[0] == "azure":
        return "azure-" + parts[1]
    return parts[0]


@pytest.fixture(scope="module")
def introspected_requirements(build_context, tmp_path_factory):
    """Run the context's introspect.py as the image build does, on the collections it would install."""
    collections = tmp_path_factory.mktemp("ee-collections")
    installed = _installed_collections()
    for name in _requirements_collections():
        namespace, collection = name.split(".")
        os.makedirs(collections / "ansible_collections" / namespace, exist_ok=True)
        os.symlink(installed[name], collections / "ansible_collections" / namespace / collection)
    build = os.path.join(build_context, "_build")
    merged = collections / "requirements.txt"
    process = subprocess.run(
        [tool("python"), os.path.join(build, "scripts", "introspect.py"), "introspect",
         "--user-pip", os.path.join(build, "requirements.txt"), "--user-bindep", os.path.join(build, "bindep.txt"),
         "--write-pip", str(merged), str(collections)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert process.returncode == 0, process.stdout
    return _requirement_names(_read(str(merged)).splitlines())


def _called_modules(collection):
    pattern = re.compile(r"\b%s\.([a-z0-9_]+):" % re.escape(collection))
    modules = set()
    for path in glob.glob(os.path.join(REPO_ROOT, "roles", "*", "tasks", "*.yml")):
        modules.update(pattern.findall(_read(path)))
    return modules


def test_ee_has_what_the_azure_modules_import(introspected_requirements):
    """The called azure.azcollection modules and the module_utils they load: every import is installed."""
    root = _installed_collections()["azure.azcollection"]
    modules = _called_modules("azure.azcollection")
    assert modules, "found no azure.azcollection module in roles/*/tasks"
    files = {os.path.join(root, "plugins", "modules", module + ".py") for module in modules}
    for path in list(files):
        for utility in re.findall(r"azure\.azcollection\.plugins\.module_utils\.([a-z0-9_]+)", _read(path)):
            files.add(os.path.join(root, "plugins", "module_utils", utility + ".py"))
    assert os.path.join(root, "plugins", "module_utils", "azure_rm_common.py") in files
    needed = {_distribution(name) for path in files for name in _module_imports(path)} - {None}
    assert "azure-mgmt-postgresqlflexibleservers" in needed  # the scan found the SDK imports
    missing = sorted(canonicalize_name(name) for name in needed if canonicalize_name(name) not in introspected_requirements)
    assert missing == [], "the execution environment would not install %s" % missing
    # The packages the called modules import directly are also named in execution-environment.yml.
    direct = {_distribution(name) for module in modules for name in
              _module_imports(os.path.join(root, "plugins", "modules", module + ".py"))} - {None}
    explicit = _requirement_names(_load_yaml("execution-environment.yml")["dependencies"]["python"])
    assert sorted(canonicalize_name(name) for name in direct if canonicalize_name(name) not in explicit) == []


def test_ee_has_what_our_plugins_and_google_cloud_import(introspected_requirements):
    files = glob.glob(os.path.join(REPO_ROOT, "plugins", "mod*", "*.py"))
    google = _installed_collections()["google.cloud"]
    files += [os.path.join(google, "plugins", "modules", module + ".py") for module in _called_modules("google.cloud")]
    files.append(os.path.join(google, "plugins", "module_utils", "gcp_utils.py"))
    needed = {_distribution(name) for path in files for name in _module_imports(path)} - {None}
    assert {"boto3", "botocore", "cryptography", "google-auth", "requests"} <= needed
    missing = sorted(name for name in needed if canonicalize_name(name) not in introspected_requirements)
    assert missing == [], "the execution environment would not install %s" % missing
    for name in ("kubernetes", "jsonpatch", "awscli"):
        assert name in introspected_requirements


# ------------------------------------------------------------------ surveys

def _argument_specs():
    """``{variable: option spec}`` of every role entry point."""
    options = {}
    for path in glob.glob(os.path.join(REPO_ROOT, "roles", "*", "meta", "argument_specs.yml")):
        with open(path, encoding="utf-8") as stream:
            for entry in (yaml.safe_load(stream).get("argument_specs") or {}).values():
                options.update(entry.get("options") or {})
    return options


def _inventory_variables(cloud):
    values = {}
    for path in sorted(glob.glob(os.path.join(REPO_ROOT, "inventories", cloud, "group_vars", "all", "*.yml"))):
        values.update(_load_yaml(path) or {})
    return values


def _survey(cloud):
    with open(os.path.join(REPO_ROOT, "awx", "surveys", cloud + ".json"), encoding="utf-8") as stream:
        return json.load(stream)


@pytest.mark.parametrize("cloud", INVENTORIES)
def test_survey_follows_awx_survey_format(cloud):
    with open(SURVEY_SCHEMA, encoding="utf-8") as stream:
        schema = json.load(stream)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(_survey(cloud))
    # What AWX's survey view checks beyond the schema.
    questions = _survey(cloud)["spec"]
    variables = [question["variable"] for question in questions]
    assert len(variables) == len(set(variables)), "duplicate survey variables"
    for question in questions:
        default = question.get("default", "")
        if isinstance(default, str):
            assert not default.startswith("$encrypted$"), question["variable"]
        if question["type"] in ("multiplechoice", "multiselect") and default != "":
            choices = question["choices"] if isinstance(question["choices"], list) else question["choices"].splitlines()
            defaults = default.splitlines()
            assert set(defaults) <= set(choices), question["variable"]
            assert question["type"] == "multiselect" or len(defaults) == 1, question["variable"]
        if question["type"] in ("integer", "float") and default != "":
            assert question.get("min", default) <= default <= question.get("max", default), question["variable"]
        if question["type"] in ("text", "textarea") and default != "":
            assert question.get("min", 0) <= len(default) <= question.get("max", len(default)), question["variable"]


def test_survey_schema_rejects_what_awx_rejects():
    """The schema is not a blank check: each of these is refused by AWX and must fail validation."""
    with open(SURVEY_SCHEMA, encoding="utf-8") as stream:
        validator = jsonschema.Draft202012Validator(json.load(stream))
    good = {"name": "n", "description": "d", "spec": [
        {"question_name": "q", "variable": "v", "type": "integer", "required": True, "default": 3, "min": 1, "max": 5}]}
    assert validator.is_valid(good)
    broken = [
        {"name": "n", "description": "d", "spec": []},
        {"name": "n", "spec": good["spec"]},
        {"name": "n", "description": "d", "spec": [dict(good["spec"][0], type="boolean")]},
        {"name": "n", "description": "d", "spec": [dict(good["spec"][0], required="yes")]},
        {"name": "n", "description": "d", "spec": [dict(good["spec"][0], default="3")]},
        {"name": "n", "description": "d", "spec": [dict(good["spec"][0], min="1")]},
        {"name": "n", "description": "d", "spec": [dict(good["spec"][0], type="multiplechoice", default="a")]},
        {"name": "n", "description": "d", "spec": [{key: value for key, value in good["spec"][0].items() if key != "variable"}]},
    ]
    for survey in broken:
        assert not validator.is_valid(survey), survey


@pytest.mark.parametrize("cloud", INVENTORIES)
def test_survey_variables_are_those_of_the_roles_and_inventory(cloud):
    """Every survey variable exists (a renamed variable breaks this), fits its spec, and keeps the inventory's value."""
    options = _argument_specs()
    inventory = _inventory_variables(cloud)
    other_words = {word for other, words in CLOUD_WORDS.items() if other != cloud for word in words}
    for question in _survey(cloud)["spec"]:
        variable = question["variable"]
        assert variable in options or variable in inventory, (
            "%s: survey variable %s is neither a role option (meta/argument_specs.yml) nor set in inventories/%s"
            % (cloud, variable, cloud))
        assert not set(variable.split("_")) & other_words, "%s: %s belongs to another cloud" % (cloud, variable)
        spec = options.get(variable, {})
        if spec.get("choices") and question["type"] == "multiplechoice":
            assert set(question["choices"]) <= set(spec["choices"]), variable
        if spec.get("type") == "int":
            assert question["type"] == "integer", variable
        if question["type"] == "integer":
            assert spec.get("type", "int") == "int", variable
        secret = spec.get("no_log") or SECRET_NAME.search(variable)
        assert (question["type"] == "password") == bool(secret), (
            "%s: %s must be a password question exactly when it is a secret" % (cloud, variable))
        if question["type"] == "password":
            assert question.get("default", "") == "", "%s: a password question must not carry a default" % variable
        elif variable in inventory:
            # An answer is an extra var and beats the inventory: the default must not silently change it.
            assert question["default"] == inventory[variable], (
                "%s: the default of %s (%r) differs from inventories/%s (%r)"
                % (cloud, variable, question["default"], cloud, inventory[variable]))
