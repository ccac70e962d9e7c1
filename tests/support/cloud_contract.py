# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract between the cloud layer and the Airflow layer, checked the same way for every platform.

* :func:`database_problems`: the facts every ``roles/database/tasks/<platform>.yml`` ends with
  (``database_host``, ``database_port``, ``database_name``, ``database_username``, the password
  (here its length), ``database_sslmode``, ``database_login_format``, ``database_tls_ca``): all present,
  same types, TLS required on the clouds, plain login names; with ``verify-full`` the CA is PEM
  certificates (what every Airflow pod mounts as ``sslrootcert``), without it there is none.
* :func:`volume_problems`: the DAG and log PersistentVolumes the storage role built from those
  inputs: ReadWriteMany, Retain, reserved for their claim, and a complete source for the driver
  (CSI driver name, volume handle, attributes and secret reference where the driver needs them).
* :func:`shape`: a type signature, so two platforms can be compared for "same shape".

Used by tests/functional/test_cloud_module_calls.py; usable by any platform's tests.
"""

from cryptography import x509

DATABASE_FACTS = ("database_host", "database_port", "database_name", "database_username", "database_password_length",
                  "database_sslmode", "database_login_format", "database_tls_ca")
CLOUD_SSLMODES = ("require", "verify-ca", "verify-full")
CSI_DRIVERS = {"azure_files": "file.csi.azure.com", "efs": "efs.csi.aws.com", "filestore": "filestore.csi.storage.gke.io"}


def shape(value):
    """Type signature of a JSON-like value (dict keys kept, scalars replaced by their type name)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return type(value).__name__


def database_problems(facts, platform):
    problems = []
    missing = [name for name in DATABASE_FACTS if name not in facts]
    if missing:
        return ["missing database facts: %s" % ", ".join(missing)]
    for name in ("database_host", "database_name", "database_username", "database_sslmode", "database_login_format"):
        if not isinstance(facts[name], str) or not facts[name]:
            problems.append("%s must be a non-empty string, got %r" % (name, facts[name]))
    if not isinstance(facts["database_port"], int) or not 0 < facts["database_port"] < 65536:
        problems.append("database_port must be an int TCP port, got %r" % (facts["database_port"],))
    if not isinstance(facts["database_password_length"], int) or facts["database_password_length"] < 16:
        problems.append("database_password must be set (at least 16 characters)")
    if "@" in str(facts["database_username"]):
        problems.append("database_username must be the plain login, got %r" % facts["database_username"])
    if facts["database_login_format"] != "plain":
        problems.append("database_login_format must be plain, got %r" % facts["database_login_format"])
    if platform != "local" and facts["database_sslmode"] not in CLOUD_SSLMODES:
        problems.append("database_sslmode must require TLS on %s, got %r" % (platform, facts["database_sslmode"]))
    if facts["database_sslmode"] == "verify-full":
        try:
            if "PRIVATE KEY" in facts["database_tls_ca"] or not x509.load_pem_x509_certificates(facts["database_tls_ca"].encode()):
                raise ValueError("not only certificates")
        except (ValueError, AttributeError) as error:
            problems.append("with sslmode verify-full database_tls_ca must be PEM certificates: %s" % error)
    elif facts["database_tls_ca"] != "":
        problems.append("database_tls_ca must be empty unless sslmode is verify-full (nothing mounts it)")
    for forbidden in ("://", "/", " "):
        if forbidden in str(facts["database_host"]):
            problems.append("database_host must be a bare host name or address, got %r" % facts["database_host"])
    return problems


def volume_problems(volumes, driver):
    """``volumes``: the DAG and log PersistentVolume objects."""
    problems = []
    if len(volumes) != 2:
        return ["expected 2 PersistentVolumes (dags, logs), got %d" % len(volumes)]
    handles, paths = set(), set()
    for volume in volumes:
        name = volume["metadata"]["name"]
        spec = volume["spec"]
        if spec.get("accessModes") != ["ReadWriteMany"]:
            problems.append("%s: accessModes must be [ReadWriteMany]" % name)
        if spec.get("persistentVolumeReclaimPolicy") != "Retain":
            problems.append("%s: reclaim policy must be Retain" % name)
        if not (spec.get("claimRef") or {}).get("name"):
            problems.append("%s: must be reserved for its claim (claimRef)" % name)
        if driver == "filestore" and "nfs" in spec:
            # One Filestore instance for both shares: each volume is a folder of its file share.
            nfs = spec["nfs"] or {}
            if not nfs.get("server") or len([part for part in str(nfs.get("path", "")).split("/") if part]) < 2:
                problems.append("%s: nfs needs the instance's address and a folder of its share (/<share>/<folder>), got %r" % (name, nfs))
            paths.add(nfs.get("path"))
        elif driver in CSI_DRIVERS:
            csi = spec.get("csi") or {}
            if csi.get("driver") != CSI_DRIVERS[driver]:
                problems.append("%s: csi.driver must be %s, got %r" % (name, CSI_DRIVERS[driver], csi.get("driver")))
            if not csi.get("volumeHandle") or any(part == "" for part in csi.get("volumeHandle", "").replace("::", ":").split("#")):
                problems.append("%s: incomplete csi.volumeHandle %r" % (name, csi.get("volumeHandle")))
            handles.add(csi.get("volumeHandle"))
            attributes = csi.get("volumeAttributes") or {}
            if driver == "azure_files":
                if not attributes.get("shareName") or not attributes.get("resourceGroup"):
                    problems.append("%s: volumeAttributes need shareName and resourceGroup" % name)
                if not (csi.get("nodeStageSecretRef") or {}).get("name"):
                    problems.append("%s: nodeStageSecretRef (the account key Secret) is missing" % name)
            if driver == "filestore" and (not attributes.get("ip") or not attributes.get("volume")):
                problems.append("%s: volumeAttributes need ip and volume" % name)
        elif driver == "nfs" and not (spec.get("nfs") or {}).get("server"):
            problems.append("%s: nfs.server is missing" % name)
        elif driver == "host_path" and not (spec.get("hostPath") or {}).get("path"):
            problems.append("%s: hostPath.path is missing" % name)
    if paths and len(paths) != 2:
        problems.append("the two volumes must be different folders: %s" % sorted(map(str, paths)))
    elif driver in CSI_DRIVERS and not paths and len(handles) != 2:
        problems.append("the two volumes must have different volume handles: %s" % sorted(map(str, handles)))
    return problems
