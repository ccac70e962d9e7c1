# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler's pod-launcher Role grants exactly the pod verbs the installed executor calls.

Real components: the apache-airflow-providers-cncf-kubernetes of the real Airflow 3.3 environment
(.venv-airflow): its KubernetesExecutor source is read and every Kubernetes API call it makes on
pods is mapped to its RBAC verb (``create_namespaced_pod`` -> create, ``read_namespaced_pod`` -> get,
a watch stream over ``list_namespaced_pod`` -> watch, the dynamic client's ``get`` of the pod
resource -> list, ...). The Role is the one ``site.yml`` renders for the local inventory. A provider
upgrade that needs a new verb fails this test instead of a scheduler with a 403 after a restart.
"""

import re
import subprocess

from tests.conformance.airflow_harness import AIRFLOW_BIN

# CoreV1Api pod methods -> RBAC verb (the kubernetes client's naming: <verb>_namespaced_pod).
CLIENT_VERBS = {"create": "create", "read": "get", "list": "list", "patch": "patch", "delete": "delete",
                "replace": "update"}
POD_CALL = re.compile(r"\.(create|read|list|patch|delete|replace)_(?:namespaced_pod|pod_for_all_namespaces)\(")
WATCH_STREAM = re.compile(r"\.stream\(\s*(?:self\.)?\w*kube_client\.list_(?:namespaced_pod|pod_for_all_namespaces)", re.S)
DYNAMIC_POD_GET = re.compile(r"dynamic_client\.get\(\s*resource=pod_resource")


def executor_sources():
    """The KubernetesExecutor's modules, read from the provider installed in the Airflow environment."""
    located = subprocess.run(
        [str(AIRFLOW_BIN / "python"), "-c",
         "import airflow.providers.cncf.kubernetes.executors as e, glob, os; "
         "print('\\n'.join(sorted(glob.glob(os.path.join(os.path.dirname(e.__file__), 'kubernetes_executor*.py')))))"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True, timeout=120)
    paths = located.stdout.split()
    assert paths, "no KubernetesExecutor module found in the Airflow environment"
    sources = {}
    for path in paths:
        with open(path, encoding="utf-8") as stream:
            sources[path] = stream.read()
    return sources


def verbs_the_executor_needs(sources):
    verbs = set()
    for text in sources.values():
        verbs.update(CLIENT_VERBS[match.group(1)] for match in POD_CALL.finditer(text))
        if WATCH_STREAM.search(text):
            verbs.add("watch")
        if DYNAMIC_POD_GET.search(text):
            verbs.add("list")
    return verbs


def test_pod_launcher_role_grants_exactly_the_executor_calls(airflow_venv, rendered_deployment):
    needed = verbs_the_executor_needs(executor_sources())
    # The reading itself must have found the calls every KubernetesExecutor makes.
    assert {"create", "get", "list", "watch", "patch", "delete"} <= needed, needed
    role = rendered_deployment.objects[("Role", "airflow-pod-launcher")]
    pod_rules = [rule for rule in role["rules"] if rule.get("resources") == ["pods"] and rule.get("apiGroups") == [""]]
    assert len(pod_rules) == 1, role["rules"]
    assert sorted(pod_rules[0]["verbs"]) == sorted(needed), (
        "the Role grants %s; the installed provider calls %s" % (sorted(pod_rules[0]["verbs"]), sorted(needed)))
