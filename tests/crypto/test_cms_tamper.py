"""app.crypto.cms refuses tampered and malformed SignedData, and never raises anything but CmsError."""
from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from app.crypto import cms
from app.crypto.cms import der as d
from app.crypto.sm3 import sm3
from tests.crypto.cms_helpers import make_cert, make_signer

DOC = b"contract text, version 3\n" * 20
WHEN = datetime(2026, 12, 6, 8, 30, 15, tzinfo=timezone.utc)
PROFILES = (cms.PROFILE_GM, cms.PROFILE_PKCS7)


@pytest.fixture(scope="module")
def signer():
    return make_signer()[0]


def _flip(data: bytes, needle: bytes, offset: int = 0) -> bytes:
    at = data.index(needle) + offset
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def _replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1 and len(old) == len(new)
    return data.replace(old, new, 1)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("detached", (True, False))
def test_tampering(signer, profile, detached):
    der = cms.sign(DOC, signer=signer, profile=profile, detached=detached, signing_time=WHEN)
    info = cms.parse(der)
    assert cms.verify(der, content=DOC).ok
    # the content
    changed = DOC[:-1] + b"!"
    assert cms.verify(der, content=changed).reason == "digest_mismatch"
    if not detached:
        assert cms.verify(_flip(der, DOC, 5)).reason in ("digest_mismatch", "signature_invalid")
        assert not cms.verify(_flip(der, DOC, 5)).ok
    # the messageDigest attribute (matching a changed content: only the signature can tell)
    forged = _replace(der, sm3(DOC), sm3(changed))
    if detached:
        assert cms.verify(forged, content=changed).reason == "signature_invalid"
    # signingTime
    later = _replace(der, b"261206083015Z", b"261206093015Z")
    assert cms.verify(later, content=DOC).reason == "signature_invalid"
    # the signature value
    sig_at = der.index(info.signature)
    bad_sig = der[:sig_at + 20] + bytes([der[sig_at + 20] ^ 0x40]) + der[sig_at + 21:]
    assert cms.verify(bad_sig, content=DOC).reason == "signature_invalid"


def _pieces(der: bytes) -> list[bytes]:
    """The SignedData's elements: version, digestAlgorithms, encapContentInfo, [0] certificates, signerInfos."""
    outer = d.Reader(der).inner(d.SEQUENCE)
    outer.oid()
    sd = outer.inner(d.CTX0).inner(d.SEQUENCE)
    pieces = []
    while sd.more():
        pieces.append(sd.raw())
    return pieces


def _with_certificates(der: bytes, profile: str, certificates: list[bytes]) -> bytes:
    pieces = _pieces(der)
    assert pieces[3][0] == d.CTX0
    pieces[3] = d.tlv(d.CTX0, b"".join(certificates))
    return _rewrap(der, b"".join(pieces), profile)


@pytest.mark.parametrize("profile", PROFILES)
def test_certificate_swap(signer, profile):
    der = cms.sign(DOC, signer=signer, profile=profile, signing_time=WHEN)
    assert cms.verify(_with_certificates(der, profile, [signer.certificate_der]), content=DOC).ok
    other_signer, other_key = make_signer("someone else")
    # another certificate in its place: the sid names nobody
    swapped = _with_certificates(der, profile, [other_signer.certificate_der])
    assert cms.verify(swapped, content=DOC).reason == "signer_not_found"
    assert cms.parse(swapped).certificate_der == b""
    assert cms.verify(_with_certificates(der, profile, []), content=DOC).reason == "signer_not_found"
    # a certificate with the same issuer and serial but another key: ESS signingCertificateV2 tells
    from asn1crypto import x509
    tbs = x509.Certificate.load(signer.certificate_der)["tbs_certificate"]
    twin = make_cert(other_key, "CMS test", serial=tbs["serial_number"].native)
    twinned = _with_certificates(der, profile, [twin])
    assert cms.parse(twinned).certificate_der == twin
    assert cms.verify(twinned, content=DOC).reason == "signer_not_found"
    # without ESS (a SignedData made for the twin certificate by the first key) the signature fails
    twin_signer = cms.Signer(twin, sign=signer.sign, sign_digest=signer.sign_digest)
    assert cms.verify(cms.sign(DOC, signer=twin_signer, profile=profile),
                      content=DOC).reason == "signature_invalid"


def test_content_type_mismatch(signer):
    tst_info, other = "1.2.840.113549.1.9.16.1.4", "1.2.840.113549.1.9.16.1.5"
    der = cms.sign(DOC, signer=signer, profile=cms.PROFILE_PKCS7, content_type=tst_info)
    assert cms.verify(der, content=DOC).ok
    # the first occurrence is eContentType (encapContentInfo precedes the SignerInfo)
    moved = _replace(der, d.oid(tst_info), d.oid(other))
    assert cms.parse(moved).content_type == other
    assert cms.verify(moved, content=DOC).reason == "content_type_mismatch"


def _rewrap(der: bytes, signed_data_body: bytes, profile: str) -> bytes:
    return d.seq(d.oid(cms.model.SIGNED_DATA_OID[profile]), d.tlv(d.CTX0, d.seq(signed_data_body)))


@pytest.mark.parametrize("profile", PROFILES)
def test_structure_refused(signer, profile):
    der = cms.sign(DOC, signer=signer, profile=profile, detached=False)
    pieces = _pieces(der)
    infos = d.Reader(pieces[-1]).inner(d.SET)
    one = infos.raw(d.SEQUENCE)
    assert cms.verify(_rewrap(der, b"".join(pieces), profile)).ok   # the rebuild itself is faithful
    cases = {
        "two signer infos": b"".join(pieces[:-1]) + d.set_of([one, one]),
        "no signer info": b"".join(pieces[:-1]) + d.tlv(d.SET, b""),
        "sha256 digest algorithm": pieces[0] + d.set_of([d.algorithm("2.16.840.1.101.3.4.2.1")])
        + b"".join(pieces[2:]),
        "no digest algorithm": pieces[0] + d.tlv(d.SET, b"") + b"".join(pieces[2:]),
        "version 2": d.integer(2) + b"".join(pieces[1:]),
    }
    for name, body in cases.items():
        assert cms.verify(_rewrap(der, body, profile)).reason == "format", name
        with pytest.raises(cms.CmsError):
            cms.parse(_rewrap(der, body, profile))
    for bad in (der + b"\x00", der + der, der[:-1], b"", b"\x30\x80" + der[2:] + b"\x00\x00",
                d.seq(d.oid("1.2.840.113549.1.7.1"), d.tlv(d.CTX0, d.tlv(d.OCTET_STRING, DOC)))):
        assert cms.verify(bad, content=DOC).reason == "format"
        with pytest.raises(cms.CmsError):
            cms.parse(bad)
    # an unknown signature algorithm (1.2.156.10197.1.504 rsa-with-sm3 in the SignerInfo, the last one)
    old, new = d.algorithm(cms.OID_SM2_SM3), d.algorithm("1.2.156.10197.1.504")
    at = der.rindex(old)
    assert cms.verify(der[:at] + new + der[at + len(new):]).reason == "format"


def test_ber_indefinite_length_refused(signer):
    der = cms.sign(DOC, signer=signer, detached=False)
    outer = d.Reader(der).inner(d.SEQUENCE)
    body = der[outer.pos:outer.end]
    ber = b"\x30\x80" + body + b"\x00\x00"
    with pytest.raises(cms.CmsError, match="indefinite"):
        cms.parse(ber)


def test_garbage_only_raises_cms_error(signer):
    rng = random.Random(18)
    samples = [cms.sign(DOC, signer=signer, profile=p, detached=det, unsigned_attributes=[("1.2.3", b"\x05\x00")])
               for p in PROFILES for det in (True, False)]
    for der in samples:
        for _ in range(250):
            mutated = bytearray(der)
            kind = rng.randrange(3)
            if kind == 0:
                mutated = mutated[:rng.randrange(len(der))]
            elif kind == 1:
                at = rng.randrange(len(der))
                mutated[at] ^= 1 << rng.randrange(8)
            else:
                at = rng.randrange(len(der))
                mutated[at:at] = bytes([rng.randrange(256)])
            mutated = bytes(mutated)
            try:
                cms.parse(mutated)
            except cms.CmsError:
                pass
            check = cms.verify(mutated, content=DOC)
            assert isinstance(check.ok, bool)
            try:
                cms.add_unsigned_attribute(mutated, cms.OID_TIMESTAMP_TOKEN, b"\x05\x00")
            except cms.CmsError:
                pass
    for junk in (b"\x00", b"\x30", b"\x30\x00", bytes(range(256)), b"\x30\x84\xff\xff\xff\xff"):
        with pytest.raises(cms.CmsError):
            cms.parse(junk)
    with pytest.raises(cms.CmsError):
        cms.parse("not bytes")
    assert cms.verify("not bytes").reason == "format"
