"""The platform's own SM2 signing keys, one per purpose, each with a certificate from the platform CA.

    kid, signature = platform_keys.sign("trust-list", payload)   # DER SM2, default ID 1234567812345678
    key = platform_keys.by_kid(kid)                              # current or retired, until its cert expires
    key.public_key.verify(signature, payload)

One purpose per key (GB/T 39786: a key signs one kind of thing): the published trust list, the
offline QR presentations, the signed disclosures, the RFC 3161 time-stamp tokens ("tsa": its certificate
also carries the critical extendedKeyUsage id-kp-timeStamping, see CERT_PROFILES). A key is created
on first use in the key store (purpose "platform-<purpose>", owner "platform") and certified by the
platform CA (keyUsage digitalSignature, subject OU = the purpose). Its `kid` is the first 16 hex
digits of SM3 over its SubjectPublicKeyInfo (DER): anyone holding the certificate computes it,
nothing else is needed.

Rotation (`flask keys rotate-platform PURPOSE`) makes a new key current; the old one is retired
(it signs nothing more) and stays published and findable by `by_kid` until its certificate expires,
so what it signed keeps verifying. A current key whose certificate has expired is replaced on use.
The certificate is found by the key's SPKI among the CA's issued certificates (no table of its own).
"""
from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.crypto.ca import keystore, platform_ca
from app.crypto.ca_models import CertificateRecord
from app.crypto.keystore import Actor, KeyInfo
from app.clock import rfc3339
from app.crypto.sm2 import SM2PublicKey
from app.crypto.sm3 import sm3_hex
from app.crypto.x509 import load_certificate
from app.db import unit_of_work, utcnow

log = logging.getLogger(__name__)

PURPOSES = ("trust-list", "presentation", "disclosure", "tsa", "report")  # report: signed verification reports
# Certificate options beyond keyUsage digitalSignature, per purpose (x509.certificate_extensions keywords).
# The time-stamping authority's certificate carries id-kp-timeStamping as its only EKU, critical (RFC 3161 §2.3).
CERT_PROFILES: dict[str, dict] = {
    "tsa": {"extended_key_usage": ("time_stamping",), "extended_key_usage_critical": True},
}
# Not in the trust list: the TSA certificate travels in every token and at GET /api/v1/timestamps/tsa.pem.
UNLISTED = frozenset({"tsa", "report"})  # report: its certificate travels in each report's SignedData
OWNER = "platform"
CERT_DAYS = 400  # a little over a year: rotate yearly, the retired key's certificate covers the overlap
KID_LENGTH = 16


@dataclass(frozen=True)
class PlatformKey:
    kid: str  # first 16 hex of SM3(SPKI DER)
    key_id: str  # the key store's id (internal; never published)
    purpose: str
    status: str  # active | retired | disabled (the key store's status)
    certificate_pem: str
    certificate_der: bytes
    public_key: SM2PublicKey
    not_before: datetime
    not_after: datetime

    def public_key_der(self) -> bytes:
        return self.public_key.public_bytes_der()


def kid_of(public_key_der: bytes) -> str:
    """The key id verifiers compute themselves: SM3 over the DER SubjectPublicKeyInfo, 16 hex digits."""
    return sm3_hex(public_key_der)[:KID_LENGTH]


def _store_purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown platform key purpose {purpose!r}; one of {', '.join(PURPOSES)}")
    return f"platform-{purpose}"


_cache: dict[str, PlatformKey] = {}  # key store id → key with its certificate (neither ever changes)


def _certified(info: KeyInfo, purpose: str) -> PlatformKey | None:
    """The key with the newest certificate the CA issued for its public key, or None without one."""
    cached = _cache.get(info.key_id)
    if cached is not None and cached.status == info.status:
        return cached
    spki_sm3 = sm3_hex(info.public_key_der)
    row = (CertificateRecord.select().where(CertificateRecord.spki_sm3 == spki_sm3)
           .order_by(CertificateRecord.not_after.desc()).first())
    if row is None:
        return None
    cert = load_certificate(row.pem)
    key = PlatformKey(kid=spki_sm3[:KID_LENGTH], key_id=info.key_id, purpose=purpose, status=info.status,
                      certificate_pem=row.pem, certificate_der=cert.dump(), public_key=info.public_key(),
                      not_before=row.not_before, not_after=row.not_after)
    if len(_cache) > 256:
        _cache.clear()
    _cache[info.key_id] = key
    return key


def _certify(info: KeyInfo, purpose: str, actor: Actor | None) -> PlatformKey:
    ca = platform_ca()
    ca_end = load_certificate(ca.certificate_der()).not_valid_after
    days = min(CERT_DAYS, (ca_end - utcnow()).days)
    ca.issue_certificate(info.public_key(), {"C": "CN", "O": "YiWang", "OU": purpose,
                                              "CN": f"YiWang platform {purpose} signing"},
                         days=days, key_usage={"digitalSignature"}, actor=actor,
                         **CERT_PROFILES.get(purpose, {}))
    key = _certified(info, purpose)
    assert key is not None
    return key


def _new_key(purpose: str, actor: Actor | None, replacing: str | None = None) -> PlatformKey:
    """A new current key with its certificate, in one transaction (never a key without one)."""
    with unit_of_work():
        if replacing is None:
            info = keystore().generate(purpose=_store_purpose(purpose), owner=OWNER,
                                       label=f"platform {purpose}", actor=actor)
        else:
            info = keystore().rotate(replacing, actor=actor)
        key = _certify(info, purpose, actor)
    log.warning("platform signing key made current", extra={"purpose": purpose, "kid": key.kid})
    return key


def current(purpose: str) -> PlatformKey:
    """The key that signs for `purpose` now; created (with its certificate) on first use, replaced
    when its certificate has expired."""
    store_purpose = _store_purpose(purpose)
    key_id = keystore().newest_active(purpose=store_purpose, owner=OWNER)
    if key_id is None:
        return _new_key(purpose, None)
    key = _certified(keystore().info(key_id), purpose)
    if key is None:  # a key without a certificate (should not happen: made in one transaction)
        with unit_of_work():
            return _certify(keystore().info(key_id), purpose, None)
    if key.not_after <= utcnow() + timedelta(minutes=1):
        return _new_key(purpose, None, replacing=key_id)
    return key


def sign(purpose: str, data: bytes) -> tuple[str, bytes]:
    """(kid, DER SM2 signature over `data` with the default ID 1234567812345678) by the current key."""
    key = current(purpose)
    return key.kid, keystore().sign(key.key_id, data)


def rotate(purpose: str, *, actor: Actor | None = None) -> PlatformKey:
    """A new current key for `purpose`; the previous one is retired (verify-only, still published)."""
    previous = current(purpose)
    return _new_key(purpose, actor, replacing=previous.key_id)


def _all(purpose: str) -> list[PlatformKey]:
    """Every certified key of `purpose` whose certificate has not expired, newest first."""
    now = utcnow()
    found = []
    for info in keystore().find(purpose=_store_purpose(purpose), owner=OWNER, status=None):
        key = _certified(info, purpose)
        if key is not None and key.not_after > now:
            found.append(key)
    return found


def by_kid(kid: str) -> PlatformKey | None:
    """The platform key with this kid (current or retired) while its certificate is valid; else None."""
    if not isinstance(kid, str) or len(kid) != KID_LENGTH:
        return None
    for purpose in PURPOSES:
        for key in _all(purpose):
            if key.kid == kid:
                return key
    return None


def published() -> list[dict]:
    """What a verifier needs of every live platform key, current first within each purpose (JSON-ready:
    public_key is the SPKI DER in base64, times RFC 3339 in China time)."""
    out = []
    for purpose in (p for p in PURPOSES if p not in UNLISTED):
        current(purpose)  # every purpose has a key to publish
        for key in _all(purpose):
            out.append({
                "kid": key.kid, "purpose": purpose,
                "public_key": base64.b64encode(key.public_key_der()).decode(),
                "certificate": key.certificate_pem,
                "not_before": rfc3339(key.not_before), "not_after": rfc3339(key.not_after),
                "status": "active" if key.status == "active" else ("retired" if key.status == "retired"
                                                                   else "revoked"),
            })
    return out
