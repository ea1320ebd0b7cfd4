"""Verifying an offline QR (离线核验) with nothing but a cached trust list: no network, no database.

    trust = open_trust_list(body, signature=der, kid=kid, ca_pem=pinned_ca)   # GET /.well-known/yiwang/issuers
    seen: set[str] = set()                                            # kept by the verifying device
    result = verify(qr_text, trust, now=int(time.time()), seen=seen)
    result.status   # "verified" | "seen_before" | "refused";  result.reason: the refusal's code

Checks, in order (the first failure is the answer):
  malformed            not `YWO1:` + base45 of a well-formed version-1 payload (wallet/offline/format.py)
  unknown_key          the kid is not a live platform key of purpose "presentation" in the trust list
  signature_invalid    SM2 with SM3 and the default user id over the signed bytes fails
  not_yet_valid        issued more than CLOCK_SKEW seconds after `now` (a device clock far behind)
  expired              `now` is past issued_at + lifetime (≤ 300 s)
  issuer_unknown       the issuer (USCC, or legacy_code) is not in the trust list, or the key id is not one of its keys
  issuer_key_revoked   that key is revoked for this licence version (revoked_since ≤ its signed_at, or
                       revoked without a date), or the licence was signed outside the key's validity
  issuer_type_not_allowed  the trust list names the issuer's licence types and this type is not one
Then replay: a code (kid + nonce) already in `seen` is "seen_before" (on this device, within its
lifetime: an expired code is refused before); otherwise it is added and the answer is "verified".
The caller may prune `seen` of codes older than 300 s.

What the trust list says about the licence's *current* status (suspended since the QR was made)
an offline verifier cannot know: the code lives at most five minutes for that reason.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from app import business_metrics
from app.crypto.sm2 import SM2PublicKey, encode_signature
from app.crypto.x509 import load_certificate
from wallet.offline.format import FormatError, OfflinePayload, decode_payload, split_text

CLOCK_SKEW = 60  # seconds a verifier's clock may be behind the platform's
PURPOSE = "presentation"


class SeenSet(Protocol):
    def __contains__(self, item: object) -> bool: ...

    def add(self, item: str) -> None: ...


def _ts(value: Any) -> int | None:
    """Unix seconds of an RFC 3339 time (or a number); None for none."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value)
    if len(text) == 10:  # a date: its start, China time
        text += "T00:00:00+08:00"
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    public_key: SM2PublicKey
    status: str  # active | retired | revoked
    not_before: int | None = None
    not_after: int | None = None
    revoked_since: int | None = None


@dataclass(frozen=True)
class TrustedIssuer:
    uscc: str
    name: str
    keys: dict[str, TrustedKey]
    types: tuple[str, ...] = ()


def _key(entry: dict[str, Any]) -> TrustedKey:
    return TrustedKey(kid=str(entry["kid"]), public_key=SM2PublicKey.from_der(base64.b64decode(entry["public_key"])),
                      status=str(entry.get("status") or "active"), not_before=_ts(entry.get("not_before")),
                      not_after=_ts(entry.get("not_after")), revoked_since=_ts(entry.get("revoked_since")))


@dataclass(frozen=True)
class TrustList:
    """The parts of the published trust list an offline verifier uses, parsed once."""

    platform: dict[str, TrustedKey]  # kid → key of purpose "presentation"
    issuers: dict[str, TrustedIssuer]  # USCC (and legacy issuer code) → issuer
    version: Any = None

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> "TrustList":
        platform = {k["kid"]: _key(k) for k in doc.get("platform_keys", []) if k.get("purpose") == PURPOSE}
        issuers = {}
        for item in doc.get("issuers", []):
            issuer = TrustedIssuer(uscc=item["uscc"], name=item.get("name", ""),
                                   keys={k["kid"]: _key(k) for k in item.get("keys", [])},
                                   types=tuple(item.get("types") or ()))
            for code in (item.get("uscc"), item.get("legacy_code")):  # licences from before the registry
                if code:
                    issuers[code] = issuer
        return cls(platform=platform, issuers=issuers, version=doc.get("version"))



class TrustListError(ValueError):
    """A trust list that cannot be trusted: unsigned where a signature is required, a signature that
    fails, a signing key not certified by the pinned CA."""


def _certified_by(cert_pem: str, ca_pem: bytes | str) -> bool:
    """Is the certificate signed (SM2 with SM3, default id) by the CA certificate's key?"""
    cert, ca = load_certificate(cert_pem), load_certificate(ca_pem)
    if cert.issuer != ca.subject or cert.subject.native.get("organizational_unit_name") != "trust-list":
        return False
    ca_key = SM2PublicKey.from_der(ca["tbs_certificate"]["subject_public_key_info"].dump())
    return ca_key.verify(cert["signature_value"].native, cert["tbs_certificate"].dump())


def open_trust_list(body: bytes, *, signature: bytes | None, kid: str | None = None,
                    ca_pem: bytes | str | None = None) -> TrustList:
    """The trust list as served by GET /.well-known/yiwang/issuers: `body` the exact bytes (canonical
    JSON), `signature` the DER SM2 signature of header YiWang-Signature (decoded from base64), `kid`
    its YiWang-Signature-Kid (without it, any "trust-list" key the list names may have signed). The
    signature is checked with that platform key; given `ca_pem` (the platform CA, pinned out of band),
    the key's certificate must be issued by it and name OU = trust-list — without a pin the list
    vouches for itself (trust on first use). signature=None accepts an unsigned list (tests only)."""
    doc = json.loads(body)
    if signature is None:
        return TrustList.from_dict(doc)
    signers = [k for k in doc.get("platform_keys", [])
               if k.get("purpose") == "trust-list" and (kid is None or k.get("kid") == kid)]
    signer = next((k for k in signers
                   if SM2PublicKey.from_der(base64.b64decode(k["public_key"])).verify(signature, body)), None)
    if signer is None:
        raise TrustListError("the trust list's signature does not verify with a trust-list key it names")
    if ca_pem is not None and not _certified_by(signer["certificate"], ca_pem):
        raise TrustListError("the trust list's signing key is not certified by the pinned CA")
    return TrustList.from_dict(doc)


@dataclass(frozen=True)
class Result:
    status: str  # verified | seen_before | refused
    reason: str | None = None  # the refusal's code (see the module's docstring)
    payload: OfflinePayload | None = None  # present once the signature checked
    issuer_name: str | None = None
    flags: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status == "verified"


def _refused(reason: str, payload: OfflinePayload | None = None) -> Result:
    return Result("refused", reason, payload)


def _live_at(key: TrustedKey, moment: int) -> bool:
    return (key.not_before is None or key.not_before <= moment) and (key.not_after is None or moment <= key.not_after)


def verify(qr_text: str, trust_list: TrustList | dict[str, Any], *, now: int, seen: SeenSet) -> Result:
    """The verdict on one scanned offline QR text (see the module's docstring for the checks), counted as
    yiwang_verifications_total{kind="offline"}: "ok", "seen_before" or the refusal's reason — wherever this
    runs (the CLI, a gateway); the counter devices verify on their own and are not counted."""
    result = _verdict(qr_text, trust_list, now=now, seen=seen)
    business_metrics.count(business_metrics.VERIFICATIONS, "offline",
                           "ok" if result.status == "verified" else result.reason or result.status)
    return result


def _verdict(qr_text: str, trust_list: TrustList | dict[str, Any], *, now: int, seen: SeenSet) -> Result:
    trust = trust_list if isinstance(trust_list, TrustList) else TrustList.from_dict(trust_list)
    try:
        signed, raw_signature = split_text((qr_text or "").strip())
        payload = decode_payload(signed)
    except FormatError:
        return _refused("malformed")
    platform_key = trust.platform.get(payload.kid)
    if platform_key is None or platform_key.status == "revoked" or not _live_at(platform_key, payload.issued_at):
        return _refused("unknown_key")
    try:
        der = encode_signature(int.from_bytes(raw_signature[:32], "big"), int.from_bytes(raw_signature[32:], "big"))
    except ValueError:  # r or s out of 1..n-1
        return _refused("signature_invalid")
    if not platform_key.public_key.verify(der, signed):
        return _refused("signature_invalid")
    if payload.issued_at > now + CLOCK_SKEW:
        return _refused("not_yet_valid", payload)
    if now > payload.expires_at:
        return _refused("expired", payload)
    issuer = trust.issuers.get(payload.issuer_uscc)
    issuer_key = issuer.keys.get(payload.issuer_kid) if issuer is not None else None
    if issuer is None or issuer_key is None:
        return _refused("issuer_unknown", payload)
    signed_at = payload.licence_signed_at
    if issuer_key.status == "revoked" and (issuer_key.revoked_since is None or issuer_key.revoked_since <= signed_at):
        return _refused("issuer_key_revoked", payload)
    if not _live_at(issuer_key, signed_at):
        return _refused("issuer_key_revoked", payload)
    if issuer.types and payload.type_code not in issuer.types:
        return _refused("issuer_type_not_allowed", payload)
    flags = ("issuer_key_revoked_later",) if issuer_key.status == "revoked" else ()
    seen_key = f"{payload.kid}:{payload.nonce.hex()}"
    if seen_key in seen:
        return Result("seen_before", None, payload, issuer.name, flags)
    seen.add(seen_key)
    return Result("verified", None, payload, issuer.name, flags)
