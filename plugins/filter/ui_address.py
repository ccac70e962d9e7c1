# -*- coding: utf-8 -*-
# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How to reach the Airflow UI, in one line, from the api-server Service and Ingress read from the cluster."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError


def _mapping(value, what):
    """A Kubernetes object read back, or {} when it does not exist (None, {} or an omitted argument)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AnsibleFilterError("ui_address: %s must be a Kubernetes object (a mapping) or empty when it does not exist, got %s"
                                 % (what, type(value).__name__))
    return value


def _field(obj, *path):
    """obj.path[0].path[1]..., None when any step is missing (an int step indexes a list)."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or len(obj) <= step:
                return None
            obj = obj[step]
        elif isinstance(obj, dict):
            obj = obj.get(step)
        else:
            return None
    return obj


def _text(value, what):
    if not isinstance(value, str) or not value:
        raise AnsibleFilterError("ui_address: %s must be a non-empty string, got %r" % (what, value))
    return value


def _port(value):
    """The port as the summary prints it (an int or a string of digits, 1-65535)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit() or not 0 < int(value) < 65536:
        raise AnsibleFilterError("ui_address: port must be a port number (1-65535), got %r" % (value,))
    return str(value)


def ui_address(service, ingress=None, namespace=None, name=None, port=8080, root_path="/"):
    """One line saying how to reach the UI (without a leading 'UI: ' or a final period).

    In order: the Service does not exist; the Ingress's first rule has a host (https when the
    Ingress has tls); a LoadBalancer Service with an address (hostname, else ip); a LoadBalancer
    without one yet; a NodePort Service (its first port's nodePort); otherwise (ClusterIP) a
    kubectl port-forward command. All but the Service-missing and LoadBalancer-address lines
    offer the port-forward command.
    """
    service = _mapping(service, "the input (the api-server Service)")
    ingress = _mapping(ingress, "ingress")
    namespace = _text(namespace, "namespace")
    name = _text(name, "name")
    port = _port(port)
    if not isinstance(root_path, str):
        raise AnsibleFilterError("ui_address: root_path must be a string (the UI's path, e.g. /), got %r" % (root_path,))

    if not service:
        return "not reachable yet: Service %s/%s does not exist" % (namespace, name)
    port_forward = ("kubectl -n %s port-forward service/%s %s:%s and open http://localhost:%s%s"
                    % (namespace, name, port, port, port, root_path))
    host = _field(ingress, "spec", "rules", 0, "host")
    if host:
        scheme = "https" if _field(ingress, "spec", "tls") else "http"
        return "%s://%s/ (Ingress %s/%s); without it: %s" % (scheme, host, namespace, name, port_forward)
    service_type = _field(service, "spec", "type")
    if service_type is None:
        service_type = "ClusterIP"
    where = "%s Service %s/%s" % (service_type, namespace, name)
    if service_type == "LoadBalancer":
        load_balancer = _field(service, "status", "loadBalancer", "ingress", 0)
        if isinstance(load_balancer, dict) and load_balancer:
            address = load_balancer["hostname"] if "hostname" in load_balancer else load_balancer.get("ip", "")
            return "http://%s:%s/ (%s)" % (address, port, where)
        return "the load balancer has no address yet (kubectl -n %s get service %s); meanwhile: %s" % (namespace, name, port_forward)
    if service_type == "NodePort":
        node_port = _field(service, "spec", "ports", 0, "nodePort")
        return "port %s of any node (%s), or: %s" % ("?" if node_port is None else node_port, where, port_forward)
    return "%s (%s)" % (port_forward, where)


class FilterModule(object):
    """How to reach the Airflow UI."""

    def filters(self):
        return {"ui_address": ui_address}
