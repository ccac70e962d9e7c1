# Ask the api-server's health endpoint, through its Service, until every wanted component reports
# "healthy" or the time is up (run by the sink's health-probe Job as `python -c`, in the Airflow
# image). Arguments: URL, seconds to keep trying, comma-separated components. Prints one JSON line
# (the last answer) and exits 0 when healthy, 1 otherwise. Uses only the standard library.
import json
import sys
import time
import urllib.request

URL, TIMEOUT, WANTED = sys.argv[1], float(sys.argv[2]), [name for name in sys.argv[3].split(",") if name]
DEADLINE = time.monotonic() + TIMEOUT

while True:
    try:
        with urllib.request.urlopen(URL, timeout=10) as response:  # nosec - an in-cluster http URL
            HEALTH = json.load(response)
        STATES = {name: (HEALTH.get(name) or {}).get("status") for name in WANTED}
        PROBLEM = "" if all(state == "healthy" for state in STATES.values()) else "not healthy: %s" % STATES
    except Exception as error:  # pylint: disable=broad-except
        HEALTH, PROBLEM = None, "%s: %s" % (type(error).__name__, error)
    if not PROBLEM:
        print(json.dumps({"url": URL, "healthy": True, "health": HEALTH}, sort_keys=True))
        sys.exit(0)
    if time.monotonic() > DEADLINE:
        print(json.dumps({"url": URL, "healthy": False, "problem": PROBLEM, "health": HEALTH}, sort_keys=True))
        sys.exit(1)
    time.sleep(5)
