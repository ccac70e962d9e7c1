# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""moto in server mode on 127.0.0.1, with the few AWS APIs our roles call that moto 5 lacks.

What it is
    The real ``moto`` server application (``moto.moto_server.werkzeug_app``, every service on one
    port, dispatched by the request's signing scope) wrapped in a small WSGI middleware that adds
    the APIs below. Clients reach it with ``endpoint_url`` (boto3, amazon.aws, community.aws and
    our own modules all accept it). It is an **emulator, not AWS**: moto returns resources as
    ``available``/``ACTIVE`` at once and checks few of AWS's rules.

What the middleware adds, each with the moto gap it fills
    1. **EFS legacy tag APIs** ``DescribeTags`` (``GET /2015-02-01/tags/<fs>/``), ``CreateTags``
       (``POST /2015-02-01/create-tags/<fs>``) and ``DeleteTags`` (``POST /2015-02-01/delete-tags/<fs>``),
       which ``community.aws.efs``/``efs_info`` call and moto does not route. They read and write the
       tags of moto's own EFS backend (the same store as ``TagResource``/``ListTagsForResource``), so
       both API generations agree.
    2. **EKS add-ons** (``CreateAddon``, ``DescribeAddon``, ``UpdateAddon``, ``DeleteAddon``,
       ``ListAddons``, and ``TagResource``/``UntagResource``/``ListTagsForResource`` on add-on ARNs):
       moto has no add-ons at all. Add-ons are kept in memory per account, region and cluster; the
       cluster must exist in moto's EKS backend. They are ``ACTIVE`` at once (create, update) and gone
       at once (delete); an update sets ``modifiedAt``. No version catalogue: without
       ``addonVersion`` an add-on gets :data:`DEFAULT_ADDON_VERSION`.
    3. **The EKS cluster security group.** Real EKS creates a security group for every cluster
       (``resourcesVpcConfig.clusterSecurityGroupId``, attached to the control plane and managed
       nodes) and reports the cluster's ``vpcId``. moto does neither. After moto's ``CreateCluster``
       the middleware creates ``eks-cluster-sg-<name>-<n>`` in the VPC of the cluster's first subnet
       (moto's EC2 backend, tagged like EKS does) and records it on the cluster; ``DeleteCluster``
       deletes it again.
    4. **EFS access point ids.** moto makes ``fsap-`` + 8 hexadecimal digits; AWS uses 17, and the
       storage role validates that format. :func:`install_access_point_id_fix` makes moto's
       ``AccessPoint`` use 17 digits (a runtime patch of moto's class, installed by :func:`build_app`).
    5. **RDS parameter groups.** moto answers ``DescribeDBParameterGroups`` for a missing name with an
       empty list (AWS: ``DBParameterGroupNotFound``, which ``amazon.aws.rds_instance_param_group``
       relies on), and a new group has no parameters at all, so no parameter can be set. After
       :func:`install_rds_fixes` the missing group is an error and a new ``postgres<N>`` group has the
       engine-default parameters the roles set (``rds.force_ssl``: 1 from PostgreSQL 15, as on AWS).
    6. **gp3 storage defaults.** AWS reports ``StorageThroughput`` 125 and ``Iops`` 3000 for a gp3
       instance created without them; moto reports neither, and ``amazon.aws.rds_instance`` fails
       with ``KeyError: 'StorageThroughput'`` on the second run. :func:`install_rds_fixes` fills them in.
    7. **AWS managed IAM policies.** moto loads them (``MOTO_IAM_LOAD_MANAGED_POLICIES``) only when asked;
       AWS always has them, and the roles attach ``AmazonEFSCSIDriverPolicy``. :func:`build_app` turns the
       loading on unless the environment says otherwise.

Usage
    Command line (runs until SIGTERM/SIGINT, then removes its pid and ready files)::

        python tests/support/moto_server.py --port 0 --pidfile /tmp/moto.pid --ready-file /tmp/moto.ready

    From Python, in a thread of the test process (unit tests), or as a child process::

        with MotoServer() as server:          # in-process thread
            boto3.client("efs", endpoint_url=server.url, region_name="eu-west-1")
            server.reset()                    # drop every resource (moto's /moto-api/reset)
        with MotoServerProcess.start(workdir) as server:
            ...

    Credentials can be anything (``AWS_ACCESS_KEY_ID=testing``); account ``123456789012``.
"""

import argparse
import contextlib
import datetime
import itertools
import json
import logging
import os
import re
import signal
import sys
import threading
import urllib.parse
import urllib.request
import uuid

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

try:
    from tests.support import service_process
except ImportError:  # run as a script: python tests/support/moto_server.py
    import service_process  # pylint: disable=import-error

__all__ = ["DEFAULT_ADDON_VERSION", "MotoServer", "MotoServerProcess", "build_app", "main"]

#: Version an add-on gets when CreateAddon names none (moto has no version catalogue).
DEFAULT_ADDON_VERSION = "v2.1.0-eksbuild.1"

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_EFS_TAGS = re.compile(r"^/2015-02-01/(tags|create-tags|delete-tags)/([^/]+)/?$")
_EKS_ADDONS = re.compile(r"^/clusters/([^/]+)/addons(?:/([^/]+)(/update)?)?/?$")
_EKS_TAGS = re.compile(r"^/tags/(.+)$")
_EKS_CLUSTERS = re.compile(r"^/clusters/?$")
_EKS_CLUSTER = re.compile(r"^/clusters/([^/]+)/?$")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _json_response(body, status=200):
    return Response(json.dumps(body), status=status, content_type="application/json")


def _rest_json_error(status, code, message):
    """An error as rest-json services (EFS, EKS) send it; botocore reads the code from the header."""
    response = _json_response({"__type": code, "message": message, "ErrorCode": code, "Message": message},
                              status=status)
    response.headers["x-amzn-ErrorType"] = code
    return response


class AwsGapsMiddleware:
    """WSGI middleware: serve the APIs moto lacks (see the module docstring), pass the rest to moto."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.addons = {}  # (account, region, cluster) -> {addon name -> addon}
        self.cluster_groups = {}  # (account, region, cluster) -> security group id
        self.counter = itertools.count(1)

    def reset(self):
        """Forget the add-ons and cluster security groups (moto's own reset drops the rest)."""
        with self.lock:
            self.addons.clear()
            self.cluster_groups.clear()

    # ---------------------------------------------------------------- dispatch
    def __call__(self, environ, start_response):
        request = Request(environ)
        match = _CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
        if request.path.startswith("/moto-api/reset") and request.method == "POST":
            self.reset()
        if match:
            access_key, region, service = match.groups()
            account = self._account(access_key)
            handler = None
            if service == "elasticfilesystem":
                handler = self._efs(request, account, region)
            elif service == "eks":
                handler = self._eks(request, account, region, environ, start_response)
            if handler is not None:
                return handler(environ, start_response)
        return self.app(environ, start_response)

    @staticmethod
    def _account(access_key):
        if "MOTO_ACCOUNT_ID" in os.environ:
            return os.environ["MOTO_ACCOUNT_ID"]
        from moto.iam.models import get_account_id_from  # pylint: disable=import-outside-toplevel
        return get_account_id_from(access_key)

    # ---------------------------------------------------------------- 1. EFS legacy tags
    def _efs(self, request, account, region):
        match = _EFS_TAGS.match(request.path)
        if not match:
            return None
        from moto.efs.models import efs_backends  # pylint: disable=import-outside-toplevel
        backend = efs_backends[account][region]
        operation, file_system_id = match.groups()
        if file_system_id not in backend.file_systems_by_id:
            return _rest_json_error(404, "FileSystemNotFound", "File system '%s' does not exist." % file_system_id)
        if operation == "tags" and request.method == "GET":
            return _json_response({"Tags": backend.list_tags_for_resource(file_system_id)})
        body = json.loads(request.get_data() or b"{}")
        arn = "arn:aws:elasticfilesystem:%s:%s:file-system/%s" % (region, account, file_system_id)
        if operation == "create-tags" and request.method == "POST":
            backend.tag_resource(arn, dict((tag["Key"], tag.get("Value", "")) for tag in body.get("Tags", [])))
            return Response(status=204)
        if operation == "delete-tags" and request.method == "POST":
            backend.untag_resource(arn, body.get("TagKeys", []))
            return Response(status=204)
        return _rest_json_error(400, "BadRequest", "Unsupported method %s on %s." % (request.method, request.path))

    # ---------------------------------------------------------------- 2./3. EKS
    def _eks(self, request, account, region, environ, start_response):  # pylint: disable=too-many-return-statements
        from moto.eks.models import eks_backends  # pylint: disable=import-outside-toplevel
        backend = eks_backends[account][region]
        path = urllib.parse.unquote(request.path)
        if _EKS_CLUSTERS.match(path) and request.method == "POST":
            return self._create_cluster(request, account, region, backend, environ, start_response)
        match = _EKS_CLUSTER.match(path)
        if match and request.method == "DELETE":
            self._delete_cluster_group(account, region, match.group(1))
            return None
        match = _EKS_ADDONS.match(path)
        if match:
            cluster, name, update = match.groups()
            if cluster not in backend.clusters:
                return _rest_json_error(404, "ResourceNotFoundException", "No cluster found for name: %s." % cluster)
            with self.lock:
                return self._addon(request, account, region, backend.clusters[cluster], name, bool(update))
        match = _EKS_TAGS.match(path)
        if match and ":addon/" in match.group(1):
            with self.lock:
                return self._addon_tags(request, match.group(1))
        return None

    def _create_cluster(self, request, account, region, backend, environ, start_response):
        """Let moto create the cluster, then give it a cluster security group like EKS does."""
        body = json.loads(request.get_data() or b"{}")
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        # werkzeug's Request cached the body; hand moto a fresh stream.
        raw = json.dumps(body).encode()
        environ["wsgi.input"] = _BytesStream(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        chunks = list(self.app(environ, capture))
        name = body.get("name")
        if captured.get("status", "").startswith("200") and name in backend.clusters:
            self._add_cluster_group(account, region, backend.clusters[name])
        return lambda _environ, _start_response: chunks

    def _add_cluster_group(self, account, region, cluster):
        from moto.ec2.models import ec2_backends  # pylint: disable=import-outside-toplevel
        ec2 = ec2_backends[account][region]
        config = cluster.resources_vpc_config = dict(cluster.resources_vpc_config or {})
        subnet_ids = config.get("subnetIds") or []
        vpc_id = ec2.get_subnet(subnet_ids[0]).vpc_id if subnet_ids else None
        if vpc_id is None:
            return
        group = ec2.create_security_group(
            name="eks-cluster-sg-%s-%d" % (cluster.name, next(self.counter)),
            description="EKS created security group applied to ENI that is attached to EKS Control Plane master "
                        "nodes, as well as any managed workloads.",
            vpc_id=vpc_id,
            tags={"aws:eks:cluster-name": cluster.name, "kubernetes.io/cluster/%s" % cluster.name: "owned"},
        )
        config["clusterSecurityGroupId"] = group.id
        config["vpcId"] = vpc_id
        with self.lock:
            self.cluster_groups[(account, region, cluster.name)] = group.id

    def _delete_cluster_group(self, account, region, name):
        with self.lock:
            group_id = self.cluster_groups.pop((account, region, name), None)
            self.addons.pop((account, region, name), None)
        if group_id:
            from moto.ec2.models import ec2_backends  # pylint: disable=import-outside-toplevel
            with contextlib.suppress(Exception):
                ec2_backends[account][region].delete_security_group(group_id=group_id)

    def _addon(self, request, account, region, cluster, name, update):  # pylint: disable=too-many-return-statements
        addons = self.addons.setdefault((account, region, cluster.name), {})
        method = request.method
        if name is None and method == "GET":
            return _json_response({"addons": sorted(addons)})
        if name is None and method == "POST":
            body = json.loads(request.get_data() or b"{}")
            name = body.get("addonName")
            if not name:
                return _rest_json_error(400, "InvalidParameterException", "addonName is required.")
            if name in addons:
                return _rest_json_error(409, "ResourceInUseException", "Addon already exists: %s." % name)
            addon = {
                "addonName": name, "clusterName": cluster.name, "status": "ACTIVE",
                "addonVersion": body.get("addonVersion") or DEFAULT_ADDON_VERSION,
                "health": {"issues": []},
                "addonArn": "arn:aws:eks:%s:%s:addon/%s/%s/%s" % (region, account, cluster.name, name, uuid.uuid4()),
                "createdAt": _now(), "modifiedAt": _now(), "tags": dict(body.get("tags") or {}),
            }
            for key in ("serviceAccountRoleArn", "configurationValues"):
                if body.get(key):
                    addon[key] = body[key]
            addons[name] = addon
            return _json_response({"addon": addon})
        if name not in addons:
            return _rest_json_error(404, "ResourceNotFoundException",
                                    "No addon: %s found in cluster: %s" % (name, cluster.name))
        addon = addons[name]
        if method == "GET" and not update:
            return _json_response({"addon": addon})
        if method == "DELETE" and not update:
            del addons[name]
            return _json_response({"addon": dict(addon, status="DELETING")})
        if method == "POST" and update:
            body = json.loads(request.get_data() or b"{}")
            for key in ("addonVersion", "serviceAccountRoleArn", "configurationValues"):
                if key in body:
                    if body[key]:
                        addon[key] = body[key]
                    else:
                        addon.pop(key, None)
            addon["modifiedAt"] = _now()
            update = {"id": str(uuid.uuid4()), "status": "Successful", "type": "AddonUpdate", "params": [],
                      "createdAt": _now(), "errors": []}
            return _json_response({"update": update})
        return _rest_json_error(400, "InvalidRequestException", "Unsupported method %s." % method)

    def _addon_tags(self, request, arn):
        for addons in self.addons.values():
            for addon in addons.values():
                if addon["addonArn"] == arn:
                    if request.method == "GET":
                        return _json_response({"tags": addon["tags"]})
                    if request.method == "POST":
                        addon["tags"].update(json.loads(request.get_data() or b"{}").get("tags", {}))
                        return _json_response({})
                    if request.method == "DELETE":
                        for key in request.args.getlist("tagKeys"):
                            addon["tags"].pop(key, None)
                        return _json_response({})
        return _rest_json_error(404, "NotFoundException", "Resource not found: %s" % arn)


class _BytesStream:
    """A minimal ``wsgi.input``: a readable byte stream."""

    def __init__(self, data):
        self.data = data
        self.position = 0

    def read(self, size=-1):
        """Read up to ``size`` bytes (all with -1)."""
        end = len(self.data) if size is None or size < 0 else min(len(self.data), self.position + size)
        chunk = self.data[self.position:end]
        self.position = end
        return chunk

    def readline(self, size=-1):
        """Read one line (werkzeug may use it for form parsing)."""
        end = self.data.find(b"\n", self.position)
        end = len(self.data) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, self.position + size)
        chunk = self.data[self.position:end]
        self.position = end
        return chunk


def install_access_point_id_fix():
    """Give moto's EFS access points AWS-style ids, ``fsap-`` + 17 hexadecimal digits (idempotent)."""
    from moto.efs import models  # pylint: disable=import-outside-toplevel
    original = models.AccessPoint.__init__
    if getattr(original, "airflow_k8s_fixed", False):
        return

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        short_id = self.access_point_id
        self.access_point_id = "fsap-%s" % models.mock_random.get_random_hex(17)
        self.access_point_arn = self.access_point_arn.replace(short_id, self.access_point_id)

    init.airflow_k8s_fixed = True
    models.AccessPoint.__init__ = init


#: Engine-default parameters of new ``postgres<N>`` parameter groups (a small, real subset).
POSTGRES_DEFAULT_PARAMETERS = {
    "rds.force_ssl": {"DataType": "boolean", "AllowedValues": "0,1", "ApplyType": "dynamic",
                      "Description": "Force SSL connections.", "IsModifiable": True},
    "log_min_duration_statement": {"DataType": "integer", "AllowedValues": "-1-2147483647", "ApplyType": "dynamic",
                                   "Description": "Sets the minimum execution time above which statements will be "
                                                  "logged.", "IsModifiable": True},
}


def install_rds_fixes():
    """``DescribeDBParameterGroups`` of a missing name fails; postgres groups get default parameters (idempotent)."""
    from moto.rds import exceptions, models  # pylint: disable=import-outside-toplevel
    backend_class = models.RDSBackend
    if getattr(backend_class.describe_db_parameter_groups, "airflow_k8s_fixed", False):
        return
    original_describe = backend_class.describe_db_parameter_groups

    def describe_db_parameter_groups(self, db_parameter_group_kwargs):
        found = original_describe(self, db_parameter_group_kwargs)
        name = db_parameter_group_kwargs.get("db_parameter_group_name")
        if name and not found:
            raise exceptions.DBParameterGroupNotFoundError(name)
        return found

    describe_db_parameter_groups.airflow_k8s_fixed = True
    backend_class.describe_db_parameter_groups = describe_db_parameter_groups

    original_init = models.DBParameterGroup.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        match = re.match(r"^postgres(\d+)", self.family or "")
        if match:
            major = int(match.group(1))
            for name, attributes in POSTGRES_DEFAULT_PARAMETERS.items():
                value = ("1" if major >= 15 else "0") if name == "rds.force_ssl" else "-1"
                self.parameters.setdefault(name, dict(attributes, ParameterName=name, ParameterValue=value,
                                                      Source="engine-default"))

    models.DBParameterGroup.__init__ = init

    original_instance_init = models.DBInstance.__init__

    def instance_init(self, *args, **kwargs):
        original_instance_init(self, *args, **kwargs)
        if self.storage_type == "gp3":
            if not self.storage_throughput:
                self.storage_throughput = 125
            if not self.iops:
                self.iops = 3000

    models.DBInstance.__init__ = instance_init


def build_app():
    """moto's server application wrapped in :class:`AwsGapsMiddleware`."""
    install_access_point_id_fix()
    install_rds_fixes()
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    return AwsGapsMiddleware(DomainDispatcherApplication(create_backend_app))


class MotoServer:
    """The patched moto server in a daemon thread of this process, on a free 127.0.0.1 port."""

    def __init__(self, host="127.0.0.1", port=0, quiet=True):
        if quiet:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.app = build_app()
        self.server = make_server(host, port, self.app, threaded=True, request_handler=MotoRequestHandler)
        self.url = "http://%s:%d" % self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        """Start serving; returns self."""
        self.thread.start()
        return self

    def reset(self):
        """Drop every resource of every account and region (moto's reset API and our add-ons)."""
        request = urllib.request.Request(self.url + "/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec - loopback test server
            response.read()

    def stop(self):
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def main(argv=None):
    """Command-line entry point: serve until SIGTERM/SIGINT; returns the exit code."""
    parser = argparse.ArgumentParser(description="moto server with the EFS tag, EKS add-on and EKS cluster "
                                                 "security group APIs moto lacks (tests only).")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1, 0 for a free one")
    parser.add_argument("--pidfile", help="write the process id here; removed on shutdown")
    parser.add_argument("--ready-file", help="write the URL here once serving; removed on shutdown")
    arguments = parser.parse_args(argv)
    server = MotoServer(port=arguments.port)

    def stop(_signal_number, _frame):
        threading.Thread(target=server.server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with service_process.announce(server.url, arguments.pidfile, arguments.ready_file):
            server.server.serve_forever()
    finally:
        server.server.server_close()
    return 0


class MotoServerProcess:
    """The patched moto server in a child process, with its files in ``workdir``."""

    def __init__(self, process, url, pidfile, ready_file):
        self.process = process
        self.url = url
        self.pidfile = pidfile
        self.ready_file = ready_file

    @classmethod
    def start(cls, workdir, timeout=60.0, python=None):
        """Start ``python moto_server.py`` and wait until it serves."""
        workdir = os.fspath(workdir)
        os.makedirs(workdir, mode=0o700, exist_ok=True)
        pidfile = os.path.join(workdir, "moto.pid")
        ready_file = os.path.join(workdir, "moto.ready")
        log = os.path.join(workdir, "moto.log")
        command = [python or sys.executable, os.path.abspath(__file__), "--port", "0", "--pidfile", pidfile,
                   "--ready-file", ready_file]
        process, url = service_process.start_and_wait(command, ready_file, log, timeout, name="the moto server", poll=0.05)
        return cls(process, url, pidfile, ready_file)

    def stop(self, timeout=10.0):
        """SIGTERM, wait, SIGKILL if needed; returns the exit code."""
        return service_process.stop(self.process, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
