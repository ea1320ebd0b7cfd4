"""Issuer signing keys (issuers/keys.py): certificates naming the department, rotation (new licences
signed by the new key, old ones still verify), revocation with a date (licences signed before it
still valid, after it flagged in the holder's detail and refused at the counter; the CRL lists the
certificate), the admin API (401 → 403 → 422, object access) and the CLI, every change audited."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import time_machine
from asn1crypto import crl as asn1_crl

from app.audit import AuditEvent
from app.crypto.keystore_models import KeyRecord
from app.db import utcnow
from issuers.models import IssuerKey
from tests.helpers import assert_problem, bearer
from tests.issuers.registry import register_department
from tests.issuers.test_trust_list import DISTID, openssl
from tests.wallet.conftest import (  # noqa: F401 (fixtures)
    ISSUE, MATTER, VERIFY, WALLET, clerk, holder, issue, issue_body, issuer, present,
)

KEYS = "/api/v1/admin/issuers/{}/keys"


@pytest.fixture
def admin(machine_token):
    return bearer(machine_token("issuers:admin"))


def _department(licence: dict) -> str:
    return licence["issuer"]["code"]  # the USCC, in the identifier too


def _issuer_id(client, admin, uscc: str) -> str:
    items = client.get("/api/v1/admin/issuers", headers=admin).get_json()["items"]
    return next(i["id"] for i in items if i["uscc"] == uscc)


def _keys(client, admin, issuer_id: str) -> list[dict]:
    answer = client.get(KEYS.format(issuer_id), headers=admin)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["items"]


def _detail(client, holder, licence_id: str) -> dict:
    answer = client.get(f"{WALLET}/{licence_id}", headers=holder)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _verify_at_counter(client, holder, counter, licence_id: str):
    shown = present(client, holder, licence_id)
    return client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter)


def test_the_first_licence_makes_a_certified_key(client, issuer, admin, holder, tmp_path, app):
    licence = issue(client, issuer)
    uscc = _department(licence)
    issuer_id = _issuer_id(client, admin, uscc)
    (key,) = _keys(client, admin, issuer_id)
    assert key["status"] == "active" and len(key["kid"]) == 16
    row = IssuerKey.get_by_id(key["kid"])
    assert row.key_id == licence["key_id"]  # the licence names the key store key that signed it
    detail = _detail(client, holder, licence["id"])
    assert detail["signature_valid"] is True
    assert detail["signature"] == {"valid": True, "key_id": key["kid"], "key_status": "active",
                                   "revoked_since": None, "signed_at": detail["signature"]["signed_at"]}
    # the certificate: from the platform CA, naming the department, for signatures, valid now
    (tmp_path / "ca.pem").write_text(client.get("/api/v1/signing/ca.pem").get_data(as_text=True))
    (tmp_path / "key.pem").write_text(key["certificate"])
    verified = openssl("verify", "-vfyopt", DISTID, "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "key.pem"))
    assert verified.stdout.strip().endswith(b": OK")
    text = openssl("x509", "-in", str(tmp_path / "key.pem"), "-noout", "-text", "-nameopt", "utf8").stdout.decode()
    assert f"serialNumber={uscc}" in text.replace(" ", "") and "O=testclient" in text.replace(" ", "")
    assert "Digital Signature, Non Repudiation" in text and "CA:FALSE" in text


def test_rotation_new_licences_new_key_old_ones_still_verify(client, runner, issuer, admin, holder, clerk):
    old = issue(client, issuer)
    uscc = _department(old)
    out = runner.invoke(args=["issuers", "rotate-key", uscc])
    assert out.exit_code == 0, out.output
    new = issue(client, issuer, issue_body(reference="ref-2"))
    assert new["key_id"] != old["key_id"]
    keys = _keys(client, admin, _issuer_id(client, admin, uscc))
    assert [k["status"] for k in keys] == ["active", "retired"]
    assert IssuerKey.get(IssuerKey.key_id == new["key_id"]).kid == keys[0]["kid"]
    assert KeyRecord.get_by_id(old["key_id"]).status == "retired"  # it signs nothing more
    # both verify: the old one with its retired key, the new one with the new key
    old_detail, new_detail = _detail(client, holder, old["id"]), _detail(client, holder, new["id"])
    assert old_detail["signature"]["valid"] and old_detail["signature"]["key_status"] == "retired"
    assert old_detail["signature"]["key_id"] == keys[1]["kid"]
    assert new_detail["signature"]["valid"] and new_detail["signature"]["key_id"] == keys[0]["kid"]
    counter = clerk()
    for licence, kid in ((old, keys[1]["kid"]), (new, keys[0]["kid"])):
        answer = _verify_at_counter(client, holder, counter, licence["id"])
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["licence"]["signature"]["key_id"] == kid
    # a status change re-signs the old licence with the current key
    changed = client.post(f"{ISSUE}/{old['id']}/revoke", json={"status_code": "02", "reason": "暂扣"}, headers=issuer)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["key_id"] == new["key_id"]
    rotated = [e for e in AuditEvent.select() if e.action == "issuers.key_rotated"]
    assert rotated and rotated[-1].actor_id == "flask-cli"


def test_revocation_from_a_date(client, runner, issuer, admin, holder, clerk, tmp_path):
    before = issue(client, issuer)
    time.sleep(1.1)  # `since` is kept to the second: the first licence is signed a second earlier
    since = utcnow().replace(microsecond=0)
    after = issue(client, issuer, issue_body(reference="ref-2"))
    uscc = _department(before)
    issuer_id = _issuer_id(client, admin, uscc)
    (key,) = _keys(client, admin, issuer_id)
    answer = client.post(f"{KEYS.format(issuer_id)}/{key['kid']}/revoke", headers=admin,
                         json={"since": since.isoformat(), "reason": "keyCompromise"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "revoked" and answer.get_json()["revoked_reason"] == "keyCompromise"
    # signed before `since`: still valid, the key named revoked with its date
    detail = _detail(client, holder, before["id"])
    assert detail["signature"]["valid"] is True and detail["signature"]["key_status"] == "revoked"
    assert detail["signature"]["revoked_since"] == (since + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    # signed at or after it: flagged
    flagged = _detail(client, holder, after["id"])
    assert flagged["signature"]["valid"] is False and flagged["signature_valid"] is False
    assert flagged["signature"]["key_id"] == key["kid"] and flagged["signature"]["key_status"] == "revoked"
    counter = clerk()
    assert _verify_at_counter(client, holder, counter, before["id"]).status_code == 200
    refused = assert_problem(_verify_at_counter(client, holder, counter, after["id"]), 422, "licence_key_revoked")
    assert refused["signature"]["valid"] is False and refused["signature"]["key_id"] == key["kid"]
    assert refused["signature"]["revoked_since"].endswith("+08:00")
    again = client.post(VERIFY, headers={**counter, "Accept-Language": "en"},
                        json={"qr_text": present(client, holder, after["id"])["qr_text"], "matter": MATTER})
    assert again.status_code == 422 and again.get_json()["code"] == "licence_key_revoked"
    assert "revoked signing key" in again.get_json()["detail"]
    # the key signs nothing more; the department got a new key and issues again
    assert KeyRecord.get_by_id(key_id := IssuerKey.get_by_id(key["kid"]).key_id).status == "disabled"
    third = issue(client, issuer, issue_body(reference="ref-3"))
    assert third["key_id"] != key_id and _detail(client, holder, third["id"])["signature"]["valid"] is True
    assert [k["status"] for k in _keys(client, admin, issuer_id)] == ["active", "revoked"]
    # the certificate is revoked in the platform CA: the CRL lists it, with the date
    crl = tmp_path / "crl.der"
    crl.write_bytes(client.get("/api/v1/signing/crl").get_data())
    text = openssl("crl", "-inform", "DER", "-in", str(crl), "-noout", "-text").stdout.decode()
    serial = key["certificate_serial"].upper()
    assert f"Serial Number: {serial}" in text and "Key Compromise" in text
    entries = {e["user_certificate"].native: e for e in asn1_crl.CertificateList.load(crl.read_bytes())
               ["tbs_cert_list"]["revoked_certificates"]}
    assert entries[int(serial, 16)]["revocation_date"].native.replace(tzinfo=None) == since.replace(tzinfo=None)
    # openssl verify with the CRL refuses the certificate
    (tmp_path / "ca.pem").write_text(client.get("/api/v1/signing/ca.pem").get_data(as_text=True))
    (tmp_path / "key.pem").write_text(key["certificate"])
    openssl("crl", "-inform", "DER", "-in", str(crl), "-out", str(tmp_path / "crl.pem"))
    checked = openssl("verify", "-vfyopt", DISTID, "-crl_check", "-CAfile", str(tmp_path / "ca.pem"),
                      "-CRLfile", str(tmp_path / "crl.pem"), str(tmp_path / "key.pem"), check=False)
    assert checked.returncode != 0 and b"certificate revoked" in checked.stdout + checked.stderr
    revoked = [e for e in AuditEvent.select() if e.action == "issuers.key_revoked"]
    details = json.loads(revoked[0].details)
    assert len(revoked) == 1 and (details["before"], details["after"], details["kid"]) == ("active", "revoked", key["kid"])
    assert details["since"].startswith(since.strftime("%Y-%m-%dT%H:%M:%S")) and details["replacement"]


def test_revocation_refusals(client, runner, issuer, admin, machine_token):
    licence = issue(client, issuer)
    issuer_id = _issuer_id(client, admin, _department(licence))
    (key,) = _keys(client, admin, issuer_id)
    url = f"{KEYS.format(issuer_id)}/{key['kid']}/revoke"
    body = {"since": "2026-11-01T00:00:00+08:00", "reason": "keyCompromise"}
    # 401 → 403 → 422, whatever the body
    assert_problem(client.post(url, json={}), 401)
    assert_problem(client.post(url, json={}, headers=issuer), 403, "insufficient_scope")
    assert_problem(client.post(url, json={"since": "2026-11-01", "reason": "keyCompromise"}, headers=admin), 422)
    assert_problem(client.post(url, json={**body, "reason": "certificateHold"}, headers=admin), 422)
    future = (utcnow() + timedelta(days=1)).isoformat()
    assert_problem(client.post(url, json={**body, "since": future}, headers=admin), 422, "issuer_key_revocation_invalid")
    # another department cannot reach this key through its own id
    other_id, _ = register_department(runner, name="另一机关", types=("driving_licence",))
    assert_problem(client.post(f"{KEYS.format(other_id)}/{key['kid']}/revoke", json=body, headers=admin), 404,
                   "issuer_key_not_found")
    assert_problem(client.post(f"{KEYS.format('iss_nope')}/{key['kid']}/revoke", json=body, headers=admin), 404,
                   "issuer_not_found")
    assert client.post(url, json=body, headers=admin).status_code == 200
    assert_problem(client.post(url, json=body, headers=admin), 409, "issuer_key_already_revoked")
    cli = runner.invoke(args=["issuers", "revoke-key", key["kid"], "--since", "2026-11-01", "--reason", "keyCompromise"])
    assert cli.exit_code != 0 and "已被吊销" in cli.output
    cli = runner.invoke(args=["issuers", "revoke-key", key["kid"], "--since", "2026-11-01T00:00", "--reason",
                              "keyCompromise"])
    assert cli.exit_code != 0 and "offset" in cli.output


def test_admin_rotation_and_listing(client, issuer, admin, machine_token):
    licence = issue(client, issuer)
    issuer_id = _issuer_id(client, admin, _department(licence))
    assert_problem(client.post(KEYS.format(issuer_id)), 401)
    assert_problem(client.get(KEYS.format(issuer_id), headers=issuer), 403)
    rotated = client.post(KEYS.format(issuer_id), headers=admin)
    assert rotated.status_code == 201, rotated.get_json()
    new = rotated.get_json()
    assert new["status"] == "active" and new["public_key"] and "BEGIN CERTIFICATE" in new["certificate"]
    keys = _keys(client, admin, issuer_id)
    assert [k["kid"] for k in keys][0] == new["kid"] and [k["status"] for k in keys] == ["active", "retired"]
    assert_problem(client.get(KEYS.format("iss_nope"), headers=admin), 404, "issuer_not_found")
    event = [e for e in AuditEvent.select() if e.action == "issuers.key_rotated"][-1]
    details = json.loads(event.details)
    assert event.actor_kind == "client" and details["after"] == new["kid"] and details["before"] == keys[1]["kid"]


def test_an_expired_key_is_replaced_when_the_department_next_signs(client, issuer, admin):
    first = issue(client, issuer)
    row = IssuerKey.get(IssuerKey.key_id == first["key_id"])
    IssuerKey.update(not_after=utcnow() - timedelta(seconds=1)).where(IssuerKey.kid == row.kid).execute()
    second = issue(client, issuer, issue_body(reference="ref-2"))
    assert second["key_id"] != first["key_id"]
    statuses = [k["status"] for k in _keys(client, admin, _issuer_id(client, admin, _department(first)))]
    assert statuses == ["active", "expired"]


def test_a_key_from_before_the_registry_is_adopted_from_its_creation(app, client, issuer, admin, holder):
    """A department carried over from the wallet's per-client issuers signed with a key store key of
    its own: on its next use the key is certified from its creation and keeps verifying."""
    licence = issue(client, issuer)
    IssuerKey.delete().execute()  # as before the registry had keys
    created = KeyRecord.get_by_id(licence["key_id"]).created_at
    assert _detail(client, holder, licence["id"])["signature"] == {
        "valid": True, "key_id": None, "key_status": "unregistered", "revoked_since": None,
        "signed_at": _detail(client, holder, licence["id"])["signature"]["signed_at"]}
    again = issue(client, issuer, issue_body(reference="ref-2"))
    assert again["key_id"] == licence["key_id"]  # the same key, now registered
    row = IssuerKey.get(IssuerKey.key_id == licence["key_id"])
    assert abs((row.not_before - created).total_seconds()) < 1
    detail = _detail(client, holder, licence["id"])
    assert detail["signature"]["valid"] and detail["signature"]["key_id"] == row.kid
    assert any(e.action == "issuers.key_adopted" for e in AuditEvent.select())


def test_trust_list_key_lifetime_after_travel(client, issuer, admin):
    """Keys stay in the trust list after their certificate expires (old licences verify with them)."""
    licence = issue(client, issuer)
    row = IssuerKey.get(IssuerKey.key_id == licence["key_id"])
    with time_machine.travel(row.not_after + timedelta(days=1), tick=False):
        document = json.loads(client.get("/.well-known/yiwang/issuers").get_data())
    keys = next(i for i in document["issuers"] if i["uscc"] == _department(licence))["keys"]
    assert [(k["kid"], k["status"]) for k in keys] == [(row.kid, "expired")]
