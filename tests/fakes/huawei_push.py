"""Fake Huawei Push Kit: the OAuth 2.0 token endpoint (client credentials) and
`POST /v1/<appId>/messages:send`, as a WSGI app for `tests.fakes.server.FakeServer`.

It checks what the real service checks — the client id and secret, the Bearer token, the app id in
the path, the body shape (`validate_only`, `message.token` a list of 1–1000, `android.notification`
with title/body/click_action, a service `category`, `urgency` NORMAL|HIGH, `ttl` "<n>s", `data` a
string, the 4096-byte limit) — and answers Huawei's codes: 80000000, 80100000 (some tokens
illegal), 80200003 (expired token, HTTP 401), 80300007 (all tokens invalid), 80300008 (too large),
503 (traffic control). Independent of the adapter (no imports from notify/).
"""
from __future__ import annotations

import json
import re
import secrets
import threading
from typing import Any

from werkzeug.wrappers import Request, Response

SERVICE_CATEGORIES = frozenset({"IM", "VOIP", "SUBSCRIPTION", "TRAVEL", "HEALTH", "WORK", "ACCOUNT", "EXPRESS",
                                "FINANCE", "DEVICE_REMINDER", "MAIL"})
TTL = re.compile(r"\d+(\.\d+)?s")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


class FakeHuaweiPush:
    """`POST /oauth2/v3/token` and `POST /v1/<app id>/messages:send`."""

    def __init__(self, *, app_id: str, client_secret: str) -> None:
        self.app_id, self.client_secret = app_id, client_secret
        self.access_tokens: set[str] = set()
        self.token_requests = 0
        self.messages: list[dict] = []
        self.invalid_tokens: set[str] = set()  # answered 80300007
        self.fail_next: list[int] = []  # HTTP statuses to answer next (503 = traffic control)
        self._lock = threading.Lock()

    def expire_all(self) -> None:
        self.access_tokens.clear()

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/oauth2/v3/token" and request.method == "POST":
            answer = self._token(request)
        elif request.path == f"/v1/{self.app_id}/messages:send" and request.method == "POST":
            answer = self._send(request)
        else:
            answer = _json({"code": "80100001", "msg": "Some request parameters are incorrect"}, 404)
        return answer(environ, start_response)

    def _token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return _json({"error": 1102, "sub_error": 20003, "error_description": "unsupported grant_type"}, 400)
        if form.get("client_id") != self.app_id or form.get("client_secret") != self.client_secret:
            return _json({"error": 1101, "sub_error": 20117, "error_description": "invalid client"}, 400)
        token = secrets.token_urlsafe(32) + "=="
        with self._lock:
            self.token_requests += 1
            self.access_tokens.add(token)
        return _json({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    @staticmethod
    def _code(code: str, msg: str, status: int = 400) -> Response:
        return _json({"code": code, "msg": msg, "requestId": secrets.token_hex(8)}, status)

    def _send(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            return self._code("80200003", "OAuth token expired", 401)
        if self.fail_next:
            return self._code("81000001", "System inner error" if self.fail_next[0] != 503 else "flow control",
                              self.fail_next.pop(0))
        raw = request.get_data()
        if len(raw) > 4096 + 1024:  # 4096 bytes of message, tokens excluded (one token here)
            return self._code("80300008", "The message body size exceeds the default value")
        try:
            body = json.loads(raw)
            message = body["message"]
            tokens = message["token"]
            android = message["android"]
            notification = android["notification"]
            assert body.get("validate_only") is False
            assert isinstance(tokens, list) and 1 <= len(tokens) <= 1000
            assert android["category"] in SERVICE_CATEGORIES, "category"
            assert android["urgency"] in ("NORMAL", "HIGH")
            assert "ttl" not in android or TTL.fullmatch(android["ttl"])
            assert notification["title"] and notification["body"]
            action = notification["click_action"]
            assert action["type"] == 1 and action["intent"].startswith("intent://") and "#Intent;" in action["intent"]
            assert isinstance(message.get("data", ""), str)
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            return self._code("80100003", f"Illegal payload: {exc}")
        invalid = [t for t in tokens if t in self.invalid_tokens]
        if invalid and len(invalid) == len(tokens):
            return self._code("80300007", "All the tokens are invalid")
        with self._lock:
            self.messages.append(message)
        if invalid:
            return self._code("80100000", json.dumps({"success": len(tokens) - len(invalid),
                                                      "failure": len(invalid), "illegal_tokens": invalid}), 200)
        return self._code("80000000", "Success", 200)
