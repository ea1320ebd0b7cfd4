"""Fake WeChat mini-program API (jscode2session, cgi-bin/token, getuserphonenumber).

Independent of the adapter.  Configure with:

* ``sessions``: ``{js_code: {"openid", "session_key", "unionid"?}}`` (one-time:
  reuse answers 40163).
* ``phone_codes``: ``{code: "13812345678"}`` (one-time: reuse answers 40029).
* ``error_codes``: ``{code: errcode}`` to answer e.g. 40029/45011/-1.
* ``expire_token(token)`` / ``invalidate_token(token)``: make a token answer
  42001 / 40001.
* ``watermark_appid``: override the appid in the phone watermark.
* ``hang_seconds``, ``non_json``: transport-level failures.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response


class FakeWeChat:
    """WSGI app emulating https://api.weixin.qq.com for one mini-program."""

    def __init__(self, appid: str, secret: str, expires_in: int = 7200) -> None:
        self.appid = appid
        self.secret = secret
        self.expires_in = expires_in
        self.sessions: dict[str, dict[str, str]] = {}
        self.phone_codes: dict[str, str] = {}
        self.error_codes: dict[str, int] = {}
        self.watermark_appid: str | None = None
        self.hang_seconds = 0.0
        self.non_json = False
        self.release = threading.Event()
        self.tokens: dict[str, str] = {}  # token -> "valid" | "expired" | "invalid"
        self.tokens_issued: list[str] = []
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def expire_token(self, token: str) -> None:
        self.tokens[token] = "expired"

    def invalidate_token(self, token: str) -> None:
        self.tokens[token] = "invalid"

    @staticmethod
    def _json(payload: dict[str, Any]) -> Response:
        # WeChat often labels JSON as text/plain.
        return Response(json.dumps(payload, ensure_ascii=False), status=200, mimetype="text/plain")

    @staticmethod
    def _err(errcode: int, errmsg: str) -> Response:
        return FakeWeChat._json({"errcode": errcode, "errmsg": f"{errmsg} rid: {secrets.token_hex(4)}"})

    def _check_app(self, args: dict[str, str], grant_type: str) -> Response | None:
        if args.get("appid") != self.appid:
            return self._err(40013, "invalid appid")
        if args.get("secret") != self.secret:
            return self._err(40125, "invalid appsecret")
        if args.get("grant_type") != grant_type:
            return self._err(40002, "invalid grant_type")
        return None

    def _consume(self, code: str) -> bool:
        """Mark ``code`` used; return False if it had been used already."""
        with self._lock:
            if code in self._used:
                return False
            self._used.add(code)
            return True

    def _jscode2session(self, args: dict[str, str]) -> Response:
        bad = self._check_app(args, "authorization_code")
        if bad is not None:
            return bad
        code = args.get("js_code", "")
        if code in self.error_codes:
            return self._err(self.error_codes[code], "configured error")
        if code not in self.sessions:
            return self._err(40029, "invalid code")
        if not self._consume(code):
            return self._err(40163, "code been used")
        return self._json(dict(self.sessions[code]))

    def _token(self, args: dict[str, str]) -> Response:
        bad = self._check_app(args, "client_credential")
        if bad is not None:
            return bad
        token = "TOKEN_" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = "valid"
            self.tokens_issued.append(token)
        return self._json({"access_token": token, "expires_in": self.expires_in})

    def _phone(self, request: Request) -> Response:
        if request.method != "POST":
            return self._err(43002, "require POST method")
        token = request.args.get("access_token")
        if not token:
            return self._err(41001, "access_token missing")
        state = self.tokens.get(token, "invalid")
        if state == "expired":
            return self._err(42001, "access_token expired")
        if state != "valid":
            return self._err(40001, "invalid credential, access_token is invalid or not latest")
        try:
            code = json.loads(request.get_data(cache=True))["code"]
        except (ValueError, KeyError, TypeError):
            return self._err(47001, "data format error")
        if code in self.error_codes:
            return self._err(self.error_codes[code], "configured error")
        if code not in self.phone_codes or not self._consume("phone:" + code):
            return self._err(40029, "invalid code")
        phone = self.phone_codes[code]
        return self._json({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
            "watermark": {"appid": self.watermark_appid or self.appid, "timestamp": int(time.time())},
        }})

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if self.hang_seconds:
            self.release.wait(self.hang_seconds)
        if self.non_json:
            return Response("<html>502 Bad Gateway</html>", status=200, mimetype="text/html")(environ, start_response)
        args = dict(request.args.items())
        if request.path == "/sns/jscode2session" and request.method == "GET":
            response = self._jscode2session(args)
        elif request.path == "/cgi-bin/token" and request.method == "GET":
            response = self._token(args)
        elif request.path == "/wxa/business/getuserphonenumber":
            response = self._phone(request)
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)
