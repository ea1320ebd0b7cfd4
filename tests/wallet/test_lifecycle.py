"""The licence life cycle (issue 17 "The full status life cycle"): the allowed status transitions (02 → 01
restore included), the history of each change with actor and reason, re-issue / renewal / change as a
new version whose identifier's version segment increments, the superseded version kept and flagged."""
from __future__ import annotations

import base64
import json
from itertools import product

import pytest

from app.audit import AuditEvent
from app.crypto.ca import keystore
from app.db import db
from app.security.pii import field_cipher
from tests import vectors
from tests.helpers import assert_problem, bearer, rows
from tests.wallet.conftest import ISSUE, VERIFY, WALLET, issue, present
from wallet import lifecycle, schemas, service
from wallet.canonical import canonical_bytes, licence_document
from wallet.identifier import parse_identifier
from wallet.models import Licence, LicenceHistory, LicenceVersion

# The table as the brief and DOMAIN.md's codes give it (written out here, not read from the module).
CODES = ("01", "02", "03", "04", "05", "06", "07", "99")
ALLOWED = {
    "01": {"02", "03", "04", "05", "06", "07", "99"},
    "02": {"01", "03", "04", "05", "07", "99"},
}
PAIRS = list(product(CODES, CODES))


def status_url(licence_id: str) -> str:
    return f"{ISSUE}/{licence_id}/status"


def reissue_url(licence_id: str) -> str:
    return f"{ISSUE}/{licence_id}/reissue"


def client_id_of(headers: dict) -> str:
    payload = headers["Authorization"].split()[1].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]


def change(client, headers, licence_id: str, status: str, reason: str = "依法处理", expect: int = 200) -> dict:
    response = client.post(status_url(licence_id), json={"status_code": status, "reason": reason}, headers=headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def licence_in(client, issuer, status: str) -> dict:
    """A licence brought to `status` through allowed transitions (01 → 02 → …)."""
    licence = issue(client, issuer)
    if status != "01":
        licence = change(client, issuer, licence["id"], status)
    return licence


def version_segment(identifier: str) -> int:
    parsed = parse_identifier(identifier)  # raises if the check character is wrong
    return parsed.version


def test_the_module_table_is_the_documented_one():
    assert {k: set(v) for k, v in lifecycle.TRANSITIONS.items() if v} == ALLOWED
    assert set(lifecycle.TRANSITIONS) == set(CODES)
    assert tuple(schemas.REISSUE_KINDS) == lifecycle.REISSUE_KINDS


@pytest.mark.parametrize(("source", "target"), [p for p in PAIRS if p[1] in ALLOWED.get(p[0], ())])
def test_an_allowed_transition_makes_a_new_signed_version(app, client, issuer, source, target):
    licence = licence_in(client, issuer, source)
    before = licence["version"]
    changed = change(client, issuer, licence["id"], target, reason=f"{source}→{target}")
    assert changed["status"] == target and changed["version"] == before + 1
    assert version_segment(changed["identifier"]) == changed["version"]
    assert changed["identifier"].rsplit(".", 2)[0] == licence["identifier"].rsplit(".", 2)[0]  # same serial
    last = changed["history"][-1]
    assert (last["from_status"], last["to_status"], last["reason"], last["kind"]) == (source, target,
                                                                                     f"{source}→{target}", "status")
    assert last["actor"] == {"kind": "client", "id": client_id_of(issuer)} and last["version"] == changed["version"]
    with app.app_context(), db.connection_context():
        kept = LicenceVersion.get((LicenceVersion.licence == licence["id"]) & (LicenceVersion.version == before))
        assert kept.identifier == licence["identifier"] and kept.status == source


@pytest.mark.parametrize(("source", "target"), [p for p in PAIRS if p[1] not in ALLOWED.get(p[0], ())])
def test_a_forbidden_transition_is_409_naming_from_to_and_the_allowed(app, client, issuer, source, target):
    licence = licence_in(client, issuer, source)
    history = len(rows(app, LicenceHistory))
    body = assert_problem(client.post(status_url(licence["id"]), json={"status_code": target, "reason": "x"},
                                      headers=issuer), 409, "licence_transition_forbidden")
    assert (body["from"], body["to"]) == (source, target)
    assert set(body["allowed"]) == ALLOWED.get(source, set())
    english = client.post(status_url(licence["id"]), json={"status_code": target, "reason": "x"},
                          headers=issuer | {"Accept-Language": "en"}).get_json()
    assert "cannot change" in english["detail"] or "can no longer change" in english["detail"]
    now = client.get(f"{ISSUE}/{licence['id']}", headers=issuer).get_json()
    assert (now["status"], now["version"], now["identifier"]) == (source, licence["version"], licence["identifier"])
    assert len(rows(app, LicenceHistory)) == history


def test_restore_after_suspension_by_the_issuer(app, client, issuer, holder, clerk):
    licence = issue(client, issuer)
    change(client, issuer, licence["id"], "02", reason="违法记分满12分")
    assert present(client, holder, licence["id"], status=422)["code"] == "licence_not_valid"
    restored = change(client, issuer, licence["id"], "01", reason="暂扣期满，解除暂扣")
    assert restored["status"] == "01" and restored["version"] == 3 and version_segment(restored["identifier"]) == 3
    shown = present(client, holder, licence["id"])
    answer = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"}, headers=clerk())
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["licence"]["version"] == 3 and answer.get_json()["licence"]["superseded"] is None
    audit = rows(app, AuditEvent, AuditEvent.action == "wallet.licence_status")
    assert [json.loads(a.details)["from"] for a in audit] == ["01", "02"]


def test_history_with_actor_and_reason_for_the_issuer_and_the_holder(client, issuer, holder):
    licence = issue(client, issuer)
    change(client, issuer, licence["id"], "02", reason="违法记分满12分")
    change(client, issuer, licence["id"], "01", reason="暂扣期满")
    mine = client.get(f"{ISSUE}/{licence['id']}", headers=issuer).get_json()["history"]
    assert [(h["kind"], h["from_status"], h["to_status"], h["version"]) for h in mine] == [
        ("issued", None, "01", 1), ("status", "01", "02", 2), ("status", "02", "01", 3)]
    assert [h["reason"] for h in mine] == [None, "违法记分满12分", "暂扣期满"]
    assert all(h["actor"] == {"kind": "client", "id": client_id_of(issuer)} for h in mine)
    assert [version_segment(h["identifier"]) for h in mine] == [1, 2, 3]

    detail = client.get(f"{WALLET}/{licence['id']}", headers=holder).get_json()
    theirs = detail["history"]
    assert [(h["from_label"], h["to_label"]) for h in theirs] == [(None, "有效"), ("有效", "暂扣"), ("暂扣", "有效")]
    assert theirs[1]["reason"] == "违法记分满12分" and theirs[2]["kind_label"] == "状态变更"
    assert all(h["actor"] == {"kind": "issuer", "name": licence["issuer"]["name"]} for h in theirs)
    assert client_id_of(issuer) not in json.dumps(detail)  # the department's system id stays with the issuer
    english = client.get(f"{WALLET}/{licence['id']}", headers=holder | {"Accept-Language": "en"}).get_json()
    assert english["history"][2]["to_label"] == "Valid" and english["history"][0]["kind_label"] == "Issued"


def test_reissue_increments_the_version_segment_and_keeps_the_old_version_as_signed(app, client, issuer, holder):
    licence = issue(client, issuer)
    renewed = client.post(reissue_url(licence["id"]), headers=issuer, json={
        "kind": "renewal", "reason": "有效期满换证", "valid_from": "2030-05-01", "valid_until": "2036-05-01"})
    assert renewed.status_code == 200, renewed.get_json()
    renewed = renewed.get_json()
    old, new = parse_identifier(licence["identifier"]), parse_identifier(renewed["identifier"])
    assert (new.type_code, new.issuer_code, new.serial) == (old.type_code, old.issuer_code, old.serial)
    assert (old.version, new.version) == (1, 2) and renewed["identifier"].split(".")[-2] == "002"
    assert renewed["valid_until"] == "2036-05-01" and renewed["status"] == "01"
    last = renewed["history"][-1]
    assert (last["kind"], last["from_status"], last["to_status"], last["reason"], last["version"]) == (
        "renewal", "01", "01", "有效期满换证", 2)
    detail = client.get(f"{WALLET}/{licence['id']}", headers=holder).get_json()
    assert detail["signature_valid"] is True and detail["fields"]["valid_until"] == "2036-05-01"
    assert detail["identifier"] == renewed["identifier"] and detail["version"] == 2

    with app.app_context(), db.connection_context():  # the superseded version still verifies as it was signed
        kept = LicenceVersion.get(LicenceVersion.identifier == licence["identifier"])
        c = field_cipher()
        document = licence_document(
            identifier=kept.identifier, type_code="driving_licence", issuer_code=licence["issuer"]["code"],
            holder_name=c.decrypt(kept.holder_name_enc, "licence.holder_name"),
            holder_id_number=c.decrypt(kept.holder_id_enc, "licence.holder_id"),
            data=json.loads(c.decrypt(kept.data_enc, "licence.data")), valid_from=kept.valid_from,
            valid_until=kept.valid_until, status=kept.status, version=kept.version)
        assert keystore().public_key(kept.key_id).verify(bytes(kept.signature), canonical_bytes(document))
        assert document["data"]["valid_until"] == "2030-05-01"
        checked = service.version_check(licence["identifier"])
        assert checked["current"] is False and checked["superseded"] == {
            "version": 1, "identifier": licence["identifier"], "current_version": 2,
            "current_identifier": renewed["identifier"]}
        assert service.version_check(renewed["identifier"])["current"] is True
        assert service.version_check(licence["identifier"].replace("1.2.156", "9.9.9")) is None


def test_change_merges_the_data_and_checks_it_as_issuing_does(client, issuer):
    licence = issue(client, issuer)
    changed = client.post(reissue_url(licence["id"]), headers=issuer,
                          json={"kind": "change", "reason": "增驾", "data": {"vehicle_class": "B2"}})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["version"] == 2
    other_person = client.post(reissue_url(licence["id"]), headers=issuer,
                               json={"kind": "change", "reason": "x", "data": {"id_number": vectors.LI_SI[1]}})
    assert_problem(other_person, 422, "licence_data_invalid")
    bad_dates = client.post(reissue_url(licence["id"]), headers=issuer,
                            json={"kind": "renewal", "reason": "x", "valid_from": "2030-01-01", "valid_until": "2029-01-01"})
    assert_problem(bad_dates, 422, "validity_invalid")
    after = client.get(f"{ISSUE}/{licence['id']}", headers=issuer).get_json()
    assert after["version"] == 2 and len(after["history"]) == 2  # the refused ones changed nothing


@pytest.mark.parametrize(("status", "allowed"), [("02", False), ("03", False), ("04", False), ("05", True),
                                                  ("06", False), ("07", False), ("99", False)])
def test_which_statuses_may_be_reissued(client, issuer, status, allowed):
    licence = licence_in(client, issuer, status)
    response = client.post(reissue_url(licence["id"]), json={"kind": "reissue", "reason": "遗失补领"}, headers=issuer)
    if allowed:
        assert response.status_code == 200 and response.get_json()["status"] == "01"
    else:
        body = assert_problem(response, 409, "licence_reissue_forbidden")
        assert body["licence_status"] == status and body["allowed_from"] == ["01", "05"]


def test_a_code_shown_before_a_reissue_is_verified_as_the_current_version_and_flagged(client, issuer, holder,
                                                                                      clerk):
    licence = issue(client, issuer)
    shown = present(client, holder, licence["id"])
    reissued = client.post(reissue_url(licence["id"]), json={"kind": "reissue", "reason": "遗失补领"},
                           headers=issuer).get_json()
    answer = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"}, headers=clerk())
    assert answer.status_code == 200, answer.get_json()
    verified = answer.get_json()["licence"]
    assert verified["identifier"] == reissued["identifier"] and verified["version"] == 2
    assert verified["superseded"] == {"version": 1, "identifier": licence["identifier"], "current_version": 2,
                                      "current_identifier": reissued["identifier"]}
    fresh = present(client, holder, licence["id"])
    again = client.post(VERIFY, json={"qr_text": fresh["qr_text"], "matter": "vehicle_check"},
                        headers=clerk("clerk.two")).get_json()
    assert again["licence"]["superseded"] is None and again["licence"]["version"] == 2


def test_another_issuer_cannot_change_or_reissue(app, client, issuer, machine_token):
    licence = issue(client, issuer)
    stranger = bearer(machine_token("licences:issue"))
    assert_problem(client.post(status_url(licence["id"]), json={"status_code": "02", "reason": "x"},
                               headers=stranger), 404, "licence_not_found")
    assert_problem(client.post(reissue_url(licence["id"]), json={"kind": "reissue", "reason": "x"},
                               headers=stranger), 404, "licence_not_found")
    now = client.get(f"{ISSUE}/{licence['id']}", headers=issuer).get_json()
    assert now["version"] == 1 and len(now["history"]) == 1 and not rows(app, LicenceVersion)


def test_order_of_checks(client, issuer, holder, machine_token):
    licence = issue(client, issuer)
    for url, valid in ((status_url(licence["id"]), {"status_code": "02", "reason": "x"}),
                       (reissue_url(licence["id"]), {"kind": "reissue", "reason": "x"})):
        assert_problem(client.post(url, json=["bad"]), 401)
        assert_problem(client.post(url, json=["bad"], headers=holder), 403)
        assert_problem(client.post(url, json=["bad"], headers=bearer(machine_token("cases:write"))), 403)
        assert_problem(client.post(url, json={"reason": "x" * 257}, headers=issuer), 422, "validation_failed")
        assert_problem(client.post(url.replace(licence["id"], "lic_nope"), json=valid, headers=issuer), 404,
                       "licence_not_found")


def test_openapi_states_the_constraints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas_ = spec["components"]["schemas"]
    status = schemas_["StatusChange"]
    assert status["properties"]["status_code"]["enum"] == list(CODES)
    assert (status["properties"]["reason"]["minLength"], status["properties"]["reason"]["maxLength"]) == (1, 256)
    assert set(status["required"]) == {"status_code", "reason"}
    reissue = schemas_["Reissue"]
    assert reissue["properties"]["kind"]["enum"] == ["reissue", "renewal", "change"]
    assert set(reissue["required"]) == {"kind", "reason"}
    assert reissue["properties"]["data"]["maxProperties"] == 64
    operations = spec["paths"]["/api/v1/issuer/licences/{licence_id}/status"]["post"]["responses"]
    assert "409" in operations and "404" in operations
    assert "history" in schemas_["WalletLicenceDetail"]["properties"]
    assert "superseded" in schemas_["VerifiedLicence"]["properties"]


def test_the_last_version_999_cannot_change_again(app, client, issuer):
    licence = issue(client, issuer)
    with app.app_context(), db.connection_context():  # moved to its last version directly: 998 changes take long
        Licence.update(version=999).where(Licence.id == licence["id"]).execute()
    assert_problem(client.post(status_url(licence["id"]), json={"status_code": "02", "reason": "x"}, headers=issuer),
                   409, "licence_versions_exhausted")
    assert_problem(client.post(reissue_url(licence["id"]), json={"kind": "reissue", "reason": "x"}, headers=issuer),
                   409, "licence_versions_exhausted")
    assert client.get(f"{ISSUE}/{licence['id']}", headers=issuer).get_json()["status"] == "01"
