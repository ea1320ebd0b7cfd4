"""CMS SignedData interop with GmSSL 3.1.1, an implementation nobody here wrote (issue 18):
YiWang's SignedData pass `gmssl cmsverify` (and fail it once altered); GmSSL's `cmssign` output
passes `cms.verify`. Keys: a GmSSL-made key and certificate, a self-signed one made here, and a key
in the platform key store with a certificate from the platform CA.

Skips without GmSSL (make gmssl); fails instead when REQUIRE_GMSSL=1 (.ci/run)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from asn1crypto import x509 as asn1_x509

from app.crypto import cms
from app.crypto.ca import keystore
from app.crypto.sm3 import sm3
from tests.crypto.cms_helpers import make_signer, resign_rfc5652

DOC = "电子签名法第十三条 — interop document\n".encode() * 10
WHEN = datetime(2026, 12, 6, 9, 0, 0, tzinfo=timezone.utc)


def _assert_gmssl_accepts(gmssl, tmp_path: Path, der: bytes, expected_content: bytes | None) -> None:
    path = gmssl.write_cms(tmp_path / "yiwang.pem", der)
    out = tmp_path / "content.out"
    result = gmssl.cmsverify(path, out)
    assert result.returncode == 0 and b"verify success" in result.stdout + result.stderr, result.stderr
    if expected_content is not None:
        assert out.read_bytes() == expected_content


def _assert_gmssl_refuses(gmssl, tmp_path: Path, der: bytes) -> None:
    result = gmssl.cmsverify(gmssl.write_cms(tmp_path / "altered.pem", der))
    assert result.returncode != 0 and b"verify success" not in result.stdout


def _flip_at(der: bytes, at: int) -> bytes:
    return der[:at] + bytes([der[at] ^ 0x01]) + der[at + 1:]


def _check_yiwang_signer(gmssl, tmp_path: Path, signer: cms.Signer) -> None:
    attached = cms.sign(DOC, signer=signer, detached=False, signing_time=WHEN,
                        unsigned_attributes=[(cms.OID_TIMESTAMP_TOKEN, b"\x30\x03\x02\x01\x01")])
    detached = cms.sign(DOC, signer=signer, detached=True, signing_time=WHEN)
    digest_only = cms.sign(None, digest=sm3(DOC), signer=signer, signing_time=WHEN)
    _assert_gmssl_accepts(gmssl, tmp_path, attached, DOC)
    _assert_gmssl_accepts(gmssl, tmp_path, detached, None)
    _assert_gmssl_accepts(gmssl, tmp_path, digest_only, None)
    _assert_gmssl_accepts(gmssl, tmp_path, cms.add_unsigned_attribute(detached, cms.OID_TIMESTAMP_TOKEN,
                                                                      b"\x05\x00"), None)
    # one flipped byte of the attached content, and of the signature value: GmSSL refuses both
    _assert_gmssl_refuses(gmssl, tmp_path, _flip_at(attached, attached.index(DOC) + 7))
    for der in (attached, detached):
        signature = cms.parse(der).signature
        _assert_gmssl_refuses(gmssl, tmp_path, _flip_at(der, der.index(signature) + len(signature) // 2))
    # and a flipped byte in the signed attributes (the signing time) of the detached one
    _assert_gmssl_refuses(gmssl, tmp_path, detached.replace(b"261206090000Z", b"261206090001Z"))
    # the README's re-check of a detached one: `gmssl cmsparse` shows the messageDigest attribute,
    # `gmssl sm3 -in doc` the document's SM3, and they agree
    parsed = gmssl.run("cmsparse", "-in", str(gmssl.write_cms(tmp_path / "detached.pem", detached))).stdout.decode()
    document = tmp_path / "doc.bin"
    document.write_bytes(DOC)
    digest_hex = gmssl.run("sm3", "-in", str(document)).stdout.decode().strip()
    assert digest_hex == sm3(DOC).hex() and f"values: 0420{digest_hex.upper()}" in parsed
    # GmSSL cannot take a detached content (`cmsverify` has no -content option, tools/cmsverify.c):
    # the content of a detached SignedData is bound by messageDigest, which cms.verify checks
    assert cms.verify(detached, content=DOC).ok and cms.verify(detached, content=DOC + b" ").reason == "digest_mismatch"


def test_gmssl_verifies_a_self_signed_yiwang_signer(gmssl, tmp_path):
    _check_yiwang_signer(gmssl, tmp_path, make_signer("YiWang interop")[0])


def test_gmssl_refuses_the_rfc5652_signature_convention(gmssl, tmp_path):
    """Why the GM profile signs GmSSL's way: the same SignedData signed the RFC 5652 way (Z over the
    DER SET of signed attributes) passes cms.verify but not `gmssl cmsverify`."""
    signer, key = make_signer()
    der = cms.sign(DOC, signer=signer, detached=False)
    other_way = resign_rfc5652(der, key)
    assert cms.verify(other_way).ok
    _assert_gmssl_accepts(gmssl, tmp_path, der, DOC)
    _assert_gmssl_refuses(gmssl, tmp_path, other_way)


def test_gmssl_verifies_a_platform_ca_certificate_and_key_store_key(gmssl, tmp_path, ctx):
    store = keystore()
    key = store.generate(purpose="signing", owner="u_cms_interop", label="cms-interop")
    issued = ctx.extensions["ca"].issue_certificate(store.public_key(key.key_id), {"C": "CN", "O": "YiWang",
                                                                                   "CN": "u_cms_interop"},
                                                    days=30, key_usage={"digitalSignature", "nonRepudiation"})
    signer = cms.Signer.from_key_store(issued.der, store, key.key_id)
    _check_yiwang_signer(gmssl, tmp_path, signer)
    info = cms.verify(cms.sign(DOC, signer=signer, detached=False), content=DOC).info
    assert info.certificate_der == issued.der


def _gmssl_identity(gmssl, tmp_path: Path, cn: str) -> tuple[Path, Path]:
    key, cert = tmp_path / f"{cn}.key.pem", tmp_path / f"{cn}.cert.pem"
    gmssl.run("sm2keygen", "-pass", "P@ss-1", "-out", str(key), "-pubout", str(tmp_path / f"{cn}.pub.pem"))
    gmssl.run("certgen", "-C", "CN", "-O", "GmSSL interop", "-CN", cn, "-days", "30", "-key", str(key),
              "-pass", "P@ss-1", "-key_usage", "digitalSignature", "-out", str(cert))
    return key, cert


def test_yiwang_verifies_gmssl_cmssign(gmssl, tmp_path):
    key, cert = _gmssl_identity(gmssl, tmp_path, "gmssl-signer")
    document = tmp_path / "doc.txt"
    document.write_bytes(DOC)
    out = tmp_path / "gmssl.cms.pem"
    gmssl.run("cmssign", "-key", str(key), "-pass", "P@ss-1", "-cert", str(cert), "-in", str(document),
              "-out", str(out))
    der = gmssl.read_pem(out)
    assert gmssl.cmsverify(out).returncode == 0
    check = cms.verify(der)
    assert (check.ok, check.reason) == (True, None)
    info = check.info
    assert info.profile == cms.PROFILE_GM and info.content_type == cms.OID_GM_DATA and info.content == DOC
    assert info.digest == sm3(DOC)   # GmSSL writes no signed attributes: the digest is SM3(eContent)
    assert info.signing_time is None and info.signed_attributes_der == b""
    assert info.certificate_der == gmssl.read_pem(cert)
    subject = asn1_x509.Certificate.load(info.certificate_der).subject.native
    assert subject["common_name"] == "gmssl-signer"
    assert cms.verify(der, content=DOC).ok
    assert cms.verify(der, content=DOC + b"x").reason == "digest_mismatch"
    # altered content or signature: refused by both
    altered = _flip_at(der, der.index(DOC) + 3)
    assert cms.verify(altered).reason == "signature_invalid"
    _assert_gmssl_refuses(gmssl, tmp_path, altered)
    bad_sig = _flip_at(der, der.index(info.signature) + 40)
    assert cms.verify(bad_sig).reason == "signature_invalid"
    # and a GmSSL SignedData keeps verifying after a timestamp token is added to it, in both tools
    stamped = cms.add_unsigned_attribute(der, cms.OID_TIMESTAMP_TOKEN, b"\x30\x03\x02\x01\x02")
    assert cms.verify(stamped).ok
    _assert_gmssl_accepts(gmssl, tmp_path, stamped, DOC)


def _read_gmssl_key(path: Path, password: bytes):
    """GmSSL's encrypted PKCS#8 (PBES2: PBKDF2 with HMAC-SM3 1.2.156.10197.1.401.2, SM4-CBC
    1.2.156.10197.1.104.2), which neither OpenSSL 3.0 nor `cryptography` reads: decrypted here."""
    from asn1crypto import keys, pem
    from cryptography.hazmat.primitives import hashes, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    from app.crypto.sm2 import SM2PrivateKey

    info = keys.EncryptedPrivateKeyInfo.load(pem.unarmor(path.read_bytes())[2])
    params = info["encryption_algorithm"]["parameters"]
    kdf = params["key_derivation_func"]["parameters"].native
    assert params["key_derivation_func"]["algorithm"].native == "pbkdf2"
    assert kdf["prf"]["algorithm"] == "1.2.156.10197.1.401.2"
    assert params["encryption_scheme"]["algorithm"].dotted == "1.2.156.10197.1.104.2"
    key = PBKDF2HMAC(hashes.SM3(), kdf["key_length"] or 16, kdf["salt"], kdf["iteration_count"]).derive(password)
    iv = params["encryption_scheme"]["parameters"].native
    decryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(info["encrypted_data"].native) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return SM2PrivateKey.from_der(unpadder.update(padded) + unpadder.finalize())


def test_gmssl_key_and_certificate_sign_through_yiwang(gmssl, tmp_path):
    """A GmSSL-made key and certificate (sm2keygen, certgen) used by cms.sign, checked by GmSSL."""
    key_path, cert_path = _gmssl_identity(gmssl, tmp_path, "gmssl-key")
    key = _read_gmssl_key(key_path, b"P@ss-1")
    cert_der = gmssl.read_pem(cert_path)
    assert asn1_x509.Certificate.load(cert_der).public_key.dump() == key.public_key().public_bytes_der()
    signer = cms.Signer(cert_der, sign=key.sign, sign_digest=key.sign_digest)
    _check_yiwang_signer(gmssl, tmp_path, signer)
