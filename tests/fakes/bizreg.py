"""Fake business-registry gateway ("BIZREG gateway v1", orgs/adapters/bizreg.py).

Re-implements the envelope checks with stdlib ``hmac``/``hashlib`` SM3 (independent from the
adapter, which uses ``cryptography``) and refuses what it should: an unknown app, a stale
timestamp, a reused nonce, a wrong signature, a body that is not the protocol's. Knobs:

* ``entities``: ``{uscc: {"name", "entity_type", "status", "region_code", "lr_name", "lr_id_number"}}``;
* ``mode``: ``"normal"``, ``"hang"`` (waits ``hang_seconds``), ``"error500"``, ``"wrong_key"`` (replies signed
  with another key), ``"unsigned"``, ``"echo_wrong_id"``, ``"other_uscc"`` (answers for another code),
  ``"bad_status"`` (status "7"), ``"bad_flag"`` (a match flag "1" as a string).

``calls`` lists ``(path, payload)`` of every authenticated request; ``rejections`` the reasons refused.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

LOOKUP = "/v1/market-entities/lookup"
VERIFY = "/v1/market-entities/legal-representative/verify"


def sm3_hex(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def hmac_sm3(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), lambda: hashlib.new("sm3")).hexdigest()


class FakeBizreg:
    def __init__(self, apps: dict[str, str], entities: dict[str, dict[str, str]] | None = None,
                 max_skew: int = 300) -> None:
        self.apps = apps
        self.entities = dict(entities or {})
        self.max_skew = max_skew
        self.mode = "normal"
        self.hang_seconds = 2.0
        self.release = threading.Event()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rejections: list[str] = []
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    def _reject(self, status: int, reason: str) -> Response:
        with self._lock:
            self.rejections.append(reason)
        return Response(json.dumps({"error": reason}), status=status, mimetype="application/json")

    def _authenticate(self, request: Request, body: bytes) -> tuple[str, Response | None]:
        secret = self.apps.get(request.headers.get("X-App-Id", ""))
        if secret is None:
            return "", self._reject(401, "unknown_app")
        ts, nonce = request.headers.get("X-Timestamp", ""), request.headers.get("X-Nonce", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > self.max_skew:
            return "", self._reject(401, "timestamp_skew")
        if len(nonce) != 32 or any(c not in "0123456789abcdef" for c in nonce):
            return "", self._reject(401, "bad_nonce")
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return "", self._reject(415, "not_json")
        to_sign = f"POST\n{request.path}\n{ts}\n{nonce}\n{sm3_hex(body)}"
        if not hmac.compare_digest(hmac_sm3(secret, to_sign), request.headers.get("X-Signature", "")):
            return "", self._reject(401, "bad_signature")
        now = time.time()
        with self._lock:
            self._nonces = {n: t for n, t in self._nonces.items() if now - t <= self.max_skew}
            reused = nonce in self._nonces
            self._nonces[nonce] = now
        if reused:
            return "", self._reject(401, "nonce_reused")
        return secret, None

    def _lookup(self, data: dict[str, Any]) -> dict[str, Any]:
        uscc = data["uscc"]
        found = self.entities.get(uscc)
        if found is None:
            return {"found": False}
        entity = {"uscc": "91110000600037341L" if self.mode == "other_uscc" else uscc, "name": found["name"],
                  "entity_type": found.get("entity_type", "有限责任公司"),
                  "status": "7" if self.mode == "bad_status" else found.get("status", "1"),
                  "region_code": found.get("region_code", uscc[2:8]), "established_on": "2019-05-20",
                  "legal_representative": {"name": found["lr_name"]}, "updated_at": "2026-12-01T08:00:00+08:00"}
        return {"found": True, "entity": entity}

    def _verify(self, data: dict[str, Any]) -> dict[str, Any]:
        found = self.entities.get(data["uscc"])
        if found is None:
            return {"uscc_match": 0, "name_match": -1, "lr_name_match": -1, "lr_id_match": -1}
        flags = {"uscc_match": 1, "name_match": int(found["name"] == data["name"]),
                 "lr_name_match": int(found["lr_name"] == data["lr_name"]),
                 "lr_id_match": int(found["lr_id_number"] == data["id_number"])}
        if self.mode == "bad_flag":
            flags["lr_id_match"] = "1"
        return flags

    def _handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path not in (LOOKUP, VERIFY):
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
            request_id = data["request_id"]
            needed = ("uscc",) if request.path == LOOKUP else ("uscc", "name", "lr_name", "id_number")
            if not all(isinstance(data[k], str) and data[k] for k in needed) or set(data) != {*needed, "request_id"}:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self._reject(400, "bad_body")
        with self._lock:
            self.calls.append((request.path, data))
        answer = self._lookup(data) if request.path == LOOKUP else self._verify(data)
        if self.mode == "echo_wrong_id":
            request_id = "a" * 24
        reply = json.dumps({"request_id": request_id, **answer}, ensure_ascii=False).encode()
        key = "not-the-shared-secret" if self.mode == "wrong_key" else secret
        headers = {} if self.mode == "unsigned" else {"X-Signature": hmac_sm3(key, f"{request_id}\n{sm3_hex(reply)}")}
        return Response(reply, status=200, mimetype="application/json", headers=headers)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._handle(Request(environ))(environ, start_response)
