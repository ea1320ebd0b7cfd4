"""Fake FCM HTTP v1 (with Google's OAuth2 token endpoint), JPush v3 and WeChat subscribe-message
APIs, as WSGI apps for `tests.fakes.server.FakeServer`. Each checks what it receives the way the
real service does (signatures, JWT claims, auth, body shape, field limits) and answers the real
error shapes, dead tokens included. Independent of the adapters (no imports from notify/)."""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from typing import Any

import jwt
from werkzeug.wrappers import Request, Response


def _json(payload: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype=mimetype)


class FakeFcm:
    """`POST /token` (JWT bearer grant) and `POST /v1/projects/<p>/messages:send`."""

    SCOPE = "https://www.googleapis.com/auth/firebase.messaging"

    def __init__(self, *, project_id: str, client_email: str, public_key_pem: str) -> None:
        self.project_id, self.client_email, self.public_key = project_id, client_email, public_key_pem
        self.token_uri = ""  # set once the server's URL is known
        self.access_tokens: set[str] = set()
        self.assertions: list[dict] = []
        self.messages: list[dict] = []
        self.unregistered: set[str] = set()
        self.fail_next: list[int] = []
        self._lock = threading.Lock()

    def revoke_all(self) -> None:
        self.access_tokens.clear()

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/token":
            return self._token(request)(environ, start_response)
        if request.path == f"/v1/projects/{self.project_id}/messages:send" and request.method == "POST":
            return self._send(request)(environ, start_response)
        return _json({"error": {"code": 404, "status": "NOT_FOUND", "message": "no such method"}}, 404)(
            environ, start_response)

    def _token(self, request: Request) -> Response:
        if request.form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return _json({"error": "unsupported_grant_type"}, 400)
        try:
            claims = jwt.decode(request.form.get("assertion", ""), self.public_key, algorithms=["RS256"],
                                audience=self.token_uri)
        except jwt.PyJWTError as exc:
            return _json({"error": "invalid_grant", "error_description": str(exc)}, 400)
        if claims.get("iss") != self.client_email or claims.get("scope") != self.SCOPE \
                or claims["exp"] - claims["iat"] > 3600:
            return _json({"error": "invalid_grant", "error_description": "bad claims"}, 400)
        token = "ya29." + secrets.token_urlsafe(24)
        with self._lock:
            self.assertions.append(claims)
            self.access_tokens.add(token)
        return _json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    @staticmethod
    def _error(status: int, code: str, message: str, error_code: str | None = None) -> Response:
        error: dict[str, Any] = {"code": status, "status": code, "message": message}
        if error_code:
            error["details"] = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                 "errorCode": error_code}]
        return _json({"error": error}, status)

    def _send(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            return self._error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if self.fail_next:
            status = self.fail_next.pop(0)
            return self._error(status, "UNAVAILABLE" if status >= 500 else "RESOURCE_EXHAUSTED", "try later",
                               "UNAVAILABLE" if status >= 500 else "QUOTA_EXCEEDED")
        try:
            message = json.loads(request.get_data())["message"]
            token = message["token"]
            assert set(message["notification"]) <= {"title", "body", "image"}
            assert all(isinstance(v, str) for v in message.get("data", {}).values())
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if token in self.unregistered:
            return self._error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        with self._lock:
            self.messages.append(message)
        return _json({"name": f"projects/{self.project_id}/messages/{uuid.uuid4().hex}"})


class FakeJPush:
    """`GET /v3/push/cid` and `POST /v3/push` (Basic auth; a cid already used returns the first
    answer and delivers nothing again)."""

    def __init__(self, *, app_key: str, master_secret: str) -> None:
        self.app_key, self.master_secret = app_key, master_secret
        self.issued_cids: set[str] = set()
        self.by_cid: dict[str, dict] = {}
        self.pushes: list[dict] = []  # delivered (first time per cid)
        self.dead_ids: set[str] = set()
        self._lock = threading.Lock()

    def _authorised(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.app_key}:{self.master_secret}".encode()).decode()
        return request.headers.get("Authorization") == expected

    def __call__(self, environ, start_response):
        request = Request(environ)
        if not self._authorised(request):
            answer = _json({"error": {"code": 1004, "message": "Authen failed"}}, 401)
        elif request.path == "/v3/push/cid" and request.method == "GET":
            count = min(int(request.args.get("count", "1")), 1000)
            cids = [f"{self.app_key}-{uuid.uuid4()}" for _ in range(count)]
            self.issued_cids.update(cids)
            answer = _json({"cidlist": cids})
        elif request.path == "/v3/push" and request.method == "POST":
            answer = self._push(json.loads(request.get_data()))
        else:
            answer = _json({"error": {"code": 1003, "message": "path"}}, 404)
        return answer(environ, start_response)

    def _push(self, body: dict) -> Response:
        cid = body.get("cid")
        if cid is not None and cid not in self.issued_cids:
            return _json({"error": {"code": 1003, "message": "cid invalid"}}, 400)
        ids = body.get("audience", {}).get("registration_id", [])
        if not ids or "notification" not in body or body.get("options", {}).get("classification") not in (0, 1):
            return _json({"error": {"code": 1003, "message": "Parameter value is invalid"}}, 400)
        with self._lock:
            if cid in self.by_cid:
                return _json(self.by_cid[cid])
            if any(i in self.dead_ids for i in ids):
                return _json({"error": {"code": 1011, "message": "cannot find user by this audience"}}, 400)
            answer = {"sendno": "0", "msg_id": str(int(time.time() * 1000))}
            self.by_cid[cid] = answer
            self.pushes.append(body)
        return _json(answer)


class FakeWeChatSubscribe:
    """`GET /cgi-bin/token` and `POST /cgi-bin/message/subscribe/send` with the field limits."""

    LIMITS = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32}

    def __init__(self, *, appid: str, secret: str, template_id: str) -> None:
        self.appid, self.secret, self.template_id = appid, secret, template_id
        self.tokens: set[str] = set()
        self.sent: list[dict] = []
        self.refused: set[str] = set()  # openids answered 43101

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/cgi-bin/token":
            args = request.args
            if args.get("appid") != self.appid or args.get("secret") != self.secret:
                answer = {"errcode": 40013, "errmsg": "invalid appid"}
            else:
                token = secrets.token_urlsafe(32)
                self.tokens.add(token)
                answer = {"access_token": token, "expires_in": 7200}
        elif request.path == "/cgi-bin/message/subscribe/send":
            answer = self._send(request)
        else:
            answer = {"errcode": 40066, "errmsg": "invalid url"}
        return _json(answer, mimetype="text/plain")(environ, start_response)

    def _send(self, request: Request) -> dict:
        if request.args.get("access_token") not in self.tokens:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        body = json.loads(request.get_data())
        if body.get("template_id") != self.template_id:
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        for key, value in body.get("data", {}).items():
            limit = self.LIMITS.get(key.rstrip("0123456789"))
            if limit is not None and len(value["value"]) > limit:
                return {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value"}
        if body.get("touser") in self.refused:
            return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
        self.sent.append(body)
        return {"errcode": 0, "errmsg": "ok"}
