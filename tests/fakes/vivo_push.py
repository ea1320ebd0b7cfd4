"""Fake vivo push server API (`/message/auth`, `/message/send`) as a WSGI app for
`tests.fakes.server.FakeServer`. It checks what the real one checks — the md5 sign over appId +
appKey + timestamp + appSecret (lowercase hex), a timestamp within 10 minutes, the authToken
header, the appId of the body matching the token's (10094), the length rules (a Chinese character
counts 2) — and that progress notices are system messages (classification 1) with a service
category; it answers vivo's results: 10000 authentication failed, 10070 the day's total used up,
10302 regId not valid, `invalidUser` for an uninstalled app. Independent of the adapter."""
from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from typing import Any, Callable

from werkzeug.wrappers import Request, Response

SERVICE_CATEGORIES = frozenset({"IM", "ACCOUNT", "TODO", "DEVICE_REMINDER", "ORDER", "SUBSCRIPTION"})


def _json(payload: Any) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=200, mimetype="application/json")


def _units(text: str) -> int:
    return sum(1 if c.isascii() else 2 for c in text)


class FakeVivoPush:
    def __init__(self, *, app_id: int, app_key: str, app_secret: str, clock: Callable[[], float] = time.time) -> None:
        self.app_id, self.app_key, self.app_secret = app_id, app_key, app_secret
        self.clock = clock
        self.tokens: set[str] = set()
        self.auth_requests: list[dict] = []
        self.refused_auth: list[int] = []
        self.sent: list[dict] = []  # delivered (once per requestId)
        self.dead_ids: set[str] = set()  # answered 10302
        self.uninstalled: set[str] = set()  # answered with invalidUser status 2
        self.quota: int | None = None
        self.fail_next: list[int] = []
        self.sends_after_quota = 0  # /message/send calls after a 10070 the same day (vivo asks for none)
        self._quota_hit = False
        self._by_request: dict[str, str] = {}
        self._lock = threading.Lock()

    def revoke_all(self) -> None:
        self.tokens.clear()

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            body = None
        if request.method != "POST" or not isinstance(body, dict) or request.mimetype != "application/json":
            answer = {"result": 10050, "desc": "请求参数不合法"}
        elif request.path == "/message/auth":
            answer = self._auth(body)
        elif request.path == "/message/send":
            answer = self._send(request, body)
        else:
            answer = {"result": 10404, "desc": "no such interface"}
        return _json(answer)(environ, start_response)

    def _auth(self, body: dict) -> dict:
        self.auth_requests.append(body)
        timestamp = body.get("timestamp")
        raw = f"{body.get('appId')}{body.get('appKey')}{timestamp}{self.app_secret}"
        if body.get("appId") != self.app_id or body.get("appKey") != self.app_key:
            code, text = 10200, "appId 或 appKey 不合法"
        elif not isinstance(timestamp, int) or abs(timestamp - self.clock() * 1000) > 600_000:
            code, text = 10203, "timestamp 不合法"
        elif body.get("sign") != hashlib.md5(raw.encode()).hexdigest():
            code, text = 10205, "sign 不合法"
        else:
            token = uuid.uuid4().hex
            self.tokens.add(token)
            return {"result": 0, "desc": "请求成功", "authToken": token}
        self.refused_auth.append(code)
        return {"result": code, "desc": text}

    def _send(self, request: Request, body: dict) -> dict:
        if request.headers.get("authToken") not in self.tokens:
            return {"result": 10000, "desc": "权限认证失败"}
        if body.get("appId") != self.app_id:
            return {"result": 10094, "desc": "appId 与鉴权信息不一致"}
        if self.fail_next:
            return {"result": self.fail_next.pop(0), "desc": "fault injected"}
        problem = self._problem(body)
        if problem:
            return {"result": 10055, "desc": f"{problem} 不合法"}
        reg_id = body["regId"]
        with self._lock:
            if reg_id in self.dead_ids:
                return {"result": 10302, "desc": "regId 不合法"}
            if reg_id in self.uninstalled:
                return {"result": 0, "desc": "请求成功", "invalidUser": {"userid": reg_id, "status": 2}}
            if body["requestId"] in self._by_request:
                return {"result": 0, "desc": "请求成功", "taskId": self._by_request[body["requestId"]]}
            if self.quota is not None and self.quota <= 0:
                self.sends_after_quota += self._quota_hit
                self._quota_hit = True
                return {"result": 10070, "desc": "发送总量超出限制"}
            if self.quota is not None:
                self.quota -= 1
            task = str(uuid.uuid4().int)[:18]
            self._by_request[body["requestId"]] = task
            self.sent.append(body)
        return {"result": 0, "desc": "请求成功", "taskId": task}

    @staticmethod
    def _problem(body: dict) -> str | None:
        if not body.get("regId"):
            return "regId"
        if body.get("notifyType") not in (1, 2, 3, 4):
            return "notifyType"
        if not body.get("title") or _units(body["title"]) > 40:
            return "title"
        if not body.get("content") or _units(body["content"]) > 100:
            return "content"
        if body.get("skipType") not in (1, 2, 3, 4) or (body["skipType"] in (2, 3, 4) and not body.get("skipContent")):
            return "skipType/skipContent"
        if not body.get("requestId") or len(body["requestId"]) > 64:
            return "requestId"
        if body.get("classification") != 1 or body.get("category") not in SERVICE_CATEGORIES:
            return "classification/category"
        ttl = body.get("timeToLive")
        if ttl is not None and not 60 <= ttl <= 7 * 86400:
            return "timeToLive"
        custom = body.get("clientCustomMap") or {}
        if len(custom) > 10 or not all(isinstance(v, str) for v in custom.values()):
            return "clientCustomMap"
        return None
