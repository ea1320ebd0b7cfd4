"""Fake Alibaba Cloud SMS ``SendSms`` (dysmsapi 2017-05-25, RPC, HMAC-SHA1).

Independently re-implements Aliyun POP signature checking (does not import
the adapter).  Knobs:

* ``fail_with_503``: answer HTTP 503 to the next N valid requests.
* ``force_code``: answer every valid request with this ``Code``.
* ``hang_seconds``: sleep before answering (for timeout tests).

``sent`` lists the messages actually accepted (phone, sign, template, params).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

REQUIRED = (
    "Action", "Version", "Format", "AccessKeyId", "SignatureMethod", "SignatureVersion",
    "SignatureNonce", "Timestamp", "Signature", "PhoneNumbers", "SignName", "TemplateCode",
)
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def pop_encode(text: str) -> str:
    """Byte-wise RFC 3986 encoding as documented by Aliyun (independent impl)."""
    out = []
    for byte in text.encode("utf-8"):
        out.append(chr(byte) if byte in _UNRESERVED else "%%%02X" % byte)
    return "".join(out)


def expected_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Compute the POP v1 signature the way Aliyun's server would."""
    items = [(pop_encode(k), pop_encode(v)) for k, v in params.items() if k != "Signature"]
    items.sort(key=lambda kv: kv[0])
    query = "&".join(k + "=" + v for k, v in items)
    to_sign = method + "&" + pop_encode("/") + "&" + pop_encode(query)
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class FakeAliyunSms:
    """WSGI app emulating ``POST https://dysmsapi.aliyuncs.com/`` with ``Action=SendSms``."""

    def __init__(self, access_keys: dict[str, str], max_skew_seconds: int = 900) -> None:
        self.access_keys = access_keys
        self.max_skew_seconds = max_skew_seconds
        self.fail_with_503 = 0
        self.force_code: str | None = None
        self.hang_seconds = 0.0
        self.release = threading.Event()
        self.sent: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._nonces: set[str] = set()
        self._lock = threading.Lock()

    def _reply(self, status: int, code: str, message: str, **extra: str) -> Response:
        body = {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message, **extra}
        with self._lock:
            if code != "OK":
                self.errors.append(code)
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def _check(self, params: dict[str, str]) -> Response | None:
        missing = [k for k in REQUIRED if not params.get(k)]
        if missing:
            return self._reply(400, "MissingParameter", f"missing {missing[0]}")
        fixed = {"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON",
                 "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0"}
        for key, want in fixed.items():
            if params[key] != want:
                return self._reply(400, "InvalidParameter", f"bad {key}")
        secret = self.access_keys.get(params["AccessKeyId"])
        if secret is None:
            return self._reply(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        try:
            ts = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return self._reply(400, "InvalidTimeStamp.Format", "bad timestamp")
        if abs((datetime.now(timezone.utc) - ts).total_seconds()) > self.max_skew_seconds:
            return self._reply(400, "InvalidTimeStamp.Expired", "timestamp expired")
        if not hmac.compare_digest(expected_signature(params, secret), params["Signature"]):
            return self._reply(400, "SignatureDoesNotMatch", "Specified signature is not matched")
        with self._lock:
            if params["SignatureNonce"] in self._nonces:
                used = True
            else:
                used = False
                self._nonces.add(params["SignatureNonce"])
        if used:
            return self._reply(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        try:
            template = json.loads(params.get("TemplateParam", "{}"))
        except ValueError:
            return self._reply(400, "isv.INVALID_JSON_PARAM", "TemplateParam is not JSON")
        if not isinstance(template, dict):
            return self._reply(400, "isv.INVALID_JSON_PARAM", "TemplateParam is not an object")
        params["_template"] = template  # type: ignore[assignment]
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if self.hang_seconds:
            self.release.wait(self.hang_seconds)
        if request.method != "POST" or request.path != "/":
            return Response("not found", status=404)(environ, start_response)
        params: dict[str, str] = dict(request.form.items())
        response = self._check(params)
        if response is None:
            with self._lock:
                fail = self.fail_with_503 > 0
                if fail:
                    self.fail_with_503 -= 1
            if fail:
                response = Response("<html>503 Service Temporarily Unavailable</html>", status=503)
            elif self.force_code:
                response = self._reply(200, self.force_code, "forced by test")
            else:
                with self._lock:
                    self.sent.append({"phone": params["PhoneNumbers"], "sign": params["SignName"],
                                      "template": params["TemplateCode"], "params": params["_template"]})
                response = self._reply(200, "OK", "OK", BizId=uuid.uuid4().hex[:20])
        return response(environ, start_response)
