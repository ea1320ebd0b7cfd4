"""Run a WSGI app on 127.0.0.1 (ephemeral port) in a background thread.

Usage::

    with FakeServer(app) as server:
        requests.get(server.url + "/x")
        assert server.requests[0].path == "/x"

Every request is recorded (method, path, query args, headers, raw body)
before the app handles it.  ``server.stopping`` is an Event set on close
so handlers that "hang" can wait on it and exit promptly.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietHandler(WSGIRequestHandler):
    """Do not log request lines (they would include query-string secrets)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class RecordedRequest:
    """One request as received by a fake server."""

    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """Threaded werkzeug server bound to 127.0.0.1 on an ephemeral port."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def _recording_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        form = dict(request.form.items()) if request.mimetype == "application/x-www-form-urlencoded" else {}
        environ["wsgi.input"] = io.BytesIO(body)  # let the app re-read the body
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.path,
                    args=dict(request.args.items()),
                    headers=dict(request.headers.items()),
                    body=body,
                    form=form,
                )
            )
        return self._app(environ, start_response)

    def start(self) -> "FakeServer":
        """Start serving; sets ``url`` (``http://127.0.0.1:PORT``)."""
        self._server = make_server(
            "127.0.0.1", 0, self._recording_app, threaded=True, request_handler=_QuietHandler
        )
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; hanging handlers are woken."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, path: str | None = None) -> int:
        """Number of requests received (optionally only those to ``path``)."""
        with self._lock:
            return sum(1 for r in self.requests if path is None or r.path == path)
