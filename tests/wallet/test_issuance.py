"""Issuing licences, parking, revocation and the holder's wallet (电子证照 发证与卡包)."""
from __future__ import annotations

import json

import pytest

from app.audit import AuditEvent
from app.crypto.ca import keystore
from app.crypto.sm3 import sm3_hex
from app.db import db
from tests import vectors
from tests.helpers import assert_problem, bearer, rows
from tests.wallet.conftest import ISSUE, WALLET, driving_data, issue, issue_body
from wallet.models import Issuer, Licence


def test_issued_licence_appears_in_the_holders_wallet(client, issuer, verified_citizen):
    citizen = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    issued = issue(client, issuer)
    assert issued["status"] == "01" and issued["status_label"] == "有效" and issued["version"] == 1
    assert issued["parked"] is False
    assert issued["holder"] == {"name_masked": "张*", "id_number_masked": "3401**********1232"}
    assert issued["identifier"].startswith("1.2.156.3005.2.11100000000012345D002.")
    assert issued["identifier"].split(".")[-2] == "001"

    listed = client.get(WALLET, headers=citizen).get_json()
    assert [item["id"] for item in listed["items"]] == [issued["id"]]
    item = listed["items"][0]
    assert item["type_name"] == "机动车驾驶证" and item["issuer_name"] == "test client"
    assert item["summary"] == {"name": "张*", "vehicle_class": "C1", "valid_until": "2030-05-01", "status": "有效"}
    assert listed["next_cursor"] is None

    detail = client.get(f"{WALLET}/{issued['id']}", headers=citizen).get_json()
    assert detail["signature_valid"] is True
    assert detail["fields"]["id_number"] == "3401**********1232"
    assert detail["fields"]["address"].endswith("****") and detail["fields"]["vehicle_class"] == "C1"
    assert vectors.ZHANG_SAN[1] not in json.dumps(detail, ensure_ascii=False)


def test_same_reference_same_body_is_the_same_licence(client, issuer):
    first = issue(client, issuer)
    again = issue(client, issuer, status=200)
    assert again["id"] == first["id"] and again["identifier"] == first["identifier"]
    assert len(rows(client.application, Licence)) == 1


def test_same_reference_other_body_is_a_conflict(client, issuer):
    issue(client, issuer)
    other = issue_body(data=driving_data(vectors.ZHANG_SAN, vehicle_class="B2"))
    assert_problem(client.post(ISSUE, json=other, headers=issuer), 409, "reference_conflict")
    assert len(rows(client.application, Licence)) == 1


def test_references_are_per_issuer(client, machine_token):
    first = issue(client, bearer(machine_token("licences:issue")))
    second = issue(client, bearer(machine_token("licences:issue")))
    assert first["id"] != second["id"]
    assert first["identifier"].split(".")[6] != second["identifier"].split(".")[6]  # issuer codes differ


@pytest.mark.parametrize("changes, code, field", [
    ({"type_code": "no_such_licence"}, "licence_type_unknown", "type_code"),
    ({"data": driving_data(vectors.ZHANG_SAN, vehicle_class="Z9")}, "licence_data_invalid", "data.vehicle_class"),
    ({"data": driving_data(vectors.ZHANG_SAN, unknown_field="x")}, "licence_data_invalid", "data.unknown_field"),
    ({"data": driving_data(vectors.LI_SI)}, "licence_data_invalid", "data.id_number"),
    ({"holder": {"name": "张三", "id_number": "340102199003071231"}}, "id_number_invalid", "holder.id_number"),
    ({"valid_until": "2020-05-01"}, "validity_invalid", "valid_until"),
    ({"valid_until": "2019-01-01"}, "validity_invalid", "valid_until"),
    ({"reference": ""}, "validation_failed", "reference"),
    ({"valid_from": "2020-13-01"}, "validation_failed", "valid_from"),
])
def test_invalid_requests_are_refused(client, issuer, changes, code, field):
    body = assert_problem(client.post(ISSUE, json=issue_body(**changes), headers=issuer), 422, code)
    assert field in body["errors"], body
    assert rows(client.application, Licence) == []


def test_only_issuing_clients_may_issue(client, machine_token, login_citizen):
    other = bearer(machine_token("cases:write"))
    assert_problem(client.post(ISSUE, json=issue_body(), headers=other), 403, "insufficient_scope")
    citizen = bearer(login_citizen()["access_token"])
    assert_problem(client.post(ISSUE, json=issue_body(), headers=citizen), 403)
    assert_problem(client.post(ISSUE, json=issue_body()), 401)
    assert rows(client.application, Licence) == []


def test_parked_licence_joins_the_wallet_after_real_name(client, issuer, verified_citizen):
    issued = issue(client, issuer, issue_body(vectors.LI_SI))
    assert issued["parked"] is True
    assert rows(client.application, Licence)[0].user_id is None

    citizen = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    listed = client.get(WALLET, headers=citizen).get_json()["items"]
    assert [item["id"] for item in listed] == [issued["id"]]
    assert client.get(f"{ISSUE}/{issued['id']}", headers=issuer).get_json()["parked"] is False
    assert rows(client.application, AuditEvent, AuditEvent.action == "wallet.licences_attached")


def test_revoked_licence_is_re_signed(client, issuer, verified_citizen, machine_token):
    citizen = bearer(verified_citizen()["access_token"])
    issued = issue(client, issuer)
    stranger = bearer(machine_token("licences:issue"))
    url = f"{ISSUE}/{issued['id']}/revoke"
    assert_problem(client.post(url, json={"status_code": "07", "reason": "违法"}, headers=stranger), 404,
                   "licence_not_found")
    assert_problem(client.get(f"{ISSUE}/{issued['id']}", headers=stranger), 404, "licence_not_found")
    assert_problem(client.post(url, json={"status_code": "01", "reason": "x"}, headers=issuer), 422)

    revoked = client.post(url, json={"status_code": "07", "reason": "饮酒驾驶"}, headers=issuer)
    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["status"] == "07" and revoked.get_json()["version"] == 2
    assert revoked.get_json()["status_label"] == "吊销"
    assert_problem(client.post(url, json={"status_code": "02", "reason": "x"}, headers=issuer), 409,
                   "licence_transition_forbidden")

    item = client.get(WALLET, headers=citizen).get_json()["items"][0]
    assert item["status"] == "07" and item["status_label"] == "吊销"
    detail = client.get(f"{WALLET}/{issued['id']}", headers=citizen).get_json()
    assert detail["signature_valid"] is True and detail["version"] == 2 and detail["status_reason"] == "饮酒驾驶"
    actions = [e.action for e in rows(client.application, AuditEvent, AuditEvent.action.startswith("wallet."))]
    assert {"wallet.issuer_created", "wallet.licence_issued", "wallet.licence_status"} <= set(actions)


def test_signature_verifies_over_the_documented_canonical_bytes(app, client, issuer):
    """The re-signed version states its new status in its data too (issue 14 item 15)."""
    issued = issue(client, issuer)
    revoked = client.post(f"{ISSUE}/{issued['id']}/revoke", json={"status_code": "02", "reason": "暂扣"},
                          headers=issuer).get_json()
    licence = rows(app, Licence)[0]
    issuer_row = rows(app, Issuer)[0]
    document = {
        "identifier": revoked["identifier"], "type_code": "driving_licence", "issuer": issuer_row.code,
        "holder": {"name": "张三", "id_number": vectors.ZHANG_SAN[1]},
        "data": driving_data(vectors.ZHANG_SAN, status="暂扣"), "valid_from": "2020-05-01",
        "valid_until": "2030-05-01", "status": "02", "version": 2,
    }
    message = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert revoked["identifier"] == issued["identifier"][:-5] + "002." + revoked["identifier"][-1]  # the version segment
    assert sm3_hex(message) == licence.canonical_sha == revoked["canonical_sha"]
    with app.app_context():
        public = keystore().public_key(licence.key_id)
        assert public.verify(bytes(licence.signature), message)
        assert not public.verify(bytes(licence.signature), message.replace(b'"02"', b'"01"'))
        assert keystore().info(licence.key_id).owner == issuer_row.id


def _update(app, licence_id: str, **values) -> None:
    with app.app_context(), db.connection_context():
        Licence.update(**values).where(Licence.id == licence_id).execute()


def test_tampered_licence_fails_verification(app, client, issuer, verified_citizen):
    citizen = bearer(verified_citizen()["access_token"])
    first = issue(client, issuer)
    second = issue(client, issuer, issue_body(reference="ref-2",
                                              data=driving_data(vectors.ZHANG_SAN, vehicle_class="A1")))
    other_data = {r.id: r for r in rows(app, Licence)}[second["id"]].data_enc
    _update(app, first["id"], data_enc=other_data)  # a valid ciphertext, but not what was signed
    detail = client.get(f"{WALLET}/{first['id']}", headers=citizen).get_json()
    assert detail["signature_valid"] is False and detail["fields"]["vehicle_class"] == "A1"

    _update(app, second["id"], status="01", valid_until=None)
    assert client.get(f"{WALLET}/{second['id']}", headers=citizen).get_json()["signature_valid"] is False

    blob = bytearray(bytes(other_data))
    blob[20] ^= 1
    _update(app, second["id"], data_enc=bytes(blob))  # altered ciphertext: refused by SM4-GCM
    response = client.get(f"{WALLET}/{second['id']}", headers=citizen)
    assert response.status_code == 200
    assert response.get_json()["signature_valid"] is False and response.get_json()["fields"] == {}
    assert client.get(WALLET, headers=citizen).status_code == 200


def test_no_personal_data_in_clear_at_rest(app, client, issuer):
    issue(client, issuer)
    issue(client, issuer, issue_body(vectors.OUYANG, reference="ref-2",
                                     data=driving_data(vectors.OUYANG, sex="女", birth_date="2000-02-29")))
    for licence in rows(app, Licence):
        stored = b"".join(v if isinstance(v, (bytes, memoryview)) else str(v).encode()
                          for v in licence.__data__.values())
        for name, id_number in (vectors.ZHANG_SAN, vectors.OUYANG):
            for secret in (name, id_number, id_number[-8:], "长江中路"):
                assert secret.encode() not in bytes(stored)


def test_wallet_requires_real_name(client, login_citizen):
    citizen = bearer(login_citizen()["access_token"])
    assert_problem(client.get(WALLET, headers=citizen), 403, "assurance_level_insufficient")
    assert_problem(client.get(f"{WALLET}/lic_x", headers=citizen), 403, "assurance_level_insufficient")


def test_another_persons_licence_is_not_found(client, issuer, verified_citizen):
    issued = issue(client, issuer, issue_body(vectors.LI_SI))
    citizen = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    assert client.get(WALLET, headers=citizen).get_json()["items"] == []
    assert_problem(client.get(f"{WALLET}/{issued['id']}", headers=citizen), 404, "licence_not_found")


def test_wallet_pages_with_a_cursor(client, issuer, verified_citizen):
    citizen = bearer(verified_citizen()["access_token"])
    ids = {issue(client, issuer, issue_body(reference=f"ref-{n}"))["id"] for n in range(3)}
    first = client.get(f"{WALLET}?limit=2", headers=citizen).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(f"{WALLET}?limit=2&cursor={first['next_cursor']}", headers=citizen).get_json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert {i["id"] for i in first["items"] + second["items"]} == ids
    assert_problem(client.get(f"{WALLET}?limit=51", headers=citizen), 422)
    assert_problem(client.get(f"{WALLET}?cursor=bm9wZQ", headers=citizen), 422, "cursor_invalid")


def test_licence_field_errors_are_answered_in_english(client, issuer):
    body = issue_body(data=driving_data(vectors.ZHANG_SAN, birth_date="1990-02-30", vehicle_class="Z9"))
    english = client.post(ISSUE, json=body, headers={**issuer, "Accept-Language": "en"})
    assert english.status_code == 422 and english.get_json()["code"] == "licence_data_invalid"
    errors = english.get_json()["errors"]
    assert errors["data.birth_date"] == ["Date of birth: This date does not exist."]
    assert errors["data.vehicle_class"] == ["Permitted vehicle class: The value is not one of the allowed values."]
    chinese = assert_problem(client.post(ISSUE, json=body, headers=issuer), 422, "licence_data_invalid")
    assert chinese["errors"]["data.birth_date"] == ["出生日期：日期不存在。"]
