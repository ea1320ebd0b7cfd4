"""The gateway side of the signed JSON envelope (app/adapters/signed_http.py), for the fake gateways.

Written again from the protocol with stdlib ``hmac``/``hashlib`` SM3, deliberately NOT importing the
client code (which uses ``cryptography``): a fake that shared the code under test could not catch
its bugs. :class:`SignedGateway` CHECKS what it receives, as a real gateway would: a known app id, a
JSON content type, a timestamp within ``max_skew`` seconds, a 32-lowercase-hex nonce not seen within
that window, and X-Signature = hex HMAC-SM3(secret, METHOD\\nPATH\\nTS\\nNONCE\\nhex SM3(body)).
``rejections`` lists the reason for every refusal.

A subclass names its ``paths`` and answers an authenticated POST whose body is JSON in ``_serve``.
Transport knobs (``mode``, see ``_fault_mode``): ``hang_mode`` waits ``hang_seconds`` (or until
``release`` is set) before answering; ``"error500"`` answers a bare 500.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

WRONG_KEY = "not-the-shared-secret"
_NONCE = re.compile(r"[0-9a-f]{32}")


def sm3_hex(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def hmac_sm3(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), lambda: hashlib.new("sm3")).hexdigest()


class SignedGateway:
    """Base of a fake gateway: the transport faults, the envelope check and the refusals."""

    paths: tuple[str, ...] = ()
    hang_mode = "hang"

    def __init__(self, apps: dict[str, str], max_skew: int = 300) -> None:
        self.apps = apps
        self.max_skew = max_skew
        self.mode = "normal"
        self.hang_seconds = 2.0
        self.release = threading.Event()
        self.rejections: list[str] = []
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    def _reject(self, status: int, reason: str) -> Response:
        with self._lock:
            self.rejections.append(reason)
        return Response(json.dumps({"error": reason}), status=status, mimetype="application/json")

    def _authenticate(self, request: Request, body: bytes) -> tuple[str, str, Response | None]:
        """(the app's secret, the nonce, None) for a good envelope; ("", "", a 401/415 refusal) otherwise."""
        secret = self.apps.get(request.headers.get("X-App-Id", ""))
        if secret is None:
            return "", "", self._reject(401, "unknown_app")
        ts, nonce = request.headers.get("X-Timestamp", ""), request.headers.get("X-Nonce", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > self.max_skew:
            return "", "", self._reject(401, "timestamp_skew")
        if not _NONCE.fullmatch(nonce):
            return "", "", self._reject(401, "bad_nonce")
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return "", "", self._reject(415, "not_json")
        to_sign = f"{request.method}\n{request.path}\n{ts}\n{nonce}\n{sm3_hex(body)}"
        if not hmac.compare_digest(hmac_sm3(secret, to_sign), request.headers.get("X-Signature", "")):
            return "", "", self._reject(401, "bad_signature")
        now = time.time()
        with self._lock:
            self._nonces = {n: t for n, t in self._nonces.items() if now - t <= self.max_skew}
            reused = nonce in self._nonces
            self._nonces[nonce] = now
        if reused:
            return "", "", self._reject(401, "nonce_reused")
        return secret, nonce, None

    def _fault_mode(self) -> str:
        return self.mode

    def _serve(self, request: Request, data: Any, secret: str, nonce: str) -> Response:
        """The answer to an authenticated request whose body decoded to `data` (any JSON value)."""
        raise NotImplementedError

    def _handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path not in self.paths:
            return self._reject(404, "not_found")
        if self._fault_mode() == self.hang_mode:
            self.release.wait(self.hang_seconds)
        if self._fault_mode() == "error500":
            return Response("internal error", status=500)
        body = request.get_data(cache=True)
        secret, nonce, rejection = self._authenticate(request, body)
        if rejection is not None:
            return rejection
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError:
            return self._reject(400, "bad_body")
        return self._serve(request, data, secret, nonce)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._handle(Request(environ))(environ, start_response)
