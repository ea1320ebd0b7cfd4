"""Fake Xiaomi MiPush server API: `POST /v3/message/regid`, as a WSGI app for
`tests.fakes.server.FakeServer`.

It checks what the real service checks — `Authorization: key=<AppSecret>` (lower-case "key"), a form
body (not JSON) with registration_id, restricted_package_name, title (< 50 characters) and
description (< 128) for a notification-bar message (pass_through=0), notify_type, and
`extra.channel_id` naming a registered channel (refused without one since 2024-11-04) — and answers
MiPush's shapes: code 0 (with `data.bad_regids` for unknown regids among several), 20301 (no valid
target), 21301 (auth failed), 10017 (bad parameter), 10037 (rate limited), 200001 (daily quota).
Independent of the adapter (no imports from notify/).
"""
from __future__ import annotations

import json
import secrets
import threading
from typing import Any

from werkzeug.wrappers import Request, Response


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


def _error(code: int, reason: str) -> Response:
    return _json({"result": "error", "code": code, "reason": reason, "description": reason,
                  "trace_id": secrets.token_hex(8)})


class FakeXiaomiPush:
    def __init__(self, *, app_secret: str, package: str, channel_ids: set[str]) -> None:
        self.app_secret, self.package, self.channel_ids = app_secret, package, channel_ids
        self.messages: list[dict[str, str]] = []
        self.unknown_regids: set[str] = set()
        self.fail_next: list[int] = []  # MiPush codes to answer next (10037 rate limit, 200001 daily quota)
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path != "/v3/message/regid" or request.method != "POST":
            answer = _error(10017, "invalid url")
        elif request.headers.get("Authorization") != f"key={self.app_secret}":
            answer = _error(21301, "认证失败")
        else:
            answer = self._send(request)
        return answer(environ, start_response)

    def _send(self, request: Request) -> Response:
        if not request.content_type.startswith("application/x-www-form-urlencoded"):
            return _error(10017, "parameter must be form-urlencoded")
        form = request.form.to_dict()
        if self.fail_next:
            code = self.fail_next.pop(0)
            return _error(code, "daily quota exceeded" if code == 200001 else "too many requests")
        if form.get("restricted_package_name") != self.package:
            return _error(10017, "restricted_package_name invalid")
        if form.get("pass_through") != "0" or "notify_type" not in form:
            return _error(10017, "pass_through/notify_type invalid")
        title, description = form.get("title", ""), form.get("description", "")
        if not title.strip() or len(title) >= 50 or not description.strip() or len(description) >= 128:
            return _error(10017, "title or description invalid")
        if form.get("extra.channel_id") not in self.channel_ids:
            return _error(10017, "extra.channel_id is required for this message category")
        try:
            json.loads(form.get("payload", "{}"))
        except ValueError:
            return _error(10017, "payload invalid")
        regids = [r for r in form.get("registration_id", "").split(",") if r]
        if not regids:
            return _error(10017, "registration_id required")
        bad = [r for r in regids if r in self.unknown_regids]
        if len(bad) == len(regids):
            return _error(20301, "No valid targets")
        with self._lock:
            self.messages.append(form)
        data = {"id": "slm" + secrets.token_hex(10)}
        if bad:
            data["bad_regids"] = ",".join(bad)
        return _json({"result": "ok", "code": 0, "description": "成功", "data": data,
                      "info": f"Received push messages for {len(regids)} REGID", "trace_id": secrets.token_hex(8)})
