"""app.crypto.cms: round trips of both profiles, and everything a tampered or malformed SignedData
must not get past. (GmSSL's view of the same bytes: test_cms_gmssl.py.)"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.crypto import cms
from app.crypto.sm2 import SM2PublicKey
from app.crypto.sm3 import sm3
from tests.crypto.cms_helpers import make_cert, make_signer, resign_rfc5652

DOC = "易网 电子签名 CMS test document\n".encode() * 3
WHEN = datetime(2026, 12, 6, 8, 30, 15, tzinfo=timezone.utc)
PROFILES = (cms.PROFILE_GM, cms.PROFILE_PKCS7)


@pytest.fixture(scope="module")
def signer():
    return make_signer()[0]


def _der(signer, profile=cms.PROFILE_GM, detached=True, **kwargs):
    kwargs.setdefault("signing_time", WHEN)
    return cms.sign(DOC, signer=signer, profile=profile, detached=detached, **kwargs)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("detached", (True, False))
def test_round_trip(signer, profile, detached):
    der = _der(signer, profile, detached)
    check = cms.verify(der, content=DOC)
    assert (check.ok, check.reason) == (True, None)
    info = check.info
    assert info.profile == profile
    assert info.content_type == {"gm": cms.OID_GM_DATA, "pkcs7": cms.OID_PKCS7_DATA}[profile]
    assert info.content == (None if detached else DOC)
    assert info.digest == sm3(DOC)
    assert info.signing_time == WHEN
    assert info.certificate_der == signer.certificate_der and info.certificates == [signer.certificate_der]
    assert info.unsigned_attributes == {}
    assert der[:1] == b"\x30" and cms.parse(der) == info
    # the signature is over exactly the bytes parse reports, by the convention of the profile
    key = SM2PublicKey.from_der(
        __import__("asn1crypto.x509").x509.Certificate.load(info.certificate_der).public_key.dump())
    assert info.signed_attributes_der[:1] == b"\x31"
    if profile == cms.PROFILE_PKCS7:
        assert key.verify(info.signature, info.signed_attributes_der)
    else:
        e = cms.gm_signed_digest(info.content_type, info.content, info.signed_attributes_der[2:]
                                 if info.signed_attributes_der[1] < 0x80 else
                                 info.signed_attributes_der[2 + (info.signed_attributes_der[1] & 0x7F):])
        assert key.verify_digest(info.signature, e)
        assert not key.verify(info.signature, info.signed_attributes_der)
    if detached:
        assert cms.verify(der).reason == "no_content"
        assert cms.verify(der, digest=sm3(DOC)).ok
    else:
        assert cms.verify(der).ok


@pytest.mark.parametrize("profile", PROFILES)
def test_digest_only_and_content_type(signer, profile):
    der = cms.sign(None, signer=signer, profile=profile, digest=sm3(DOC), content_type="1.2.840.113549.1.9.16.1.4")
    assert cms.verify(der, content=DOC).ok and cms.verify(der, digest=sm3(DOC)).ok
    assert cms.parse(der).content_type == "1.2.840.113549.1.9.16.1.4"
    assert cms.verify(der, content=DOC + b"x").reason == "digest_mismatch"
    assert cms.verify(der, content=DOC, digest=sm3(b"other")).reason == "digest_mismatch"
    with pytest.raises(cms.CmsError):
        cms.sign(None, signer=signer, profile=profile, digest=sm3(DOC), detached=False)
    with pytest.raises(cms.CmsError):
        cms.sign(DOC, signer=signer, profile=profile, digest=sm3(b"other"))
    with pytest.raises(cms.CmsError):
        cms.sign(None, signer=signer, profile=profile)
    for bad_oid in ("data", "1.2.x", "3.1", "1.40", "", None and "", "1..2"):
        with pytest.raises(cms.CmsError):
            cms.sign(DOC, signer=signer, profile=profile, content_type=bad_oid or "x")
        with pytest.raises(cms.CmsError):
            cms.sign(DOC, signer=signer, profile=profile, unsigned_attributes=[(bad_oid or "x", b"\x05\x00")])
    with pytest.raises(cms.CmsError):
        cms.sign(DOC, signer=signer, profile="cades")


def test_a_key_that_is_not_the_certificates_is_refused_at_signing():
    signer, _ = make_signer()
    _, other = make_signer()
    wrong = cms.Signer(signer.certificate_der, sign=other.sign, sign_digest=other.sign_digest)
    for profile in PROFILES:
        with pytest.raises(cms.CmsError, match="does not verify"):
            cms.sign(DOC, signer=wrong, profile=profile, check=True)
        assert cms.verify(cms.sign(DOC, signer=signer, profile=profile, check=True), content=DOC).ok
        unchecked = cms.sign(DOC, signer=wrong, profile=profile)
        assert cms.verify(unchecked, content=DOC).reason == "signature_invalid"


def test_signed_attributes_are_sorted_and_complete(signer):
    info = cms.parse(_der(signer))
    body = info.signed_attributes_der
    from app.crypto.cms import der as d
    reader = d.Reader(body).inner(d.SET)
    raws, oids = [], []
    while reader.more():
        raw = reader.raw(d.SEQUENCE)
        raws.append(raw)
        oids.append(d.Reader(raw).inner(d.SEQUENCE).oid())
    assert raws == sorted(raws)
    assert set(oids) == {"1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.5",
                         cms.OID_SIGNING_CERTIFICATE_V2}
    assert b"\x17\x0d261206083015Z" in body   # signingTime is a UTCTime
    assert sm3(signer.certificate_der) in body  # ESSCertIDv2 certHash, SM3


def test_gm_profile_needs_sign_digest(signer):
    bare = cms.Signer(signer.certificate_der, sign=signer.sign)
    with pytest.raises(cms.CmsError, match="sign_digest"):
        cms.sign(DOC, signer=bare)
    assert cms.verify(cms.sign(DOC, signer=bare, profile=cms.PROFILE_PKCS7), content=DOC).ok


def test_from_key_store_uses_both_operations():
    calls = []
    _, key = make_signer()

    class Store:
        def sign(self, key_id, message):
            calls.append(("sign", key_id))
            return key.sign(message)

        def sign_digest(self, key_id, e):
            calls.append(("sign_digest", key_id))
            return key.sign_digest(e)

    s = cms.Signer.from_key_store(make_cert(key), Store(), "k1")
    assert cms.verify(cms.sign(DOC, signer=s), content=DOC).ok
    assert cms.verify(cms.sign(DOC, signer=s, profile=cms.PROFILE_PKCS7), content=DOC).ok
    assert calls == [("sign_digest", "k1"), ("sign", "k1")]


@pytest.mark.parametrize("profile", PROFILES)
def test_unsigned_attributes_keep_the_signature(signer, profile):
    extra = make_cert(make_signer("CA")[1], "CA")
    der = _der(signer, profile, extra_certificates=[extra], unsigned_attributes=[("1.2.3.4", b"\x05\x00")])
    token = b"\x30\x03\x02\x01\x07"
    stamped = cms.add_unsigned_attribute(der, cms.OID_TIMESTAMP_TOKEN, token)
    again = cms.add_unsigned_attribute(stamped, cms.OID_TIMESTAMP_TOKEN, b"\x30\x03\x02\x01\x08")
    for value in (der, stamped, again):
        check = cms.verify(value, content=DOC)
        assert check.ok, check.reason
        assert set(check.info.certificates) == {signer.certificate_der, extra}
        assert check.info.certificate_der == signer.certificate_der
    info = cms.parse(again)
    assert info.unsigned_attributes == {"1.2.3.4": [b"\x05\x00"],
                                        cms.OID_TIMESTAMP_TOKEN: [token, b"\x30\x03\x02\x01\x08"]}
    assert info.signature == cms.parse(der).signature
    assert info.signed_attributes_der == cms.parse(der).signed_attributes_der
    for bad in (b"", b"\x04\x01", b"\x05\x00\x00", "text"):
        with pytest.raises(cms.CmsError):
            cms.add_unsigned_attribute(der, cms.OID_TIMESTAMP_TOKEN, bad)
    with pytest.raises(cms.CmsError):
        cms.add_unsigned_attribute(der + b"\x00", cms.OID_TIMESTAMP_TOKEN, token)


def test_gm_profile_also_accepts_the_rfc5652_signature():
    """Other GM/T 0010 producers sign the DER SET of signed attributes with Z (as RFC 5652 says):
    accepted beside GmSSL's convention; a tampered one is still refused."""
    signer, key = make_signer()
    for detached in (True, False):
        der = cms.sign(DOC, signer=signer, detached=detached)
        other_way = resign_rfc5652(der, key)
        assert other_way != der and cms.verify(other_way, content=DOC).ok
        later = other_way.replace(cms.parse(der).signed_attributes_der[-20:], bytes(20), 1)
        assert not cms.verify(later, content=DOC).ok
