# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ui_address filter: the run summary's one line on how to reach the UI, for each kind of Service and Ingress.

The expected lines are the ones the sink's Summary task printed with its Jinja expression (compared
for these cases, and with other namespaces, ports and root paths, when the filter replaced it).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.airflow_k8s.cloud.plugins.filter.ui_address import FilterModule, ui_address

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

WHERE = dict(namespace="airflow", name="airflow-api-server", port=8080, root_path="/")
PORT_FORWARD = "kubectl -n airflow port-forward service/airflow-api-server 8080:8080 and open http://localhost:8080/"


def service(spec=None, status=None):
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "airflow-api-server", "namespace": "airflow"}}
    if spec is not None:
        obj["spec"] = spec
    if status is not None:
        obj["status"] = status
    return obj


def ingress(spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "airflow-api-server"}, "spec": spec}


def load_balancer(*addresses):
    return service({"type": "LoadBalancer", "ports": [{"port": 8080}]}, {"loadBalancer": {"ingress": list(addresses)}})


@pytest.mark.parametrize("svc, ing, expected", [
    pytest.param({}, {}, "not reachable yet: Service airflow/airflow-api-server does not exist", id="no-service"),
    pytest.param(None, ingress({"rules": [{"host": "a.example"}]}), "not reachable yet: Service airflow/airflow-api-server does not exist",
                 id="no-service-but-an-ingress"),
    pytest.param(service({"type": "ClusterIP"}), ingress({"rules": [{"host": "airflow.example.com", "http": {}}]}),
                 "http://airflow.example.com/ (Ingress airflow/airflow-api-server); without it: " + PORT_FORWARD, id="ingress-http"),
    pytest.param(service({"type": "ClusterIP"}), ingress({"rules": [{"host": "airflow.example.com"}], "tls": [{"hosts": ["airflow.example.com"]}]}),
                 "https://airflow.example.com/ (Ingress airflow/airflow-api-server); without it: " + PORT_FORWARD, id="ingress-https"),
    pytest.param(service({"type": "ClusterIP"}), ingress({"rules": [{"host": "h.example"}], "tls": []}),
                 "http://h.example/ (Ingress airflow/airflow-api-server); without it: " + PORT_FORWARD, id="ingress-empty-tls"),
    pytest.param(load_balancer({"ip": "1.2.3.4"}), ingress({"rules": [{"host": "x.example"}]}),
                 "http://x.example/ (Ingress airflow/airflow-api-server); without it: " + PORT_FORWARD, id="ingress-wins-over-lb"),
    # Only the first rule's host counts.
    pytest.param(service({"type": "ClusterIP"}), ingress({"rules": [{"http": {}}, {"host": "second.example"}]}),
                 PORT_FORWARD + " (ClusterIP Service airflow/airflow-api-server)", id="ingress-first-rule-without-host"),
    pytest.param(service({"type": "ClusterIP"}), ingress({"rules": []}),
                 PORT_FORWARD + " (ClusterIP Service airflow/airflow-api-server)", id="ingress-without-rules"),
    pytest.param(load_balancer({"ip": "1.2.3.4", "ipMode": "VIP"}), {},
                 "http://1.2.3.4:8080/ (LoadBalancer Service airflow/airflow-api-server)", id="lb-ip"),
    pytest.param(load_balancer({"hostname": "abc.elb.amazonaws.com"}), {},
                 "http://abc.elb.amazonaws.com:8080/ (LoadBalancer Service airflow/airflow-api-server)", id="lb-hostname"),
    pytest.param(load_balancer({"hostname": "h.lb", "ip": "5.6.7.8"}, {"ip": "9.9.9.9"}), {},
                 "http://h.lb:8080/ (LoadBalancer Service airflow/airflow-api-server)", id="lb-hostname-first"),
    pytest.param(load_balancer({"ports": [{"port": 8080, "protocol": "TCP"}]}), {},
                 "http://:8080/ (LoadBalancer Service airflow/airflow-api-server)", id="lb-entry-without-address"),
    pytest.param(load_balancer(), {},
                 "the load balancer has no address yet (kubectl -n airflow get service airflow-api-server); meanwhile: " + PORT_FORWARD,
                 id="lb-pending"),
    pytest.param(service({"type": "LoadBalancer"}), {},
                 "the load balancer has no address yet (kubectl -n airflow get service airflow-api-server); meanwhile: " + PORT_FORWARD,
                 id="lb-without-status"),
    pytest.param(service({"type": "NodePort", "ports": [{"port": 8080, "nodePort": 31234}, {"port": 9, "nodePort": 30009}]}), {},
                 "port 31234 of any node (NodePort Service airflow/airflow-api-server), or: " + PORT_FORWARD, id="nodeport"),
    pytest.param(service({"type": "NodePort", "ports": [{"port": 8080}]}), {},
                 "port ? of any node (NodePort Service airflow/airflow-api-server), or: " + PORT_FORWARD, id="nodeport-unknown"),
    pytest.param(service({"type": "NodePort", "ports": []}), {},
                 "port ? of any node (NodePort Service airflow/airflow-api-server), or: " + PORT_FORWARD, id="nodeport-no-ports"),
    pytest.param(service({"type": "ClusterIP", "ports": [{"port": 8080}]}), {},
                 PORT_FORWARD + " (ClusterIP Service airflow/airflow-api-server)", id="clusterip"),
    pytest.param(service(), None, PORT_FORWARD + " (ClusterIP Service airflow/airflow-api-server)", id="no-type-is-clusterip"),
    pytest.param(service({"type": "ExternalName", "externalName": "x"}), {},
                 PORT_FORWARD + " (ExternalName Service airflow/airflow-api-server)", id="other-type"),
])
def test_each_kind_of_service_and_ingress(svc, ing, expected):
    assert ui_address(svc, ingress=ing, **WHERE) == expected


def test_namespace_name_port_and_root_path_are_used_everywhere():
    where = dict(namespace="data", name="af-api", port="9091", root_path="/airflow/")
    port_forward = "kubectl -n data port-forward service/af-api 9091:9091 and open http://localhost:9091/airflow/"
    assert ui_address({}, **where) == "not reachable yet: Service data/af-api does not exist"
    assert ui_address(service(), **where) == port_forward + " (ClusterIP Service data/af-api)"
    assert ui_address(load_balancer({"ip": "1.2.3.4"}), **where) == "http://1.2.3.4:9091/ (LoadBalancer Service data/af-api)"
    # The Ingress and load balancer addresses end in / whatever the root path: as the summary always printed them.
    assert ui_address(service(), ingress=ingress({"rules": [{"host": "h"}]}), **where) == \
        "http://h/ (Ingress data/af-api); without it: " + port_forward


def test_defaults_are_the_api_server_port_and_root():
    assert ui_address(service(), namespace="airflow", name="airflow-api-server") == \
        PORT_FORWARD + " (ClusterIP Service airflow/airflow-api-server)"


@pytest.mark.parametrize("svc, kwargs, message", [
    ([service()], {}, r"the input \(the api-server Service\) must be a Kubernetes object \(a mapping\) or empty when it does not exist, got list"),
    (service(), {"ingress": "airflow.example.com"}, "ingress must be a Kubernetes object"),
    (service(), {"namespace": ""}, "namespace must be a non-empty string, got ''"),
    (service(), {"name": None}, "name must be a non-empty string, got None"),
    (service(), {"port": "http"}, r"port must be a port number \(1-65535\), got 'http'"),
    (service(), {"port": 0}, r"port must be a port number \(1-65535\), got 0"),
    (service(), {"port": 70000}, r"port must be a port number"),
    (service(), {"port": True}, r"port must be a port number"),
    (service(), {"root_path": None}, "root_path must be a string"),
])
def test_bad_input_is_a_clear_filter_error(svc, kwargs, message):
    with pytest.raises(AnsibleFilterError, match="^ui_address: " + message):
        ui_address(svc, **dict(WHERE, **kwargs))


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"ui_address": ui_address}


def test_the_one_line_call_as_ansible_runs_it():
    """Through ansible's plugin loading, with the arguments the apply-mode summary has at hand."""
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    if not os.path.exists(ansible):
        pytest.skip("the ansible command line is not next to this Python")
    expression = ("{{ svc | airflow_k8s.cloud.ui_address(ingress=ing, namespace=ns, name=name, port=port,"
                  " root_path=path | regex_replace('api/v2/monitor/health$', '')) }}")
    extra = {"svc": load_balancer(), "ing": {}, "ns": "airflow", "name": "airflow-api-server", "port": 8080,
             "path": "/api/v2/monitor/health"}
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_NOCOLOR="1")
    process = subprocess.run([ansible, "localhost", "-m", "ansible.builtin.debug", "-a", "msg=" + json.dumps(expression),
                              "-e", json.dumps(extra)],
                             cwd=REPOSITORY_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                             check=False)
    result = json.loads(process.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["msg"] == ("the load balancer has no address yet (kubectl -n airflow get service airflow-api-server); meanwhile: "
                             + PORT_FORWARD), result
