"""Third-party verification (验签服务): a validation report modelled on the EU DSS one.

Checks, in order: the certificate chains to the platform CA (else INDETERMINATE /
NO_CERTIFICATE_CHAIN_FOUND) → the signature is strict DER with 1 ≤ r, s ≤ n−1 (else TOTAL_FAILED /
FORMAT_FAILURE) → it verifies over e (else TOTAL_FAILED / HASH_FAILURE when the platform made this
signature over another e, SIG_CRYPTO_FAILURE otherwise) → the certificate is not revoked (else
INDETERMINATE / REVOKED_NO_POE) → it is within its validity (else INDETERMINATE /
OUT_OF_BOUNDS_NO_POE) → TOTAL_PASSED. Undecodable input (Base64, hex, PEM) is a 400 problem.

Hot path: the parsed CA and the parsed, chain-checked certificates are cached (a certificate's
chain check never changes while the CA does not); the revocation status is read live, every
call, with SQL built once.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from flask import current_app

from app import audit
from app.crypto import x509
from app.crypto.ca import platform_ca
from app.crypto.sm2 import SM2PublicKey, decode_signature
from app.crypto.sm3 import sm3_hex
from app.db import utcnow
from app.i18n import N_
from app.ratelimit import Limit, consume
from app.security.pii import mask_name
from signing import models
from signing.errors import VerificationInputInvalid

TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE = "TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE"
_CACHE_MAX = 4096


@dataclass(frozen=True)
class _Cert:
    serial: str
    issuer: str
    chain_ok: bool
    public_key: SM2PublicKey | None
    not_before: datetime
    not_after: datetime
    signer: dict[str, str | None]


_cache: dict[str, Any] = {"ca_der": None, "ca_key": None, "ca_subject": None, "certs": {}}


def _ca_state() -> tuple[SM2PublicKey, bytes]:
    ca_der = platform_ca().certificate_der()
    if _cache["ca_der"] != ca_der:  # first call, or another CA (tests, a CA renewal): start over
        cert = asn1_x509.Certificate.load(ca_der)
        _cache.update(ca_der=ca_der, ca_key=SM2PublicKey.from_der(cert.public_key.dump()),
                      ca_subject=cert.subject.dump(), certs={})
    return _cache["ca_key"], _cache["ca_subject"]


def _signer(cert: asn1_x509.Certificate) -> dict[str, str | None]:
    subject = cert.subject.native
    return {"name_masked": mask_name(subject.get("common_name")),
            "id_number_masked": subject.get("organizational_unit_name")}  # masked at issuance


def _parse(pem: str) -> _Cert:
    ca_key, ca_subject = _ca_state()
    cached = _cache["certs"].get(pem)
    if cached is not None:
        return cached
    try:
        cert = x509.load_certificate(pem.encode())
        tbs = cert["tbs_certificate"]
        chain_ok = (cert.issuer.dump() == ca_subject
                    and cert["signature_algorithm"]["algorithm"].dotted == x509.SM2_SM3_OID
                    and ca_key.verify(cert["signature_value"].native, tbs.dump()))
        public_key = SM2PublicKey.from_der(cert.public_key.dump()) if chain_ok else None
        parsed = _Cert(serial=x509.serial_hex(cert.serial_number), issuer=cert.issuer.human_friendly,
                       chain_ok=chain_ok, public_key=public_key, not_before=cert.not_valid_before,
                       not_after=cert.not_valid_after, signer=_signer(cert))
    except Exception:  # noqa: BLE001 - asn1crypto raises ValueError, TypeError, KeyError … on garbage
        raise VerificationInputInvalid(errors={"certificate_pem": [N_("证书无法解析。")]}) from None
    if len(_cache["certs"]) >= _CACHE_MAX:
        _cache["certs"].clear()
    _cache["certs"][pem] = parsed
    return parsed


def _decode(body: dict[str, Any]) -> tuple[bytes | None, bytes | None, bytes]:
    try:
        document = base64.b64decode(body["document_b64"], validate=True) if body.get("document_b64") is not None \
            else None
        signature = base64.b64decode(body["signature_b64"], validate=True)
    except (binascii.Error, ValueError):
        raise VerificationInputInvalid(errors={"document_b64": [N_("Base64 编码无效。")]}) from None
    e = bytes.fromhex(body["e_hex"]) if body.get("e_hex") else None
    return document, e, signature


def _assess(cert: _Cert, document: bytes | None, e: bytes | None, signature: bytes,
            now: datetime) -> tuple[str, str | None, dict[str, Any]]:
    """(indication, sub_indication, certificate part of the report)."""
    part: dict[str, Any] = {"serial": cert.serial, "issuer": cert.issuer, "status": "unknown",
                            "not_before": cert.not_before, "not_after": cert.not_after}
    if not cert.chain_ok:
        return INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND", part
    status, revoked_at, reason = models.certificate_status(cert.serial)
    part.update(status=status, revoked_at=revoked_at, revocation_reason=reason)
    try:
        decode_signature(signature)
    except ValueError:
        return TOTAL_FAILED, "FORMAT_FAILURE", part
    if e is None:
        e = cert.public_key.digest(document)
    if not cert.public_key.verify_digest(signature, e):
        recorded = models.signature_record(sm3_hex(signature))
        return TOTAL_FAILED, "HASH_FAILURE" if recorded and recorded[0] != e.hex() else "SIG_CRYPTO_FAILURE", part
    if status != "good":
        return INDETERMINATE, "REVOKED_NO_POE", part
    if not cert.not_before <= now <= cert.not_after:
        part["status"] = "expired" if now > cert.not_after else "not_yet_valid"
        return INDETERMINATE, "OUT_OF_BOUNDS_NO_POE", part
    return TOTAL_PASSED, None, part


def verify(*, client_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The validation report for one signature; every call is rate-limited per client and audited."""
    consume([Limit(f"verify-sig:{client_id}", current_app.config["SIGNATURE_VERIFY_PER_MINUTE"], 60)])
    document, e, signature = _decode(body)
    cert = _parse(body["certificate_pem"])
    now = utcnow()
    indication, sub_indication, part = _assess(cert, document, e, signature, now)
    audit.record("signing.verify", outcome="success" if indication == TOTAL_PASSED else "refused",
                 actor_kind="client", actor_id=client_id, target=cert.serial,
                 details={"indication": indication, "sub_indication": sub_indication})
    return {"indication": indication, "sub_indication": sub_indication, "valid": indication == TOTAL_PASSED,
            "signer": cert.signer, "certificate": part, "checked_at": now}
