"""The signed disclosure a verifier receives (consent/service.py makes the request; this signs and
checks the answer): a compact JWS-like token, SM2 with SM3 by the platform's "disclosure" key."""
from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from asn1crypto.algos import DSASignature
from flask import current_app

from app.crypto import platform_keys
from consent.models import ConsentRequest

ALG = "SM2-SM3"
TYP = "yiwang-disclosure+jws"
FORMAT = "yiwang-licence"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _der_to_raw(der: bytes) -> bytes:
    parsed = DSASignature.load(der).native
    return parsed["r"].to_bytes(32, "big") + parsed["s"].to_bytes(32, "big")


def sign_disclosure(request: ConsentRequest, shown: dict[str, Any], now: datetime) -> str:
    """`BASE64URL(header) . BASE64URL(payload) . BASE64URL(r ‖ s)`: SM2 with SM3 and the default
    user id 1234567812345678 over the ASCII of the first two parts (as JWS signs), r and s as
    32-byte big-endian integers (as JWS's ES256 does); header {alg: SM2-SM3, typ, kid}."""
    iat = int(now.timestamp())
    payload = {
        "iss": current_app.config["CONSENT_ISSUER"], "aud": request.client_id, "iat": iat,
        "exp": iat + current_app.config["CONSENT_DISCLOSURE_TTL"], "jti": request.id,
        "nonce": request.nonce, "state": request.state,
        "matter": request.matter,
        "credential": {"format": FORMAT, "type": shown["type_code"], "licence_id": shown["licence_id"],
                       "identifier": shown["identifier"], "version": shown["version"],
                       "issuer_uscc": shown["issuer_code"], "issuer_name": shown["issuer_name"],
                       "status": shown["status"],
                       "valid_until": shown["valid_until"].isoformat() if shown["valid_until"] else None},
        "claims": shown["fields"], "disclosure": shown["how"],
    }
    kid = platform_keys.current("disclosure").kid
    header = {"alg": ALG, "typ": TYP, "kid": kid}
    signing_input = f"{_b64url(_json(header))}.{_b64url(_json(payload))}"
    used_kid, der = platform_keys.sign("disclosure", signing_input.encode("ascii"))
    if used_kid != kid:  # rotated between the two calls: sign again under the new kid
        return sign_disclosure(request, shown, now)
    return f"{signing_input}.{_b64url(_der_to_raw(der))}"


class DisclosureInvalid(Exception):
    """The compact disclosure does not verify (malformed, unknown kid, bad signature, wrong alg)."""


def verify_disclosure(compact: str) -> dict[str, Any]:
    """The payload of a disclosure that verifies against a published platform "disclosure" key,
    else DisclosureInvalid (fail closed: anything unexpected is a failure). Expiry, nonce and state
    are the verifier's to compare."""
    try:
        head_b64, body_b64, sig_b64 = compact.split(".")
        header = json.loads(_unb64url(head_b64))
        signature = _unb64url(sig_b64)
        payload = json.loads(_unb64url(body_b64))
    except (ValueError, AttributeError) as exc:
        raise DisclosureInvalid("malformed") from exc
    if not isinstance(header, dict) or header.get("alg") != ALG or header.get("typ") != TYP:
        raise DisclosureInvalid("alg")
    key = platform_keys.by_kid(header.get("kid"))
    if key is None or key.purpose != "disclosure":
        raise DisclosureInvalid("kid")
    if len(signature) != 64 or not key.public_key.verify(signature, f"{head_b64}.{body_b64}".encode("ascii"),
                                                         allow_raw=True):
        raise DisclosureInvalid("signature")
    return payload
