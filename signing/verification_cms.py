"""Verifying a CMS SignedData (GM/T 0010, or RFC 5652 with SM2/SM3) and its signature timestamp (issue 18).

The body carries `cms_b64`: attached (the content inside), or detached with `document_b64`, or
detached with `document_sm3_hex` (SM3 of a large file, computed locally). The signer certificate
is the SignedData's own (`certificate_pem`, optional here, must then be that same certificate).

Steps, after the certificate chain (signing/verification.py): the SignedData is strict DER (else
TOTAL_FAILED / FORMAT_FAILURE; not a SignedData at all, or without a signer certificate: 400) → the
ESS signingCertificateV2 names the certificate (else INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND)
→ the SM2 signature over the signed attributes verifies (else TOTAL_FAILED / SIG_CRYPTO_FAILURE) →
messageDigest = SM3(content) (else TOTAL_FAILED / HASH_FAILURE; no content and no digest given for
a detached SignedData: INDETERMINATE / SIGNED_DATA_NOT_FOUND) → revocation and validity at the
proof-of-existence time given by the signature timestamp (id-aa-signatureTimeStampToken, imprint
= SM3 of the SignerInfo's signature value), checked with app/crypto/tsa.py.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from app.crypto import cms, tsa, x509
from app.crypto.sm3 import sm3, sm3_hex
from app.i18n import N_
from signing import report_models
from signing.errors import VerificationInputInvalid
from signing.report_findings import FORMAT_CMS, Findings
from signing.verification import INDETERMINATE, TOTAL_FAILED, certificate_part, judge_time, parse_certificate

_FAILURES = {"format": "FORMAT_FAILURE", "content_type_mismatch": "FORMAT_FAILURE",
             "signature_invalid": "SIG_CRYPTO_FAILURE", "digest_mismatch": "HASH_FAILURE"}


def _decode(body: dict[str, Any]) -> tuple[bytes, bytes | None, bytes | None]:
    """(SignedData DER, content, SM3 digest of the content) from the body."""
    decoded = {}
    for name in ("cms_b64", "document_b64"):
        try:
            decoded[name] = base64.b64decode(body[name], validate=True) if body.get(name) is not None else None
        except (binascii.Error, ValueError):
            raise VerificationInputInvalid(errors={name: [N_("Base64 编码无效。")]}) from None
    digest = bytes.fromhex(body["document_sm3_hex"]) if body.get("document_sm3_hex") else None
    return decoded["cms_b64"], decoded["document_b64"], digest


def _timestamp(info: cms.SignedDataInfo) -> tuple[dict[str, Any] | None, datetime | None]:
    """The report's timestamp part and the PoE time it gives (None unless the token is valid)."""
    tokens = info.unsigned_attributes.get(cms.OID_TIMESTAMP_TOKEN) or []
    if not tokens:
        return None, None
    check = tsa.verify_token(tokens[0], imprint=sm3(info.signature))
    usable = bool(check.valid and check.gen_time is not None)
    part = {"present": True, "valid": check.valid, "reason": check.reason, "gen_time": check.gen_time,
            "serial": format(check.serial, "x") if check.serial is not None else None, "policy": check.policy,
            "hash_algorithm": "SM3" if check.hash_oid == tsa.SM3_OID else check.hash_oid,
            "imprint_of": "SM3(signature value)", "tsa_serial": check.tsa_serial, "tsa_status": check.tsa_status,
            "tsa_revoked_at": check.tsa_revoked_at, "used_as_poe": usable, "count": len(tokens)}
    return part, (check.gen_time if usable else None)


def _signer_certificate(info: cms.SignedDataInfo, body: dict[str, Any]):
    if not info.certificate_der:
        raise VerificationInputInvalid(errors={"cms_b64": [N_("SignedData 中没有签名人证书。")]})
    pem = x509.to_pem("CERTIFICATE", info.certificate_der)
    if body.get("certificate_pem") is not None:
        given = parse_certificate(body["certificate_pem"])
        if given.der != info.certificate_der:
            raise VerificationInputInvalid(errors={"certificate_pem": [N_("与 SignedData 中的签名人证书不一致。")]})
    return parse_certificate(pem, field="cms_b64")


def _judge_signature(full: cms.CmsCheck, der: bytes, info: cms.SignedDataInfo) -> tuple[bool | None, bool | None]:
    """(signature_ok, digest match) from the full check: the signature judged on its own (against the
    messageDigest it carries: the full check looks at the digest first), the content against it."""
    if full.ok:
        return True, True
    if full.reason in ("signature_invalid", "signer_not_found"):
        return (False if full.reason == "signature_invalid" else None), True
    alone = cms.verify(der, digest=info.digest) if info.content is None else full
    signature_ok = True if alone.ok else (False if alone.reason == "signature_invalid" else None)
    return signature_ok, (False if full.reason == "digest_mismatch" else None)


def assess_cms(body: dict[str, Any], now: datetime) -> Findings:
    """The findings for a SignedData (the module's steps); VerificationInputInvalid when it is not one."""
    der, content, digest = _decode(body)
    full = cms.verify(der, content=content, digest=digest)  # never raises; no info: not a SignedData
    info = full.info
    if info is None:
        raise VerificationInputInvalid(errors={"cms_b64": [N_("不是有效的 CMS SignedData（DER）。")]})
    cert = _signer_certificate(info, body)
    found = Findings(format=FORMAT_CMS, indication=INDETERMINATE, sub_indication="NO_CERTIFICATE_CHAIN_FOUND",
                     certificate=cert, certificate_der=cert.der, certificate_part=certificate_part(cert),
                     signature_value=info.signature, checked_at=now, signed_over="signed_attributes")
    given = content if content is not None else info.content
    found.digest = {"algorithm": "SM3", "message_digest": info.digest.hex(), "match": None,
                    "source": "document" if content is not None else "attached" if info.content is not None
                    else "document_sm3_hex" if digest is not None else None,
                    "content_sm3": sm3_hex(given) if given is not None else (digest.hex() if digest else None)}
    found.extra = {"profile": info.profile, "content_type": info.content_type, "detached": info.content is None,
                   "signing_time": info.signing_time}
    found.timestamp, poe = _timestamp(info)
    found.platform_record = report_models.platform_signature(cms_sm3=sm3_hex(info.signature))
    if not cert.chain_ok:
        return found
    reason = full.reason
    found.signature_ok, found.digest["match"] = _judge_signature(full, der, info)
    if reason == "no_content":
        found.digest["match"] = None
        found.indication, found.sub_indication = INDETERMINATE, "SIGNED_DATA_NOT_FOUND"
    elif reason == "signer_not_found":
        found.indication, found.sub_indication = INDETERMINATE, "NO_SIGNING_CERTIFICATE_FOUND"
    elif reason is not None:
        found.format_ok = reason not in ("format", "content_type_mismatch")
        found.indication, found.sub_indication = TOTAL_FAILED, _FAILURES.get(reason, "FORMAT_FAILURE")
    else:
        judge_time(found, cert, now, poe)
    return found
