"""The national network identity platform (国家网络身份认证公共服务, 网号/网证): "NCID gateway v1".

[A] The server API between a relying app and the national platform is not public (onboarding is by
application). This module is OUR MODEL of it (docs/design/identity-19.md §2(a)), kept in this one
adapter so that the real integration documents change this file, not the login code:

Request (the registry's HMAC-SM3 envelope, identity/adapters/registry.py, [A])::

    POST {NCID_URL}/v1/authentications
    X-App-Id, X-Timestamp, X-Nonce, X-Signature (HMAC-SM3 over METHOD\\nPATH\\nTS\\nNONCE\\nhex SM3(body))

    {"orgCode", "appId", "bizSeq", "authMode": "R01".."R04", "idCardAuthData", "certPwdData"?}

Reply (HTTP 200) = the signed 服务凭据 [A]::

    {"data": "<base64url of the canonical JSON bytes>", "sig": "<base64 DER SM2>", "cert_sn": "<hex>"}

This adapter only moves bytes: it never judges the 凭据 (identity/ncid.py verifies the signature
over the exact `data` bytes, then orgCode/appId, bizSeq, serviceTime, result, mode). It fails CLOSED:
a non-200 status, a non-JSON body, a missing field, bad base64, a timeout, a connection error or an
open circuit all raise :class:`NcidGatewayUnavailable`.

:class:`DevNcidGateway` plays the platform in development and tests: it reads the opaque
`id_card_auth_data` that :meth:`DevNcidGateway.dev_auth_data` wrote and signs a real SM2 凭据 with a
development platform key generated at start-up, so the same verification runs as in production.
Its key is trusted only by the gateway that made it (never configured in production: app/config.py
refuses NCID_BACKEND=dev there).
"""
from __future__ import annotations

import base64
import binascii
import hmac as std_hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

import requests

from app.adapters.http import CircuitBreaker, CircuitOpen, Timeout, check_timeout, make_session
from app.adapters.signed_http import SignedHttpError, SignedJsonClient, json_body
from app.clock import china_now
from app.crypto.sm2 import SM2PrivateKey, SM2PublicKey

logger = logging.getLogger(__name__)

AUTH_PATH = "/v1/authentications"
MODES = ("R01", "R02", "R03", "R04")  # [A] R01 网证, R02 网证+口令 (ours); R03 网证+人脸, R04 +口令+人脸 (Hunan's)
FACE_MODES = ("R03", "R04")
_HEX_RE = re.compile(r"^[0-9a-fA-F]{1,64}$")
_MAX_REPLY_BYTES = 64 * 1024


class NcidGatewayUnavailable(Exception):
    """The platform gave no usable answer (fail closed)."""


class NcidGatewayRejected(ValueError):
    """The caller passed something the platform protocol cannot carry (caller bug; nothing sent)."""


@dataclass(frozen=True)
class SignedCredential:
    """The platform's 服务凭据 as received: `data` is the exact signed bytes (never re-serialised)."""

    data: bytes
    sig: bytes
    cert_sn: str


class NcidGateway(Protocol):
    """Asks the national platform to authenticate the 网证 data the citizen's app produced."""

    org_id: str
    app_id: str
    business_id: str

    def authenticate(self, *, biz_seq: str, auth_mode: str, id_card_auth_data: str,
                     cert_pwd_data: str | None) -> SignedCredential:
        """The platform's signed 凭据 (pass or fail code inside); NcidGatewayUnavailable otherwise."""
        ...

    def platform_key(self, cert_sn: str) -> SM2PublicKey | None:
        """The pinned platform signing key for `cert_sn`, or None (unknown certificate: refuse)."""
        ...


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url (padding optional); ValueError for anything else."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise ValueError("not base64url")
    text = text.rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_credential(payload: object) -> SignedCredential:
    """The reply body → SignedCredential; NcidGatewayUnavailable if it is not one."""
    if not isinstance(payload, dict):
        raise NcidGatewayUnavailable("reply is not an object")
    data, sig, cert_sn = payload.get("data"), payload.get("sig"), payload.get("cert_sn")
    if not (isinstance(data, str) and isinstance(sig, str) and isinstance(cert_sn, str)) or not _HEX_RE.match(cert_sn):
        raise NcidGatewayUnavailable("reply lacks data, sig or cert_sn")
    try:
        raw_data = b64url_decode(data)
        raw_sig = base64.b64decode(sig, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NcidGatewayUnavailable("reply is not base64") from exc
    if not raw_data or not raw_sig:
        raise NcidGatewayUnavailable("reply has an empty data or sig")
    return SignedCredential(data=raw_data, sig=raw_sig, cert_sn=cert_sn.lower())


def load_platform_keys(certs: dict[str, str]) -> dict[str, SM2PublicKey]:
    """{cert_sn: PEM} → {lower-case cert_sn: key}. A PEM is a "PUBLIC KEY" or a "CERTIFICATE" (its SPKI
    is pinned; the certificate's own validity is managed by whoever rotates NCID_PLATFORM_CERTS [A])."""
    keys = {}
    for cert_sn, pem in certs.items():
        if "CERTIFICATE" in pem:
            from app.crypto.x509 import load_certificate
            spki = load_certificate(pem)["tbs_certificate"]["subject_public_key_info"]
            keys[cert_sn.lower()] = SM2PublicKey.from_der(spki.dump())
        else:
            keys[cert_sn.lower()] = SM2PublicKey.from_pem(pem)
    return keys


class HttpNcidGateway:
    """:class:`NcidGateway` over the signed JSON protocol of the module docstring."""

    def __init__(self, base_url: str, org_id: str, app_id: str, business_id: str, app_secret: str,
                 platform_keys: dict[str, SM2PublicKey], timeout: Timeout = (2.0, 5.0),
                 breaker: CircuitBreaker | None = None, session: requests.Session | None = None) -> None:
        if not (base_url and org_id and app_id and app_secret and platform_keys):
            raise ValueError("base_url, org_id, app_id, app_secret and platform keys are required")
        self.url = base_url.rstrip("/") + AUTH_PATH
        self.path = urlsplit(self.url).path
        self.org_id, self.app_id, self.business_id = org_id, app_id, business_id
        self._keys = dict(platform_keys)
        self.timeout = check_timeout(timeout)
        self.breaker = breaker or CircuitBreaker(
            failure_threshold=5, reset_timeout=30.0, failure_types=(NcidGatewayUnavailable,), name="ncid_platform",
        )
        self._session = session or make_session(connect_retries=1, status_retries=0)
        self._wire = SignedJsonClient(app_id, app_secret, timeout=self.timeout, session=self._session)

    def __repr__(self) -> str:
        return f"HttpNcidGateway(url={self.url!r}, org_id={self.org_id!r}, app_id={self.app_id!r})"

    def platform_key(self, cert_sn: str) -> SM2PublicKey | None:
        return self._keys.get(cert_sn.lower())

    def authenticate(self, *, biz_seq: str, auth_mode: str, id_card_auth_data: str,
                     cert_pwd_data: str | None) -> SignedCredential:
        if auth_mode not in MODES:
            raise NcidGatewayRejected("unknown auth mode")
        body = {"orgCode": self.org_id, "appId": self.app_id, "bizSeq": biz_seq, "authMode": auth_mode,
                "idCardAuthData": id_card_auth_data}
        if cert_pwd_data:
            body["certPwdData"] = cert_pwd_data
        raw = json_body(body)
        try:
            return self.breaker.call(lambda: self._post(raw))
        except CircuitOpen as exc:
            logger.warning("ncid platform circuit open")
            raise NcidGatewayUnavailable("ncid platform circuit open") from exc

    def _post(self, body: bytes) -> SignedCredential:
        """One round trip (the 凭据 is SM2-signed, the reply not HMACed); the opaque 网证 data is never logged."""
        try:
            payload = self._wire.post(self.url, body, max_reply_bytes=_MAX_REPLY_BYTES).payload
        except SignedHttpError as exc:
            logger.warning("ncid platform %s", exc.log_text)
            raise NcidGatewayUnavailable(f"ncid platform {exc.reason}") from exc
        return parse_credential(payload)


# --- development ------------------------------------------------------------------------------

_DEV_PREFIX = "devncid1."


class DevNcidGateway:
    """The platform's side in development: `dev_auth_data` writes what the national app would hand
    over; `authenticate` reads it back and signs a 凭据 with a key made at start-up (`secrets`)."""

    def __init__(self, org_id: str, app_id: str, business_id: str, *, face_score: int = 92) -> None:
        self.org_id, self.app_id, self.business_id = org_id, app_id, business_id
        self._key = SM2PrivateKey.generate()
        self._mac_key = secrets.token_bytes(32)
        self.cert_sn = "de" + secrets.token_hex(8)
        self.face_score = face_score

    def __repr__(self) -> str:
        return f"DevNcidGateway(org_id={self.org_id!r}, cert_sn={self.cert_sn!r})"

    def platform_key(self, cert_sn: str) -> SM2PublicKey | None:
        return self._key.public_key() if cert_sn.lower() == self.cert_sn else None

    def public_key_pem(self) -> bytes:
        return self._key.public_key().public_bytes_pem()

    def dev_auth_data(self, app_user_id: str, *, mode: str = "R02", name: str | None = None,
                      id_number: str | None = None) -> str:
        """The opaque id_card_auth_data for this person (MACed: anything else is 1001 credential invalid)."""
        if mode not in MODES:
            raise NcidGatewayRejected("unknown auth mode")
        if not re.fullmatch(r"[A-Za-z0-9]{16,64}", app_user_id):
            raise NcidGatewayRejected("app_user_id must be 16-64 letters and digits")
        claims = {"u": app_user_id, "m": mode}
        if name and id_number:
            claims.update(n=name, i=id_number)
        body = b64url_encode(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        return _DEV_PREFIX + body + "." + self._tag(body)

    def _tag(self, body: str) -> str:
        return std_hmac.new(self._mac_key, body.encode("ascii"), "sha256").hexdigest()[:32]

    def _claims(self, id_card_auth_data: str) -> dict | None:
        if not isinstance(id_card_auth_data, str) or not id_card_auth_data.startswith(_DEV_PREFIX):
            return None
        body, _, tag = id_card_auth_data[len(_DEV_PREFIX):].partition(".")
        if not std_hmac.compare_digest(self._tag(body).encode(), tag.encode("ascii", "replace")):
            return None
        try:
            return json.loads(b64url_decode(body))
        except ValueError:
            return None

    def authenticate(self, *, biz_seq: str, auth_mode: str, id_card_auth_data: str,
                     cert_pwd_data: str | None, now: datetime | None = None) -> SignedCredential:
        if auth_mode not in MODES:
            raise NcidGatewayRejected("unknown auth mode")
        claims = self._claims(id_card_auth_data)
        data: dict = {"bizSeq": biz_seq, "orgCode": self.org_id, "appId": self.app_id,
                      "serviceTime": china_now(now).replace(microsecond=0).isoformat(), "serviceType": auth_mode}
        if claims is None or claims.get("m") != auth_mode:
            data["result"] = "1001"  # [A] credential invalid (or made for another mode)
        else:
            data.update(result="0", appUserId=claims["u"])
            if auth_mode in FACE_MODES:
                data["faceScore"] = self.face_score
            if "i" in claims:  # [A] consented identity; the real platform SM2-encrypts it to our key
                data["encInfo"] = {"name": claims["n"], "idNumber": claims["i"]}
        return self.sign(data)

    def sign(self, data: dict) -> SignedCredential:
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return SignedCredential(data=raw, sig=self._key.sign(raw), cert_sn=self.cert_sn)


class DisabledNcidGateway:
    """NCID_BACKEND=none: 网号 login is not offered; every authentication is unavailable (503)."""

    def __init__(self, org_id: str = "", app_id: str = "", business_id: str = "") -> None:
        self.org_id, self.app_id, self.business_id = org_id, app_id, business_id

    def platform_key(self, cert_sn: str) -> SM2PublicKey | None:
        return None

    def authenticate(self, *, biz_seq: str, auth_mode: str, id_card_auth_data: str,
                     cert_pwd_data: str | None) -> SignedCredential:
        raise NcidGatewayUnavailable("NCID_BACKEND=none")
