"""Enrolment: PIN rules and storage, key and certificate (checked by OpenSSL), revocation seen at
once in the status and the CRL, re-enrolment with a new key."""
from __future__ import annotations

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from app.audit import AuditEvent
from app.crypto.keystore_models import KeyRecord
from app.crypto.sm2 import SM2PublicKey
from signing.models import SigningCredential
from tests import vectors
from tests.crypto.conftest import DISTID, openssl
from tests.helpers import assert_problem, bearer, rows
from tests.signing.conftest import BASE, PIN, enrol, revoke


def test_enrol_issues_a_certificate_openssl_accepts(app, client, citizen, tmp_path):
    answer = enrol(client, citizen)
    assert set(answer) >= {"serial", "certificate_pem", "status", "subject"}
    assert answer["status"] == "good"
    assert answer["subject"] == {"name_masked": "张*", "id_number_masked": "3401**********1232"}
    cert = asn1_x509.Certificate.load(pem.unarmor(answer["certificate_pem"].encode())[2])
    subject = cert.subject.native
    assert subject["common_name"] == "张三" and subject["organizational_unit_name"] == "3401**********1232"
    assert vectors.ZHANG_SAN[1] not in answer["certificate_pem"]
    assert cert.key_usage_value.native == {"digital_signature", "non_repudiation"}
    ca = client.get(f"{BASE}/ca.pem")
    assert ca.status_code == 200 and ca.mimetype == "application/x-pem-file"
    (tmp_path / "ca.pem").write_bytes(ca.data)
    (tmp_path / "user.pem").write_text(answer["certificate_pem"])
    result = openssl("verify", "-vfyopt", DISTID, "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "user.pem"),
                     check=False)
    assert result.returncode == 0, result.stderr
    assert client.get(f"{BASE}/certificate", headers=citizen).get_json()["serial"] == answer["serial"]

    [credential] = rows(app, SigningCredential)
    assert credential.pin_hash.startswith("$argon2id$") and PIN not in credential.pin_hash
    key = rows(app, KeyRecord, KeyRecord.id == credential.key_id)[0]
    assert (key.purpose, key.owner, key.status) == ("signing", credential.user_id, "active")
    assert b"\x02\x01\x01\x04\x20" not in bytes(key.private_key_enc)  # no clear PKCS#8 / SEC1 scalar
    assert {"signing.enrol", "key.generate", "ca.issue"} <= {e.action for e in rows(app, AuditEvent)}


def test_weak_pins_are_refused(client, citizen):
    # 张三 340102199003071232: born 1990-03-07
    for pin in ("123456", "654321", "111111", "121212", "123123", "900307", "030790", "071232", "199003",
                "12345", "abcdef", "520520", "890123"):
        response = client.post(f"{BASE}/enrol", json={"pin": pin, "sms_code": "000000"}, headers=citizen)
        assert response.status_code == 422, (pin, response.get_json())
    body = assert_problem(client.post(f"{BASE}/enrol", json={"pin": "123456", "sms_code": "000000"}, headers=citizen),
                          422, "pin_weak")
    assert body["errors"]["pin"]
    assert client.get(f"{BASE}/certificate", headers=citizen).status_code == 404


def test_enrolment_needs_l2_and_happens_once(client, citizen, login_citizen):
    l1 = bearer(login_citizen(vectors.PHONES[1])["access_token"])
    refused = assert_problem(client.post(f"{BASE}/enrol", json={"pin": PIN, "sms_code": "000000"}, headers=l1), 403,
                             "assurance_level_insufficient")
    assert (refused["required_level"], refused["current_level"], refused["max_age"]) == ("L2", "L1", None)
    assert_problem(client.post(f"{BASE}/enrol", json={"pin": PIN}), 401)
    enrol(client, citizen)
    assert_problem(client.post(f"{BASE}/enrol", json={"pin": "246813", "sms_code": "000000"}, headers=citizen), 409,
                   "signing_already_enrolled")
    assert_problem(client.get(f"{BASE}/certificate", headers=l1), 403)


def test_revocation_shows_at_once_and_allows_reenrolment(app, client, citizen, tmp_path):
    first = enrol(client, citizen)
    status = client.get(f"{BASE}/certificates/{first['serial']}/status").get_json()
    assert status["status"] == "good"
    crl_before = asn1_crl.CertificateList.load(client.get(f"{BASE}/crl").data)
    assert not crl_before["tbs_cert_list"]["revoked_certificates"].native

    response = revoke(client, citizen)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "revoked"
    status = client.get(f"{BASE}/certificates/{first['serial']}/status").get_json()
    assert (status["status"], status["reason"]) == ("revoked", "keyCompromise")
    crl = client.get(f"{BASE}/crl")
    assert crl.mimetype == "application/pkix-crl"
    listed = [e["user_certificate"].native for e in asn1_crl.CertificateList.load(crl.data)["tbs_cert_list"]
              ["revoked_certificates"]]
    assert listed == [int(first["serial"], 16)]
    # OpenSSL reads the CRL; its signature uses the empty SM2 signer ID that OpenSSL 3.0's CRL
    # check expects (tests/crypto/test_ca.py), checked here with the CA's public key.
    (tmp_path / "crl.der").write_bytes(crl.data)
    text = openssl("crl", "-inform", "DER", "-noout", "-text", "-in", str(tmp_path / "crl.der")).stdout.decode()
    assert first["serial"].upper() in text.replace(":", "").upper() and "Key Compromise" in text
    parsed = asn1_crl.CertificateList.load(crl.data)
    ca_cert = asn1_x509.Certificate.load(pem.unarmor(client.get(f"{BASE}/ca.pem").data)[2])
    assert SM2PublicKey.from_der(ca_cert.public_key.dump()).verify(parsed["signature"].native,
                                                                    parsed["tbs_cert_list"].dump(), uid=b"")

    assert_problem(client.get(f"{BASE}/certificate", headers=citizen), 404, "signing_not_enrolled")
    assert_problem(revoke(client, citizen), 404, "signing_not_enrolled")
    assert_problem(revoke(client, citizen, reason="certificateHold"), 422)
    second = enrol(client, citizen, pin="246813", liveness=True)
    assert second["serial"] != first["serial"]
    credentials = {c.status: c for c in rows(app, SigningCredential)}
    assert credentials["revoked"].key_id != credentials["active"].key_id
    assert rows(app, KeyRecord, KeyRecord.id == credentials["revoked"].key_id)[0].status == "disabled"
    assert "signing.revoke" in {e.action for e in rows(app, AuditEvent)}


def test_openapi_documents_the_signing_problems(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    authorize = spec["paths"]["/api/v1/signing/requests/{request_id}/authorize"]["post"]
    assert {"400", "403", "404", "409", "410", "423"} <= set(authorize["responses"])
    assert "signing_locked" in authorize["responses"]["423"]["description"]
    create = spec["paths"]["/api/v1/signing/requests"]["post"]
    assert "413" in create["responses"]
    schema = spec["components"]["schemas"]["CreateRequest"]["properties"]["e_hex"]["description"]
    assert "SM3(M)" in schema
    verify = spec["paths"]["/api/v1/verify/signatures"]["post"]
    assert "verification_input_invalid" in verify["responses"]["400"]["description"]


def test_pin_rules_are_answered_in_english(client, citizen):
    def refused(pin: str, **language) -> list[str]:
        headers = {**citizen, **language}
        response = client.post(f"{BASE}/enrol", json={"pin": pin, "sms_code": "000000"}, headers=headers)
        assert response.status_code == 422 and response.get_json()["code"] == "pin_weak", response.get_json()
        return response.get_json()["errors"]["pin"]

    english = {"Accept-Language": "en"}
    assert refused("123456", **english) == ["Repeated or consecutive digits cannot be used."]
    assert refused("520520", **english) == ["Common, easily guessed PINs cannot be used."]
    assert refused("900307", **english) == [  # 张三 was born 1990-03-07
        "Your date of birth or the last six characters of your ID number cannot be used."]
    assert refused("123456") == ["不能使用重复或连续的数字。"]
