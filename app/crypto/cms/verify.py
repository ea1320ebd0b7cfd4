"""Reading and checking a SignedData: `parse` and `verify`."""
from __future__ import annotations

from app.crypto.cms import der
from app.crypto.cms.build import certificate_hash, gm_signed_digest
from app.crypto.cms.decode import Decoded, decode, find_signer, load_certificate
from app.crypto.cms.model import (
    OID_SIGNING_CERTIFICATE_V2, PROFILE_GM, CmsCheck, CmsError, SignedDataInfo,
)
from app.crypto.sm2 import SM2PublicKey
from app.crypto.sm3 import sm3


def _info(decoded: Decoded) -> SignedDataInfo:
    digest = decoded.message_digest if decoded.signed_attributes is not None else sm3(decoded.content)
    return SignedDataInfo(
        profile=decoded.profile, content_type=decoded.content_type, content=decoded.content, digest=digest,
        signing_time=decoded.signing_time, certificate_der=find_signer(decoded) or b"",
        certificates=list(decoded.certificates), signature=decoded.signature,
        signed_attributes_der=decoded.signed_attributes_der,
        unsigned_attributes={k: list(v) for k, v in decoded.unsigned_attributes.items()},
    )


def parse(cms_der: bytes) -> SignedDataInfo:
    """The decoded SignedData; CmsError for anything malformed (see the package docstring)."""
    return _info(decode(cms_der))


def _ess_matches(decoded: Decoded, cert_der: bytes) -> bool:
    """signingCertificateV2, when present, names this certificate (first ESSCertIDv2)."""
    value = (decoded.signed_attributes or {}).get(OID_SIGNING_CERTIFICATE_V2)
    if value is None:
        return True
    if len(value) != 1:
        raise CmsError("signingCertificateV2 must have one value")
    certs = der.Reader(value[0]).inner(der.SEQUENCE).inner(der.SEQUENCE)
    cert_id = certs.inner(der.SEQUENCE)
    algorithm = "2.16.840.1.101.3.4.2.1"   # RFC 5035 default: SHA-256
    if cert_id.peek() == der.SEQUENCE:
        algorithm = der.read_algorithm(cert_id)
    expected = certificate_hash(algorithm, cert_der)
    if expected is None:
        raise CmsError("unsupported signingCertificateV2 hash algorithm")
    return cert_id.value(der.OCTET_STRING) == expected


def _signature_ok(decoded: Decoded, cert_der: bytes) -> bool:
    cert = load_certificate(cert_der)
    try:
        key = SM2PublicKey.from_der(cert.public_key.dump())
    except ValueError:
        return False
    signature = decoded.signature
    if decoded.profile == PROFILE_GM:
        e = gm_signed_digest(decoded.content_type, decoded.content, decoded.signed_attributes_inner or b"")
        if key.verify_digest(signature, e):
            return True
        if decoded.signed_attributes_inner is None:
            return False
    # RFC 5652 §5.4 (and GM/T 0010 as other producers read it): SM2 with Z (default ID) over the DER SET.
    return key.verify(signature, decoded.signed_attributes_der)


def verify(cms_der: bytes, *, content: bytes | None = None, digest: bytes | None = None) -> CmsCheck:
    """Check one SignedData (not the certificate chain, not revocation: callers do that).

    Detached needs `content` (or `digest`, the SM3 of the content). Never raises for bad input."""
    try:
        decoded = decode(cms_der)
        info = _info(decoded)
    except CmsError:
        return CmsCheck(False, "format", None)
    try:
        reason = _check(decoded, info, content, digest)
    except CmsError:
        reason = "format"
    return CmsCheck(reason is None, reason, info)


def _check(decoded: Decoded, info: SignedDataInfo, content: bytes | None, digest: bytes | None) -> str | None:
    if content is not None:
        content_digest = sm3(bytes(content))
        if digest is not None and bytes(digest) != content_digest:
            return "digest_mismatch"
    elif digest is not None:
        content_digest = bytes(digest)
    elif decoded.content is not None:
        content_digest = sm3(decoded.content)
    else:
        return "no_content"
    if decoded.content is not None and content_digest != sm3(decoded.content):
        return "digest_mismatch"   # the content given is not the attached one
    if decoded.signed_attributes is not None:
        if decoded.content_type_attribute != decoded.content_type:
            return "content_type_mismatch"
        if decoded.message_digest != content_digest:
            return "digest_mismatch"
    if not info.certificate_der or not _ess_matches(decoded, info.certificate_der):
        return "signer_not_found"
    if not _signature_ok(decoded, info.certificate_der):
        return "signature_invalid"
    return None
