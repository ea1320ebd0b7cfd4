"""Fake OPPO PUSH server API (`/server/v1/auth`, `/server/v1/message/notification/unicast`) as a WSGI
app for `tests.fakes.server.FakeServer`. It checks what the real one checks — the sha256 sign over
app_key + timestamp + master_secret, a timestamp within 10 minutes, the auth_token, a form body with
a JSON `message` — and what the 2024-11-20 classification rules need (a service `category`, the
private channel id, `notify_level` only with a category), and answers OPPO's codes: 11 Invalid
AuthToken, 16 Invalid Signature, 33 daily limit, 10000 invalid registration id, -2 flow control.
Independent of the adapter (no imports from notify/)."""
from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from typing import Any, Callable

from werkzeug.wrappers import Request, Response

SERVICE_CATEGORIES = frozenset({"IM", "ACCOUNT", "DEVICE_REMINDER", "ORDER", "TODO", "SUBSCRIPTION"})
MARKETING_CATEGORIES = frozenset({"NEWS", "CONTENT", "MARKETING", "SOCIAL"})


def _json(payload: Any) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=200, mimetype="application/json")


class FakeOppoPush:
    def __init__(self, *, app_key: str, master_secret: str, channel_id: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.app_key, self.master_secret, self.channel_id = app_key, master_secret, channel_id
        self.clock = clock
        self.tokens: set[str] = set()
        self.auth_requests: list[dict] = []
        self.refused_auth: list[int] = []  # codes of refused auth calls (16 wrong sign …)
        self.messages: list[dict] = []  # delivered (once per target and app_message_id)
        self.dead_ids: set[str] = set()
        self.quota: int | None = None  # messages left today (None: unlimited)
        self.fail_next: list[int] = []  # codes to answer the next sends with
        self._seen: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def revoke_all(self) -> None:
        self.tokens.clear()

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.method != "POST":
            answer = {"code": 12, "message": "Http Action Not Allowed"}
        elif request.path == "/server/v1/auth":
            answer = self._auth(request)
        elif request.path == "/server/v1/message/notification/unicast":
            answer = self._unicast(request)
        else:
            answer = {"code": 20, "message": "Invalid Method"}
        return _json(answer)(environ, start_response)

    def _auth(self, request: Request) -> dict:
        form = request.form
        self.auth_requests.append(dict(form))
        timestamp = form.get("timestamp", "")
        expected = hashlib.sha256(f"{self.app_key}{timestamp}{self.master_secret}".encode()).hexdigest()
        if form.get("app_key") != self.app_key:
            code, text = 14, "Invalid App Key"
        elif not timestamp.isdigit() or abs(int(timestamp) - self.clock() * 1000) > 600_000:
            code, text = 19, "Invalid Timestamp"
        elif form.get("sign") != expected:
            code, text = 16, "Invalid Signature"
        else:
            token = str(uuid.uuid4())
            self.tokens.add(token)
            return {"code": 0, "message": "Success", "data": {"auth_token": token, "create_time": int(timestamp)}}
        self.refused_auth.append(code)
        return {"code": code, "message": text}

    def _unicast(self, request: Request) -> dict:
        if request.mimetype != "application/x-www-form-urlencoded":
            return {"code": 41, "message": "Invalid Arguments (form body expected)"}
        token = request.headers.get("auth_token") or request.form.get("auth_token")
        if not token:
            return {"code": 29, "message": "Missing Auth Token"}
        if token not in self.tokens:
            return {"code": 11, "message": "Invalid AuthToken"}
        if self.fail_next:
            return {"code": self.fail_next.pop(0), "message": "fault injected"}
        try:
            message = json.loads(request.form["message"])
            problem = self._problem(message)
        except (KeyError, ValueError, TypeError, AttributeError):
            problem = "message is not the documented JSON"
        if problem:
            return {"code": 41, "message": f"Invalid Arguments: {problem}"}
        target, notification = message["target_value"], message["notification"]
        with self._lock:
            if target in self.dead_ids:
                return {"code": 10000, "message": "Invalid RegistrationId"}
            seen = self._seen.get((target, notification.get("app_message_id", "")))
            if seen:
                return {"code": 0, "message": "Success", "data": {"messageId": seen}}
            if self.quota is not None and self.quota <= 0:
                return {"code": 33, "message": "The number of messages exceeds the daily limit"}
            if self.quota is not None:
                self.quota -= 1
            message_id = uuid.uuid4().hex
            if notification.get("app_message_id"):
                self._seen[(target, notification["app_message_id"])] = message_id
            self.messages.append(message)
        return {"code": 0, "message": "Success", "data": {"messageId": message_id}}

    def _problem(self, message: dict) -> str | None:
        notification = message["notification"]
        if message.get("target_type") != 2 or not message.get("target_value"):
            return "target_type 2 with a registration id"
        if not notification.get("title") or len(notification["title"]) > 50:
            return "title (1–50 characters)"
        if not notification.get("content") or len(notification["content"]) > 128:
            return "content (1–128 characters)"
        if notification.get("category") in MARKETING_CATEGORIES:
            return "a marketing category on the private channel"
        if notification.get("category") not in SERVICE_CATEGORIES:
            return "category (the 2024-11-20 classification)"
        if notification.get("channel_id") != self.channel_id:
            return "channel_id (the private channel)"
        if notification.get("notify_level") not in (None, 1, 2, 16):
            return "notify_level"
        if notification.get("click_action_type") == 5 and not notification.get("click_action_url"):
            return "click_action_url with click_action_type 5"
        return None
