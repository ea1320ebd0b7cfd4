"""Fake national network identity platform (网号/网证), "NCID gateway v1" of docs/design/identity-19.md §2(a).

It CHECKS what it receives, as the real platform would: the HMAC-SM3 envelope (tests/fakes/signed_gateway.py: app id, ±300 s timestamp,
single-use nonce, signature; stdlib hmac/hashlib SM3, independent of the adapter), the orgCode/appId it
onboarded, the bizSeq format (a v4 UUID), the mode and the 口令 the mode needs. It answers with a 凭据
signed by the test platform key (tests/vectors.py) with SM2/SM3 and the default ID.

Knobs (attributes, set by a test):

* ``variant``: ``"normal"``; forgeries ``"wrong_key"`` (signed by another key), ``"flip_byte"`` (one byte of
  data changed after signing), ``"r_zero"`` / ``"s_n"`` (DER with r = 0 / s = n), ``"non_der"`` (raw r ‖ s),
  ``"unknown_cert"``; ``"other_org"`` (data names another orgCode), ``"resend"`` (the previous 凭据 again);
  transport ``"error500"``, ``"hang"`` (sleeps ``hang_seconds``), ``"not_json"``, ``"missing_sig"``.
* ``fail_code``: a result code ("1001".."1005", "2001") to answer instead of a pass.
* ``service_time``: an aware datetime to stamp instead of now (stale / early 凭据).
* ``people``: ``{id_card_auth_data: (app_user_id, password or None)}``; ``face_score``.

``received`` holds the parsed bodies that passed the envelope check; ``rejections`` the reasons of refusals.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from app.crypto.sm2 import N, SM2PrivateKey, decode_signature
from tests import vectors
from tests.fakes.signed_gateway import SignedGateway, hmac_sm3, sm3_hex

__all__ = ["PATH", "FakeNcidPlatform", "hmac_sm3", "sm3_hex", "platform_key", "platform_public_pem", "der_signature"]

PATH = "/v1/authentications"
MODES = ("R01", "R02", "R03", "R04")
PASSWORD_MODES = ("R02", "R04")
FACE_MODES = ("R03", "R04")
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
CHINA = timezone(timedelta(hours=8))


def _der_int(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")  # a leading 0 keeps it positive
    return b"\x02" + bytes([len(raw)]) + raw


def der_signature(r: int, s: int) -> bytes:
    """SEQUENCE {r, s} written by hand, so that out-of-range values can be sent."""
    body = _der_int(r) + _der_int(s)
    return b"\x30" + bytes([len(body)]) + body


def platform_key() -> SM2PrivateKey:
    return SM2PrivateKey.from_int(int(vectors.NCID_PLATFORM_KEY_HEX, 16))


def platform_public_pem() -> str:
    return platform_key().public_key().public_bytes_pem().decode()


class FakeNcidPlatform(SignedGateway):
    """WSGI app emulating the national platform for one relying organisation."""

    paths = (PATH,)

    def __init__(self, *, org_code: str, apps: dict[str, str], people: dict[str, tuple[str, str | None]],
                 max_skew: int = 300) -> None:
        super().__init__(apps, max_skew)
        self.org_code = org_code
        self.people = people
        self.key = platform_key()
        self.other_key = SM2PrivateKey.from_int(int(vectors.NCID_OTHER_KEY_HEX, 16))
        self.cert_sn = vectors.NCID_PLATFORM_CERT_SN
        self.variant = "normal"
        self.fail_code: str | None = None
        self.service_time: datetime | None = None
        self.face_score = 93
        self.received: list[dict] = []
        self.issued: list[dict] = []  # every 凭据 answered: {"data", "sig", "cert_sn"}

    # --- request checks ---------------------------------------------------------------------

    def _verdict(self, request: Request, body: dict) -> dict:
        """The 凭据 fields for this request: result "0" with appUserId, or a fail code."""
        if self.fail_code:
            return {"result": self.fail_code}
        if body.get("orgCode") != self.org_code or body.get("appId") != request.headers.get("X-App-Id"):
            return {"result": "2001"}
        if not isinstance(body.get("bizSeq"), str) or not _UUID4.match(body["bizSeq"]):
            return {"result": "1005"}
        person = self.people.get(body.get("idCardAuthData"))
        if person is None:
            return {"result": "1001"}
        app_user_id, password = person
        if body["authMode"] in PASSWORD_MODES and body.get("certPwdData") != password:
            return {"result": "1002"}
        answer: dict = {"result": "0", "appUserId": app_user_id}
        if body["authMode"] in FACE_MODES:
            answer["faceScore"] = self.face_score
        return answer

    # --- the 凭据 -----------------------------------------------------------------------------

    def _sign(self, data: bytes) -> tuple[bytes, str]:
        key = self.other_key if self.variant == "wrong_key" else self.key
        sig = key.sign(data)
        if self.variant in ("r_zero", "s_n", "non_der"):
            r, s = decode_signature(sig)
            sig = {"r_zero": lambda: der_signature(0, s), "s_n": lambda: der_signature(r, N),
                   "non_der": lambda: r.to_bytes(32, "big") + s.to_bytes(32, "big")}[self.variant]()
        cert_sn = "00" + self.cert_sn[2:] if self.variant == "unknown_cert" else self.cert_sn
        return sig, cert_sn

    def credential(self, request: Request, body: dict) -> dict:
        stamp = (self.service_time or datetime.now(timezone.utc)).astimezone(CHINA).replace(microsecond=0)
        data = {"bizSeq": body.get("bizSeq"), "orgCode": self.org_code, "appId": body.get("appId"),
                "serviceTime": stamp.isoformat(), "serviceType": body["authMode"], **self._verdict(request, body)}
        if data["result"] == "2001":
            data["orgCode"] = body.get("orgCode")  # the platform names the org it refused
        if self.variant == "other_org":
            data["orgCode"] = "OTHERORG0001"
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        sig, cert_sn = self._sign(raw)
        if self.variant == "flip_byte":
            raw = raw[:20] + bytes([raw[20] ^ 0x01]) + raw[21:]
        return {"data": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), "sig": base64.b64encode(sig).decode(),
                "cert_sn": cert_sn}

    # --- WSGI ---------------------------------------------------------------------------------

    def _fault_mode(self) -> str:
        return self.variant

    def _serve(self, request: Request, body: Any, secret: str, nonce: str) -> Response:
        if not isinstance(body, dict) or body.get("authMode") not in MODES or not body.get("idCardAuthData"):
            return self._reject(400, "bad_body")
        with self._lock:
            self.received.append(body)
        if self.variant == "not_json":
            return Response("<html>gateway</html>", status=200, mimetype="text/html")
        if self.variant == "resend" and self.issued:
            answer = self.issued[-1]
        else:
            answer = self.credential(request, body)
        if self.variant == "missing_sig":
            answer = {k: v for k, v in answer.items() if k != "sig"}
        with self._lock:
            self.issued.append(answer)
        return Response(json.dumps(answer), status=200, mimetype="application/json")
