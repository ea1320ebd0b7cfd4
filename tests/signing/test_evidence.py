"""Every signature becomes evidence (issue 18): a CMS SignedData (GM/T 0010) with the platform
TSA's RFC 3161 token over its signature value, made under the same PIN authorisation.

Checked with app/crypto/cms and app/crypto/tsa (whose own tests prove them against GmSSL and
OpenSSL), by GmSSL 3.1 itself where the `gmssl` fixture has a binary, and by tampering: a changed
document, signature, signed attribute or token byte must fail."""
from __future__ import annotations

import base64
import json
import subprocess
from datetime import datetime, timedelta

from asn1crypto import parser

from app.audit import AuditEvent
from app.crypto import cms, tsa
from app.crypto.sm2 import SM2PublicKey
from app.crypto.sm3 import sm3, sm3_hex
from app.crypto.x509 import load_certificate, serial_hex
from app.db import db, utcnow
from signing import evidence
from signing.models import SigningDocument, SigningRequest, signature_by_cms_sm3
from tests import vectors
from tests.fixtures.gmssl import find_gmssl
from tests.helpers import assert_problem, bearer, rows
from tests.signing.conftest import BASE, DOCUMENT, PIN, authorize, b64, new_request, sign

OTHER = "另一份文件：甲方王五。".encode()


def _cms(signed: dict) -> bytes:
    assert signed["cms_b64"], signed
    return base64.b64decode(signed["cms_b64"])


def _contents(tlv: bytes) -> bytes:
    """The contents octets of a DER TLV (the signed attributes are [0] IMPLICIT in the SignerInfo)."""
    return parser.parse(tlv)[4]


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def _token_check(app, token: bytes, signature: bytes) -> tsa.TimestampCheck:
    """tsa.verify_token (the TSA certificate's chain and status are read from the platform CA)."""
    with app.app_context(), db.connection_context():
        return tsa.verify_token(token, imprint=sm3(signature))


def _check_stamped(app, der: bytes) -> tsa.TimestampCheck:
    """The SignedData's timestamp token: valid, over SM3(signature value), at ≈ signingTime."""
    info = cms.parse(der)
    token = evidence.timestamp_token(der)
    assert token is not None
    check = _token_check(app, token, info.signature)
    assert check.valid, check
    assert abs(check.gen_time - info.signing_time) <= timedelta(seconds=2)
    assert not _token_check(app, token, info.signature + b"\x00").valid  # bound to this signature value
    return check


def test_a_signed_document_carries_a_time_stamped_signed_data(app, client, signer):
    headers, cert = signer
    signed = sign(client, headers)
    der = _cms(signed)
    check = cms.verify(der, content=DOCUMENT)
    assert check.ok, check
    info = check.info
    assert info.profile == cms.PROFILE_GM and info.content is None  # detached
    assert info.digest == sm3(DOCUMENT) and info.digest.hex() == signed["document_sm3"]
    assert info.certificate_der == load_certificate(cert["certificate_pem"]).dump()
    signed_at = datetime.fromisoformat(signed["signed_at"])
    assert signed["signed_at"].endswith("+08:00")
    assert timedelta(0) <= signed_at - info.signing_time < timedelta(seconds=1)  # UTCTime keeps whole seconds
    stamp = _check_stamped(app, der)
    assert signed["timestamp"]["tsa_serial"] == stamp.tsa_serial
    assert datetime.fromisoformat(signed["timestamp"]["gen_time"]) == stamp.gen_time
    assert abs(stamp.gen_time - signed_at) < timedelta(seconds=2)
    assert signed["cms_attached_available"] is True

    # What was stored is what a relying party gets back, and finds again by the signature value.
    response = client.get(f"{BASE}/signatures/{signed['signature_id']}/cms", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pkcs7-signature"
    assert response.data == der
    listed = client.get(f"{BASE}/signatures", headers=headers).get_json()["items"]
    assert [s["cms_b64"] for s in listed] == [signed["cms_b64"]]
    with app.app_context(), db.connection_context():  # F2's verification finds the evidence by it
        assert signature_by_cms_sm3(sm3_hex(info.signature).upper()).id == signed["signature_id"]
    # The raw SM2 signature over e is still there for existing clients.
    key = SM2PublicKey.from_der(load_certificate(cert["certificate_pem"]).public_key.dump())
    assert key.verify(base64.b64decode(signed["signature_b64"]), DOCUMENT)

    (event,) = rows(app, AuditEvent, AuditEvent.action == "signing.sign")
    details = json.loads(event.details)
    assert details["cms"] is True and details["cms_attached"] is True
    assert "张三" not in event.details and DOCUMENT.decode() not in event.details


def test_tampering_with_the_document_signature_attributes_or_token_is_detected(app, client, signer):
    headers, _ = signer
    der = _cms(sign(client, headers))
    assert cms.verify(der, content=OTHER).reason == "digest_mismatch"
    info = cms.parse(der)
    at = der.index(info.signature) + 10
    assert cms.verify(_flip(der, at), content=DOCUMENT).reason == "signature_invalid"
    at = der.index(_contents(info.signed_attributes_der)) + 20  # inside the signed attributes
    assert not cms.verify(_flip(der, at), content=DOCUMENT).ok
    token = evidence.timestamp_token(der)
    tst_at = token.index(cms.parse(token).content) + 20
    assert _token_check(app, token, info.signature).valid
    assert not _token_check(app, _flip(token, tst_at), info.signature).valid


def test_the_attached_form(app, client, signer):
    headers, _ = signer
    signed = sign(client, headers)
    url = f"{BASE}/signatures/{signed['signature_id']}/cms"
    assert rows(app, SigningDocument) == []  # the document was kept only while the request was pending
    response = client.post(url, json={"document_b64": b64(DOCUMENT)}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pkcs7-mime"
    attached = response.data
    check = cms.verify(attached)
    assert check.ok, check
    assert check.info.content == DOCUMENT and check.info.digest == sm3(DOCUMENT)
    detached = cms.parse(_cms(signed))
    # The same signed attributes (digest, signing time, certificate); GmSSL's signature covers the
    # content, so the attached form has its own signature value and its own token.
    assert check.info.signed_attributes_der == detached.signed_attributes_der
    _check_stamped(app, attached)
    assert not cms.verify(attached.replace(DOCUMENT, OTHER[:len(DOCUMENT)].ljust(len(DOCUMENT), b" "))).ok

    assert_problem(client.post(url, json={"document_b64": b64(OTHER)}, headers=headers), 422, "document_mismatch")
    body = assert_problem(client.post(url, json={"document_b64": "not base64!"}, headers=headers), 422,
                          "validation_failed")
    assert "document_b64" in body["errors"]
    assert_problem(client.post(url, json={}, headers=headers), 422, "validation_failed")


def test_another_citizens_signature_is_not_found(client, signer, verified_citizen):
    headers, _ = signer
    signed = sign(client, headers)
    other = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    url = f"{BASE}/signatures/{signed['signature_id']}/cms"
    body = assert_problem(client.get(url, headers=other), 404, "signature_not_found")
    assert signed["document_sm3"] not in json.dumps(body)
    assert_problem(client.post(url, json={"document_b64": b64(DOCUMENT)}, headers=other), 404, "signature_not_found")
    assert_problem(client.get(f"{BASE}/signatures/sig_nothing/cms", headers=headers), 404, "signature_not_found")
    assert client.get(url).status_code == 401


def test_a_batch_gives_each_document_its_own_signed_data_and_token(app, client, signer):
    headers, _ = signer
    documents = [DOCUMENT, OTHER, b"third"]
    made = client.post(f"{BASE}/batches", json={"items": [{"title": f"d{i}", "document_b64": b64(d)}
                                                          for i, d in enumerate(documents)]}, headers=headers)
    assert made.status_code == 201, made.get_json()
    response = client.post(f"{BASE}/batches/{made.get_json()['id']}/authorize", json={"pin": PIN},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    signatures = response.get_json()["signatures"]
    serials = set()
    for document, signed in zip(documents, signatures):
        der = _cms(signed)
        assert cms.verify(der, content=document).ok
        assert not cms.verify(der, content=documents[(documents.index(document) + 1) % 3]).ok
        token = evidence.timestamp_token(der)
        serials.add(_token_check(app, token, cms.parse(der).signature).serial)
        attached = client.post(f"{BASE}/signatures/{signed['signature_id']}/cms",
                               json={"document_b64": b64(document)}, headers=headers)
        assert attached.status_code == 200 and cms.verify(attached.data).info.content == document
    assert len(serials) == 3  # one token per signature


def test_digest_mode_with_and_without_the_documents_sm3(app, client, signer):
    headers, cert = signer
    key = SM2PublicKey.from_der(load_certificate(cert["certificate_pem"]).public_key.dump())
    e = key.digest(OTHER).hex()
    post = lambda body: client.post(f"{BASE}/requests", json=body, headers=headers)  # noqa: E731

    with_sm3 = post({"title": "大文件", "e_hex": e, "document_sm3": sm3_hex(OTHER).upper()})
    assert with_sm3.status_code == 201, with_sm3.get_json()
    assert with_sm3.get_json()["document_sm3"] == sm3_hex(OTHER)
    signed = authorize(client, headers, with_sm3.get_json()["id"]).get_json()
    der = _cms(signed)
    assert cms.verify(der, content=OTHER).ok and key.verify(base64.b64decode(signed["signature_b64"]), OTHER)
    _check_stamped(app, der)
    assert signed["cms_attached_available"] is False  # the platform never had the document
    url = f"{BASE}/signatures/{signed['signature_id']}/cms"
    assert client.get(url, headers=headers).data == der
    assert_problem(client.post(url, json={"document_b64": b64(OTHER)}, headers=headers), 409,
                   "signature_attached_not_made")
    assert_problem(client.post(url, json={"document_b64": b64(DOCUMENT)}, headers=headers), 422,
                   "document_mismatch")

    without = post({"title": "大文件", "e_hex": key.digest(DOCUMENT).hex()})
    signed = authorize(client, headers, without.get_json()["id"]).get_json()
    assert signed["cms_b64"] is None and signed["timestamp"] is None and signed["cms_attached_available"] is False
    assert_problem(client.get(f"{BASE}/signatures/{signed['signature_id']}/cms", headers=headers), 404,
                   "signature_cms_not_made")
    # document_sm3 belongs with e_hex only (with a document the platform computes it).
    assert_problem(post({"title": "t", "document_b64": b64(OTHER), "document_sm3": sm3_hex(OTHER)}), 422,
                   "validation_failed")
    assert_problem(post({"title": "t", "e_hex": e, "document_sm3": "xyz"}), 422, "validation_failed")


def test_the_pending_document_is_kept_encrypted_and_only_while_pending(app, client, signer):
    headers, _ = signer
    refused = new_request(client, headers)
    (kept,) = rows(app, SigningDocument)
    assert kept.request_id == refused["id"] and DOCUMENT not in bytes(kept.document_enc)
    assert client.post(f"{BASE}/requests/{refused['id']}/refuse", headers=headers).status_code == 200
    assert rows(app, SigningDocument) == []
    stale = new_request(client, headers)
    with app.app_context(), db.connection_context():  # it expires unsigned
        past = utcnow() - timedelta(seconds=1)
        SigningRequest.update(expires_at=past).where(SigningRequest.id == stale["id"]).execute()
        SigningDocument.update(expires_at=past).where(SigningDocument.request_id == stale["id"]).execute()
    fresh = new_request(client, headers)  # the next request sweeps the expired one's document
    assert [d.request_id for d in rows(app, SigningDocument)] == [fresh["id"]]
    assert stale["id"] != fresh["id"]
    assert_problem(authorize(client, headers, stale["id"]), 410, "signing_request_expired")


def test_gmssl_verifies_the_detached_and_attached_forms(client, signer, gmssl, tmp_path):
    headers, _ = signer
    signed = sign(client, headers)
    detached = _cms(signed)
    attached = client.post(f"{BASE}/signatures/{signed['signature_id']}/cms",
                           json={"document_b64": b64(DOCUMENT)}, headers=headers).data
    result = gmssl.cmsverify(gmssl.write_cms(tmp_path / "detached.pem", detached))
    assert result.returncode == 0 and b"verify success" in result.stdout, result.stderr
    out = tmp_path / "content.out"
    result = gmssl.cmsverify(gmssl.write_cms(tmp_path / "attached.pem", attached), out)
    assert result.returncode == 0 and b"verify success" in result.stdout, result.stderr
    assert out.read_bytes() == DOCUMENT
    # GmSSL refuses a changed content byte and a changed signed attribute.
    changed = attached.replace(DOCUMENT, _flip(DOCUMENT, 3))
    assert gmssl.cmsverify(gmssl.write_cms(tmp_path / "changed.pem", changed)).returncode != 0
    info = cms.parse(detached)
    at = detached.index(_contents(info.signed_attributes_der)) + 20
    assert gmssl.cmsverify(gmssl.write_cms(tmp_path / "attrs.pem", _flip(detached, at))).returncode != 0


def test_export_evidence_writes_the_files_and_the_commands(app, client, signer, runner, tmp_path):
    headers, cert = signer
    signed = sign(client, headers)
    document = tmp_path / "contract.txt"
    document.write_bytes(DOCUMENT)
    out = tmp_path / "evidence"
    result = runner.invoke(args=["signing", "export-evidence", signed["signature_id"], "--out", str(out),
                                 "--document", str(document)])
    assert result.exit_code == 0, result.output
    assert (out / "signature.p7s").read_bytes() == _cms(signed)
    assert cms.verify((out / "attached.p7s").read_bytes()).info.content == DOCUMENT
    assert load_certificate((out / "signer.pem").read_bytes()).dump() == cms.parse(_cms(signed)).certificate_der
    ca = load_certificate((out / "ca.pem").read_bytes())
    assert ca.ca and load_certificate((out / "signer.pem").read_bytes()).issuer == ca.subject
    tsa_cert = load_certificate((out / "tsa.pem").read_bytes())
    assert serial_hex(tsa_cert.serial_number) == signed["timestamp"]["tsa_serial"]
    verify = (out / "VERIFY.txt").read_text()
    assert "gmssl cmsverify" in verify and "openssl verify" in verify and signed["document_sm3"] in verify
    _run_the_commands(out, verify, document, signed)

    wrong = tmp_path / "wrong.txt"
    wrong.write_bytes(OTHER)
    refused = runner.invoke(args=["signing", "export-evidence", signed["signature_id"], "--out",
                                  str(tmp_path / "x"), "--document", str(wrong)])
    assert refused.exit_code != 0 and "SM3" in refused.output
    missing = runner.invoke(args=["signing", "export-evidence", "sig_nothing", "--out", str(tmp_path / "y")])
    assert missing.exit_code != 0


def _run(*args: str, cwd) -> str:
    result = subprocess.run(args, capture_output=True, cwd=cwd, timeout=60)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout.decode()


def _run_the_commands(out, verify: str, document, signed: dict) -> None:
    """VERIFY.txt's commands, as written there, give what it says (OpenSSL; GmSSL where built)."""
    commands = [line.strip().split("  ")[0].strip() for line in verify.splitlines()
                if line.strip().startswith(("openssl ", "gmssl "))]
    (out / "DOCUMENT").write_bytes(document.read_bytes())
    imprint = sm3_hex(cms.parse((out / "signature.p7s").read_bytes()).signature)
    gmssl_binary, _ = find_gmssl()
    ran = 0
    for command in commands:
        args = command.replace("    or    ", "").split()
        if args[0] == "gmssl":
            if gmssl_binary is None:
                continue
            args[0] = gmssl_binary
        if "-ext" in args:  # the CRL distribution point: present only when PKI_BASE_URL is set
            continue
        text = _run(*args, cwd=out)
        ran += 1
        if "cmsverify" in args:
            assert "verify success" in text
        if args[-2:] == ["-in", "DOCUMENT"] or args[-1] == "DOCUMENT":
            assert signed["document_sm3"] in text
        if "-token_in" in args:  # "Message data:" as a hex dump: offset - 16 bytes (a '-' after 8)   ASCII
            dump = [line.split(" - ", 1)[1][:48] for line in text.split("Message data:")[1].splitlines()[1:3]]
            assert "".join(dump).replace("-", " ").replace(" ", "") == imprint, text
    assert ran >= 4, commands
