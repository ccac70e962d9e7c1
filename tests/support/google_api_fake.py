# Copyright: (c) 2026, airflow_k8s.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fakes of the Google REST APIs (fake_gke.py, fake_cloud_sql.py, fake_gcp_iam.py) share:
an HTTP server on 127.0.0.1 in a thread of the test process while the fake is used as a context
manager, and a request handler that answers JSON. Each fake keeps its own routes (``_handle``)
and error shape (``_error``): those are what the real APIs differ in."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class GoogleApiFake(object):
    """Base of a fake: ``with Fake(...) as fake:`` serves ``fake.url`` until the block ends."""

    def _serve(self, handler_class):
        """Start listening (call at the end of ``__init__``) with ``handler_class`` (a JsonHandler)."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    """Routes GET, POST, PUT and PATCH to ``_handle(method)``, answers JSON, logs nothing."""

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method):
        raise NotImplementedError

    def do_GET(self):  # noqa: N802 (http.server's names)
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")

    def do_PUT(self):  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self):  # noqa: N802
        self._handle("PATCH")
