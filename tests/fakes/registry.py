"""Fake population-registry gateway for the signed JSON protocol.

Re-implements the protocol checks with stdlib ``hmac``/``hashlib`` SM3
(independent from the adapter, which uses ``cryptography``).  Knobs:

* ``mode``: ``"normal"``, ``"hang"`` (sleep ``hang_seconds``), ``"error500"``,
  ``"wrong_key"`` (sign replies with another key), ``"unsigned"``,
  ``"bad_result"`` (correctly signed but unknown result), ``"echo_wrong_id"``.
* ``people``: ``{id_number: name}`` of known residents.

``checked`` lists (name, id_number) pairs that passed authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

PATH = "/v1/identity/verify"


def _sm3() -> Any:
    return hashlib.new("sm3")


def sm3_hex(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def hmac_sm3(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), _sm3).hexdigest()


class FakeRegistry:
    """WSGI app emulating the provincial registry gateway."""

    def __init__(self, apps: dict[str, str], people: dict[str, str], max_skew: int = 300) -> None:
        self.apps = apps
        self.people = people
        self.max_skew = max_skew
        self.mode = "normal"
        self.hang_seconds = 2.0
        self.release = threading.Event()
        self.checked: list[tuple[str, str]] = []
        self.rejections: list[str] = []
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    def _reject(self, status: int, reason: str) -> Response:
        with self._lock:
            self.rejections.append(reason)
        return Response(json.dumps({"error": reason}), status=status, mimetype="application/json")

    def _authenticate(self, request: Request, body: bytes) -> tuple[str, Response | None]:
        app_id = request.headers.get("X-App-Id", "")
        secret = self.apps.get(app_id)
        if secret is None:
            return "", self._reject(401, "unknown_app")
        ts, nonce = request.headers.get("X-Timestamp", ""), request.headers.get("X-Nonce", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > self.max_skew:
            return "", self._reject(401, "timestamp_skew")
        if len(nonce) != 32:
            return "", self._reject(401, "bad_nonce")
        to_sign = f"{request.method}\n{request.path}\n{ts}\n{nonce}\n{sm3_hex(body)}"
        if not hmac.compare_digest(hmac_sm3(secret, to_sign), request.headers.get("X-Signature", "")):
            return "", self._reject(401, "bad_signature")
        now = time.time()
        with self._lock:
            self._nonces = {n: t for n, t in self._nonces.items() if now - t <= self.max_skew}
            if nonce in self._nonces:
                reused = True
            else:
                reused = False
                self._nonces[nonce] = now
        if reused:
            return "", self._reject(401, "nonce_reused")
        return secret, None

    def _verdict(self, name: str, id_number: str) -> str:
        known = self.people.get(id_number)
        if known is None:
            return "not_found"
        return "match" if known == name else "mismatch"

    def _handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != PATH:
            return self._reject(404, "not_found")
        if self.mode == "hang":
            self.release.wait(self.hang_seconds)
        if self.mode == "error500":
            return Response("internal error", status=500)
        body = request.get_data(cache=True)
        secret, rejection = self._authenticate(request, body)
        if rejection is not None:
            return rejection
        try:
            data = json.loads(body.decode("utf-8"))
            name, id_number, request_id = data["name"], data["id_number"], data["request_id"]
        except (ValueError, KeyError, TypeError):
            return self._reject(400, "bad_body")
        with self._lock:
            self.checked.append((name, id_number))
        result = "maybe" if self.mode == "bad_result" else self._verdict(name, id_number)
        if self.mode == "echo_wrong_id":
            request_id = "0" * 32
        key = "not-the-shared-secret" if self.mode == "wrong_key" else secret
        headers = {} if self.mode == "unsigned" else {"X-Signature": hmac_sm3(key, f"{request_id}\n{result}")}
        return Response(json.dumps({"request_id": request_id, "result": result}),
                        status=200, mimetype="application/json", headers=headers)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._handle(Request(environ))(environ, start_response)
