"""Fake FACE v1 gateway (identity/adapters/face.py): getverifyid + queryverifyinfo, HMAC-SM3 envelope.

Re-implements the protocol with stdlib ``hmac``/``hashlib`` (SM3, SHA-256, base64), independent of the
adapter, and CHECKS what it receives: the request envelope (:class:`tests.fakes.signed_gateway.SignedGateway`:
app id, timestamp skew, nonce format and reuse, signature), the body's shape (out_seq_no 5–32 [0-9A-Za-z_-] and unique, cert_info with
cert_type IDENTITY_CARD), and on a query that out_seq_no and cert_hash are the session's. A finished
result is read once; a second read answers errcode 84001 like an unknown session.

The user's side (the face SDK) is played by :meth:`FakeFace.finish` (verify_ret, score). Outcomes the
tests use: 10000 passed, 90002 cancelled, 90017 timed out, 10000 with score 60 (too low).
Knobs (``mode``): ``"normal"``, ``"slow"`` (sleep ``hang_seconds`` or until released), ``"error500"``,
``"bad_reply_hmac"`` (replies signed with another key), ``"unsigned"``.

``rejections`` lists the reason for every refusal; ``sessions`` maps verify_id → its state.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.signed_gateway import WRONG_KEY, SignedGateway, hmac_sm3, sm3_hex

GETVERIFYID = "/getverifyid"
QUERY = "/queryverifyinfo"
_OUT_SEQ_NO = re.compile(r"[0-9A-Za-z_-]{5,32}")


def wechat_cert_hash(cert_type: str, cert_name: str, cert_no: str) -> str:
    """WeChat's rule, written from its document: base64 each UTF-8 value, join, SHA-256, lowercase hex."""
    fields = (("cert_type", cert_type), ("cert_name", cert_name), ("cert_no", cert_no))
    joined = "&".join(f"{k}={base64.standard_b64encode(v.encode('utf-8')).decode()}" for k, v in fields)
    return hashlib.sha256(joined.encode()).hexdigest()


@dataclass
class FaceSession:
    verify_id: str
    out_seq_no: str
    cert_name: str
    cert_no: str
    cert_hash: str
    openid: str | None
    verify_ret: int = 0  # 0 = the user has not finished
    score: int | None = None
    read: bool = False


class FakeFace(SignedGateway):
    """WSGI app emulating a FACE v1 gateway."""

    paths = (GETVERIFYID, QUERY)
    hang_mode = "slow"

    def __init__(self, apps: dict[str, str], max_skew: int = 300, expires_in: int = 3600) -> None:
        super().__init__(apps, max_skew)
        self.expires_in = expires_in
        self.sessions: dict[str, FaceSession] = {}
        self._out_seq_nos: set[str] = set()

    # --- the user's side --------------------------------------------------------------------

    def finish(self, verify_id: str, verify_ret: int = 10000, score: int | None = None) -> None:
        with self._lock:
            session = self.sessions[verify_id]
            session.verify_ret, session.score = verify_ret, score

    def only_session(self) -> FaceSession:
        with self._lock:
            assert len(self.sessions) == 1, list(self.sessions)
            return next(iter(self.sessions.values()))

    # --- the gateway ------------------------------------------------------------------------

    def _answer(self, secret: str, nonce: str, payload: dict[str, Any], reason: str | None = None) -> Response:
        if reason:
            with self._lock:
                self.rejections.append(reason)
        body = json.dumps(payload).encode()
        headers = {}
        if self.mode != "unsigned":
            key = WRONG_KEY if self.mode == "bad_reply_hmac" else secret
            headers["X-Signature"] = hmac_sm3(key, f"{nonce}\n{sm3_hex(body)}")
        return Response(body, status=200, mimetype="application/json", headers=headers)

    def _getverifyid(self, secret: str, nonce: str, data: dict[str, Any]) -> Response:
        out_seq_no, info = data.get("out_seq_no"), data.get("cert_info")
        if not isinstance(out_seq_no, str) or not _OUT_SEQ_NO.fullmatch(out_seq_no):
            return self._answer(secret, nonce, {"errcode": 40097, "errmsg": "invalid out_seq_no"}, "bad_out_seq_no")
        if not isinstance(info, dict) or info.get("cert_type") != "IDENTITY_CARD" \
                or not all(isinstance(info.get(k), str) and info.get(k) for k in ("cert_name", "cert_no")):
            return self._answer(secret, nonce, {"errcode": 40097, "errmsg": "invalid cert_info"}, "bad_cert_info")
        with self._lock:
            if out_seq_no in self._out_seq_nos:
                duplicate = True
            else:
                duplicate = False
                self._out_seq_nos.add(out_seq_no)
                verify_id = "fv_" + secrets.token_urlsafe(32)
                self.sessions[verify_id] = FaceSession(
                    verify_id=verify_id, out_seq_no=out_seq_no, cert_name=info["cert_name"], cert_no=info["cert_no"],
                    cert_hash=wechat_cert_hash(info["cert_type"], info["cert_name"], info["cert_no"]),
                    openid=data.get("openid"))
        if duplicate:
            return self._answer(secret, nonce, {"errcode": 40097, "errmsg": "out_seq_no reused"}, "out_seq_no_reused")
        return self._answer(secret, nonce, {"errcode": 0, "errmsg": "ok", "verify_id": verify_id,
                                            "expires_in": self.expires_in})

    def _query(self, secret: str, nonce: str, data: dict[str, Any]) -> Response:
        with self._lock:
            session = self.sessions.get(data.get("verify_id"))
            if session is None:
                reason = "unknown_verify_id"
            elif session.read:
                reason = "result_already_read"
            elif data.get("out_seq_no") != session.out_seq_no:
                reason = "out_seq_no_mismatch"
            elif data.get("cert_hash") != session.cert_hash:
                reason = "cert_hash_mismatch"
            else:
                reason = None
                if session.verify_ret != 0:
                    session.read = True
                payload: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "verify_ret": session.verify_ret}
                if session.score is not None:
                    payload["score"] = session.score
        if reason in ("unknown_verify_id", "result_already_read"):
            return self._answer(secret, nonce, {"errcode": 84001, "errmsg": reason}, reason)
        if reason is not None:
            return self._answer(secret, nonce, {"errcode": 84002, "errmsg": reason}, reason)
        return self._answer(secret, nonce, payload)

    def _serve(self, request: Request, data: Any, secret: str, nonce: str) -> Response:
        if not isinstance(data, dict):
            return self._reject(400, "bad_body")
        if request.path == GETVERIFYID:
            return self._getverifyid(secret, nonce, data)
        return self._query(secret, nonce, data)
