# Copyright: airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gcp-storage-emulator (PyPI) with the one Cloud Storage answer it gets wrong for Airflow's GCS log handler.

Run as ``python tests/support/gcs_emulator.py start --host 127.0.0.1 --port N ...`` (the emulator's
own command line); :class:`tests.support.storage_emulators.GcsEmulator` does.

The gap it fills: downloading an object that does not exist. Cloud Storage answers 404 with the
body ``No such object: <bucket>/<object>``, and the google-cloud-storage client raises ``NotFound``
carrying that text. The emulator answers 404 with an empty body. Airflow's ``GCSRemoteLogIO``
reads a log object before writing it (to append) and tells "no log yet" from a failed read only by
that text (``no_log_found``: ``"No such object" in exc.args[0]``); with the empty body it refuses
to write the first upload of every task ("Refusing to overwrite remote log ..."). Everything
else is the emulator's own code.
"""

import sys
from http import HTTPStatus

from gcp_storage_emulator.handlers import objects


def _download_with_cloud_storage_not_found(request, response, storage, *args, **kwargs):
    """The emulator's download; a 404 gets Cloud Storage's ``No such object: <bucket>/<object>`` body."""
    _emulator_download(request, response, storage, *args, **kwargs)
    if response.status == HTTPStatus.NOT_FOUND and not response._content:  # pylint: disable=protected-access
        message = "No such object: %s/%s" % (request.params["bucket_name"], request.params["object_id"])
        response.write_file(message.encode("utf-8"), content_type="text/plain; charset=UTF-8")


_emulator_download = objects.download
# Before the server module is imported: its routing table takes the function at import time.
objects.download = _download_with_cloud_storage_not_found


def main(argv=None):
    from gcp_storage_emulator.__main__ import main as emulator_main  # pylint: disable=import-outside-toplevel

    return emulator_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
