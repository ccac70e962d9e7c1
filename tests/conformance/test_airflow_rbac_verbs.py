# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler's pod-launcher Role grants exactly the Kubernetes API calls the installed executor makes.

Real components: the apache-airflow-providers-cncf-kubernetes of the real Airflow 3.3 environment
(.venv-airflow). Its source is parsed (Python's ``ast``), starting from the KubernetesExecutor's modules and
following every import into other modules of the provider (the executor's utilities, the kube client
factory, the pod generator, the helper functions ...; ``if TYPE_CHECKING:`` imports excluded). Every call
of the Kubernetes client on pods is mapped to its RBAC resource and verb:

- ``CoreV1Api.<verb>_namespaced_pod[_<subresource>]`` and ``<verb>_pod_for_all_namespaces``: create, read
  (get), list, patch, replace (update), delete, delete_collection (deletecollection); ``_log`` is the
  ``pods/log`` subresource, ``_status`` ``pods/status`` ...;
- a list method handed to a watch stream (``watch.Watch().stream(client.list_namespaced_pod, ...)``): watch;
- the dynamic client's ``get(resource=<the Pod resource>)``: list, or get when it names one pod.

The calls inside the executor's log-reading methods (``get_task_log``, ``get_streaming_task_log``) run in
the api-server, not in the scheduler: they are compared with the api-server's pod-log-reader rules
(``rbac_pod_log_reader_rules``, used when ``rbac_api_server_pod_logs`` is on). Every other call must be
granted by the pod-launcher Role that ``site.yml`` renders for the local inventory, and the Role may grant
nothing else. A provider upgrade that calls a new verb or resource fails this test instead of a scheduler
that gets a 403 after a restart.
"""

import ast
import json
import os
import re
import subprocess

import yaml

from tests.conformance.airflow_harness import AIRFLOW_BIN, REPOSITORY_ROOT

PROVIDER = "airflow.providers.cncf.kubernetes"
EXECUTOR_MODULES = ("airflow.providers.cncf.kubernetes.executors.kubernetes_executor",
                    "airflow.providers.cncf.kubernetes.executors.kubernetes_executor_utils")
# Executor methods the api-server calls to show the log of a running task pod.
API_SERVER_METHODS = ("get_task_log", "get_streaming_task_log")

CLIENT_VERBS = {"create": "create", "read": "get", "list": "list", "patch": "patch", "replace": "update",
                "delete": "delete", "delete_collection": "deletecollection"}
POD_METHOD = re.compile(r"^(create|read|list|patch|replace|delete_collection|delete)_(?:namespaced_pod(?:_(?P<sub>[a-z]+))?"
                        r"|pod_for_all_namespaces)$")


def provider_sources():
    """{module name: file path} of every module of the installed provider."""
    located = subprocess.run(
        [str(AIRFLOW_BIN / "python"), "-c",
         "import json, os, airflow.providers.cncf.kubernetes as p; root = os.path.dirname(p.__file__); "
         "print(json.dumps([os.path.join(d, f) for d, _s, fs in os.walk(root) for f in fs if f.endswith('.py')]))"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True, timeout=120)
    root = None
    modules = {}
    for path in json.loads(located.stdout.strip().splitlines()[-1]):
        if path.endswith(os.path.join("cncf", "kubernetes", "__init__.py")):
            root = os.path.dirname(path)
    assert root, "the provider's package was not found"
    for path in json.loads(located.stdout.strip().splitlines()[-1]):
        relative = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
        name = PROVIDER if relative == "__init__" else PROVIDER + "." + re.sub(r"\.__init__$", "", relative)
        modules[name] = path
    return modules


def _imports(tree, module, modules):
    """Modules of the provider that ``tree`` imports (anywhere but under ``if TYPE_CHECKING:``)."""
    found = set()

    def visit(node):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(module.split(".")[:-node.level] + ([base] if base else []))
            found.add(base)
            found.update("%s.%s" % (base, alias.name) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in modules}


def _grants_of_call(node):
    """(resource, verb) pairs one call makes on pods."""
    grants = set()
    func = node.func
    if isinstance(func, ast.Attribute):
        match = POD_METHOD.match(func.attr)
        if match:
            grants.add(("pods/" + match.group("sub") if match.group("sub") else "pods", CLIENT_VERBS[match.group(1)]))
        if func.attr == "stream" and node.args and isinstance(node.args[0], ast.Attribute):
            listed = POD_METHOD.match(node.args[0].attr)
            if listed and listed.group(1) == "list":
                grants.add(("pods", "watch"))
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        if func.attr == "get" and "dynamic" in ast.dump(func.value).lower() and "resource" in keywords \
                and "pod" in ast.dump(keywords["resource"]).lower():
            grants.add(("pods", "get" if "name" in keywords else "list"))
    return grants


def provider_calls():
    """{'scheduler': {(resource, verb)}, 'api_server': {...}} over the executor's import closure."""
    modules = provider_sources()
    for name in EXECUTOR_MODULES:
        assert name in modules, "%s is not in the installed provider" % name
    todo, seen, trees = list(EXECUTOR_MODULES), set(), {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        with open(modules[name], encoding="utf-8") as stream:
            trees[name] = ast.parse(stream.read(), modules[name])
        todo.extend(_imports(trees[name], name, modules) - seen)
    calls = {"scheduler": set(), "api_server": set()}

    def walk(node, function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name if function is None or function not in API_SERVER_METHODS else function
        if isinstance(node, ast.Call):
            calls["api_server" if function in API_SERVER_METHODS else "scheduler"].update(_grants_of_call(node))
        for child in ast.iter_child_nodes(node):
            walk(child, function)

    for tree in trees.values():
        walk(tree, None)
    return calls, sorted(seen)


def _granted(rules):
    return {(resource, verb) for rule in rules if rule.get("apiGroups") == [""]
            for resource in rule["resources"] for verb in rule["verbs"]}


def test_pod_launcher_role_grants_exactly_the_executor_calls(airflow_venv, rendered_deployment):
    del airflow_venv
    calls, modules = provider_calls()
    # The reading itself must have found the calls every KubernetesExecutor makes, in more than its own module.
    assert {("pods", verb) for verb in ("create", "get", "list", "watch", "patch", "delete")} <= calls["scheduler"], calls
    assert len(modules) > len(EXECUTOR_MODULES), modules
    role = rendered_deployment.objects[("Role", "airflow-pod-launcher")]
    assert all(rule.get("apiGroups") == [""] for rule in role["rules"]), role["rules"]
    granted = _granted(role["rules"])
    assert granted == calls["scheduler"], (
        "the pod-launcher Role grants %s; the installed provider's executor calls %s (modules read: %s)"
        % (sorted(granted), sorted(calls["scheduler"]), ", ".join(modules)))


def test_pod_log_reader_rules_grant_exactly_the_log_calls(airflow_venv):
    """The api-server's optional pod-log-reader rules (rbac_api_server_pod_logs) are the log methods' calls."""
    del airflow_venv
    calls, _modules = provider_calls()
    assert ("pods/log", "get") in calls["api_server"], calls["api_server"]
    with open(os.path.join(str(REPOSITORY_ROOT), "roles", "rbac", "vars", "main.yml"), encoding="utf-8") as stream:
        rules = yaml.safe_load(stream)["rbac_pod_log_reader_rules"]
    assert _granted(rules) == calls["api_server"]
