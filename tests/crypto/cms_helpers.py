"""Self-signed SM2 certificates and in-memory signers for the CMS tests (no app, no key store)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from asn1crypto import keys

from app.crypto import cms
from app.crypto import x509 as X
from app.crypto.sm2 import SM2PrivateKey


def make_cert(key: SM2PrivateKey, cn: str = "CMS test", *, serial: int | None = None, issuer_cn: str | None = None) -> bytes:
    spki = keys.PublicKeyInfo.load(key.public_key().public_bytes_der())
    now = datetime.now(timezone.utc)
    ski = X.key_identifier(spki)
    tbs = X.build_tbs_certificate(
        serial=serial or X.random_serial(), issuer=X.build_name({"CN": issuer_cn or cn}),
        subject=X.build_name({"CN": cn}), spki=spki, not_before=now - timedelta(minutes=1),
        not_after=now + timedelta(days=1),
        extensions=X.certificate_extensions(ca=False, key_usage=["digitalSignature"], subject_key_id=ski,
                                            authority_key_id=ski))
    return X.assemble_certificate(tbs, key.sign(tbs.dump())).dump()


def make_signer(cn: str = "CMS test") -> tuple[cms.Signer, SM2PrivateKey]:
    key = SM2PrivateKey.generate()
    return cms.Signer(make_cert(key, cn), sign=key.sign, sign_digest=key.sign_digest), key


def resign_rfc5652(der: bytes, key: SM2PrivateKey) -> bytes:
    """The same SignedData with its signature replaced by one made the RFC 5652 way (SM2 with Z, the
    default ID, over the DER SET OF signed attributes), of the same length so no length changes."""
    info = cms.parse(der)
    while True:
        signature = key.sign(info.signed_attributes_der)
        if len(signature) == len(info.signature):
            return der.replace(info.signature, signature, 1)
