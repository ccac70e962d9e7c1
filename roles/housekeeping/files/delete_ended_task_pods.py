# Delete the task pods that ended (Succeeded or Failed) more than MAX_AGE_MINUTES ago (run by the
# pod-cleanup CronJob as `python -c`, with the Kubernetes client of the Airflow image). Its Role
# grants exactly the two calls below: list and delete on pods.
import datetime
import os

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

config.load_incluster_config()
api = client.CoreV1Api()
namespace = os.environ["POD_NAMESPACE"]
cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=int(os.environ["MAX_AGE_MINUTES"]))


def ended_at(pod):
    """When the pod's last container ended (its start, or creation, when no container says)."""
    times = [status.state.terminated.finished_at for status in (pod.status.container_statuses or [])
             if status.state and status.state.terminated and status.state.terminated.finished_at]
    return max(times) if times else pod.status.start_time or pod.metadata.creation_timestamp


deleted = 0
# One list of the task pods; the phase is checked here, so any API server's field selectors do.
for pod in api.list_namespaced_pod(namespace, label_selector=os.environ["TASK_POD_SELECTOR"]).items:
    phase = pod.status.phase if pod.status else None
    if phase not in ("Succeeded", "Failed") or ended_at(pod) >= cutoff:
        continue
    try:
        api.delete_namespaced_pod(pod.metadata.name, namespace)
    except ApiException as error:
        if error.status != 404:  # gone already (the executor deleted it meanwhile): fine
            raise
        continue
    deleted += 1
    print("deleted %s (%s)" % (pod.metadata.name, phase))
print("%d ended task pod(s) older than %s deleted" % (deleted, cutoff.isoformat()))
