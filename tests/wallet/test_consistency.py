"""A licence's data agrees with the licence: contradictory issuing requests are refused (issue 14
item 16) and a status field inside the data follows the licence's real status (item 15)."""
from __future__ import annotations

import json

import pytest

from app.audit import AuditEvent
from app.db import db
from app.security.pii import field_cipher
from tests import vectors
from tests.helpers import assert_problem, bearer, rows
from tests.wallet.conftest import ISSUE, WALLET, driving_data, issue, issue_body
from wallet.consistency import same_name
from wallet.issuance import _sign, decrypt_parts
from wallet.models import Issuer, Licence

ENGLISH = {"Accept-Language": "en"}
CREDIT_CODE = "11430000006122244L"


def refused(client, issuer, body: dict, code: str) -> dict:
    answer = assert_problem(client.post(ISSUE, json=body, headers=issuer), 422, code)
    assert rows(client.application, Licence) == []  # nothing issued, nothing parked
    return answer


# --- Item 16: contradictory issuance -----------------------------------------------------------

def test_holder_name_must_match_the_real_name_record(client, issuer, verified_citizen):
    """Item 16: 张三 is verified as 张三; a licence for his ID number under another name is refused."""
    verified_citizen(vectors.ZHANG_SAN)
    other = ("张四", vectors.ZHANG_SAN[1])
    body = refused(client, issuer, issue_body(other), "holder_name_mismatch")
    assert body["errors"] == {"holder.name": ["与持证人的实名信息不一致。"]}
    assert body["field_codes"] == {"holder.name": "holder_name_mismatch"}
    assert issue(client, issuer)["parked"] is False  # the right name goes through


def test_names_in_the_data_must_match_the_holder(client, issuer):
    """Item 16: the data's 姓名 is the holder's name (no real-name record needed for this check)."""
    body = refused(client, issuer, issue_body(data=driving_data(vectors.ZHANG_SAN, name="李四")),
                   "holder_name_mismatch")
    assert body["errors"] == {"data.name": ["应与持证人姓名一致。"]}
    business = {"type_code": "business_licence", "holder": {"name": "张三", "id_number": vectors.ZHANG_SAN[1]},
                "data": {"credit_code": CREDIT_CODE, "name": "合肥示例科技有限公司", "entity_type": "有限责任公司",
                         "legal_representative": "王五", "legal_representative_id_number": vectors.ZHANG_SAN[1],
                         "established_on": "2019-01-02", "business_term_until": "长期", "domicile": "合肥市",
                         "registration_authority": "合肥市市场监督管理局"},
                "valid_from": "2019-01-02", "valid_until": None, "reference": "biz-1"}
    body = refused(client, issuer, business, "holder_name_mismatch")
    assert set(body["errors"]) == {"data.legal_representative"}
    business["data"]["legal_representative"] = "张三"
    assert issue(client, issuer, business)["status"] == "01"


@pytest.mark.parametrize("data_changes, top_changes, field, reason", [
    ({"valid_from": "2030-05-01", "valid_until": "2020-05-01"}, {}, "data.valid_until", "截止日期应晚于起始日期。"),
    ({"valid_until": "2029-05-01"}, {}, "data.valid_until", "应与证照有效期截止日期（valid_until）一致。"),
    ({"valid_until": "长期"}, {}, "data.valid_until", "应与证照有效期截止日期（valid_until）一致。"),
    ({}, {"valid_until": None}, "data.valid_until", "应与证照有效期截止日期（valid_until）一致。"),
    ({"valid_from": "2021-05-01"}, {}, "data.valid_from", "应与证照有效期起始日期（valid_from）一致。"),
])
def test_validity_inside_the_data_must_agree(client, issuer, data_changes, top_changes, field, reason):
    """Item 16: the data's 有效期起/止 neither end before they start nor differ from valid_from/valid_until."""
    body = issue_body(data=driving_data(vectors.ZHANG_SAN, **data_changes), **top_changes)
    answer = refused(client, issuer, body, "validity_inconsistent")
    assert reason in answer["errors"][field] and answer["field_codes"][field] == "validity_inconsistent"


def test_permanent_validity_agrees_with_no_end_date(client, issuer):
    """Item 16: 长期 in the data is the same fact as `valid_until: null`."""
    issued = issue(client, issuer, issue_body(valid_until=None))
    assert issued["valid_until"] is None


def test_status_in_the_data_must_be_the_new_licences(client, issuer, verified_citizen):
    """Item 16: a new licence is 有效; data saying 吊销 is refused. The status may be left out: the
    server writes the licence's status in."""
    body = refused(client, issuer, issue_body(data=driving_data(vectors.ZHANG_SAN, status="吊销")),
                   "status_inconsistent")
    assert body["errors"] == {"data.status": ["应与证照状态一致：新发证照的状态为“有效”。"]}
    citizen = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    data = {k: v for k, v in driving_data(vectors.ZHANG_SAN).items() if k != "status"}
    issued = issue(client, issuer, issue_body(data=data))
    assert client.get(f"{WALLET}/{issued['id']}", headers=citizen).get_json()["fields"]["status"] == "有效"
    assert issue(client, issuer, issue_body(), status=200)["id"] == issued["id"]  # the same licence, stated fully


def test_every_contradiction_is_named_with_its_code(client, issuer):
    """Item 16: several contradictions: the code is the first's, `field_codes` names each field's."""
    data = driving_data(vectors.ZHANG_SAN, name="李四", valid_until="2029-01-01", status="暂扣")
    body = refused(client, issuer, issue_body(data=data), "holder_name_mismatch")
    assert body["field_codes"] == {"data.name": "holder_name_mismatch", "data.valid_until": "validity_inconsistent",
                                   "data.status": "status_inconsistent"}
    response = client.post(ISSUE, json=issue_body(data=data), headers={**issuer, **ENGLISH})
    english = response.get_json()
    assert response.status_code == 422 and english["code"] == "holder_name_mismatch"
    assert english["detail"].startswith("The holder's name does not match")
    assert english["errors"]["data.status"] == ["Must match the licence's status: a newly issued licence is valid."]


def test_the_new_refusals_are_documented(client):
    """Item 16: the issuing operation documents its new 422 codes."""
    spec = client.get("/api/v1/openapi.json").get_json()
    answer = spec["paths"]["/api/v1/issuer/licences"]["post"]["responses"]["422"]["description"]
    for code in ("holder_name_mismatch", "validity_inconsistent", "status_inconsistent"):
        assert code in answer


def test_a_parked_licence_under_another_name_stays_parked(client, issuer, verified_citizen):
    """Item 16: 李四 had no account when a licence under the name 李斯 was issued to his ID number; on
    verifying as 李四 he does not get it: it stays parked, audited, and its issuer sees why."""
    wrong = issue(client, issuer, issue_body(("李斯", vectors.LI_SI[1]), reference="ref-wrong"))
    right = issue(client, issuer, issue_body(vectors.LI_SI, reference="ref-right"))
    assert wrong["parked_reason"] == right["parked_reason"] == "awaiting_real_name"

    citizen = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    assert [i["id"] for i in client.get(WALLET, headers=citizen).get_json()["items"]] == [right["id"]]
    assert_problem(client.get(f"{WALLET}/{wrong['id']}", headers=citizen), 404, "licence_not_found")
    seen = client.get(f"{ISSUE}/{wrong['id']}", headers=issuer).get_json()
    assert seen["parked"] is True and seen["parked_reason"] == "holder_name_mismatch"
    assert client.get(f"{ISSUE}/{right['id']}", headers=issuer).get_json()["parked_reason"] is None
    [kept] = rows(client.application, AuditEvent, AuditEvent.action == "wallet.licences_attached",
                  AuditEvent.outcome == "refused")
    assert kept.target == wrong["id"] and json.loads(kept.details) == {"reason": "holder_name_mismatch"}
    assert "李" not in (kept.details or "")


@pytest.mark.parametrize("a, b, same", [
    ("张三", " 张三 ", True), ("阿卜杜·热合曼", "阿卜杜•热合曼", True), ("阿卜杜·热合曼", "阿卜杜．热合曼", True),
    ("John  Smith", "john smith", True), ("Ｊｏｈｎ Smith", "John Smith", True),
    ("张三", "张四", False), ("John Smith", "John Smyth", False),
])
def test_names_compare_as_written_not_byte_for_byte(a, b, same):
    """Item 16: spacing, case, full-width letters and middle-dot variants do not make another name."""
    assert same_name(a, b) is same


# --- Item 15: the status inside the data follows the licence -----------------------------------

@pytest.mark.parametrize("status_code, label", [("02", "暂扣"), ("07", "吊销")])
def test_a_suspended_or_revoked_licence_shows_its_status_in_its_fields(client, issuer, verified_citizen,
                                                                       status_code, label):
    """Item 15: after 暂扣 / 吊销 the wallet list and detail no longer say 状态 有效."""
    citizen = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    issued = issue(client, issuer)
    answer = client.post(f"{ISSUE}/{issued['id']}/revoke", json={"status_code": status_code, "reason": "违法"},
                         headers=issuer)
    assert answer.status_code == 200, answer.get_json()
    item = client.get(WALLET, headers=citizen).get_json()["items"][0]
    assert item["summary"]["status"] == label and item["derived_fields"] == ["status"]
    detail = client.get(f"{WALLET}/{issued['id']}", headers=citizen).get_json()
    assert detail["fields"]["status"] == label and detail["status"] == status_code
    assert detail["signature_valid"] is True and detail["derived_fields"] == ["status"]


def test_the_status_field_is_never_served_from_the_stored_data(app, client, issuer, verified_citizen):
    """Item 15: a version signed before this fix carries 有效 in its data beside status 02; the wallet
    shows 暂扣 (the licence's status), and the signature over what was signed still verifies."""
    citizen = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    issued = issue(client, issuer)
    client.post(f"{ISSUE}/{issued['id']}/revoke", json={"status_code": "02", "reason": "暂扣"}, headers=issuer)
    with app.app_context(), db.connection_context():
        licence = Licence.get_by_id(issued["id"])
        name, id_number, data = decrypt_parts(licence)
        data["status"] = "有效"  # as the old code re-signed a status change
        licence.data_enc = field_cipher().encrypt(json.dumps(data, ensure_ascii=False), "licence.data")
        _sign(licence, Issuer.get_by_id(licence.issuer_id), name, id_number, data)
        licence.save()
    detail = client.get(f"{WALLET}/{issued['id']}", headers=citizen).get_json()
    assert detail["signature_valid"] is True and detail["fields"]["status"] == "暂扣"
    assert client.get(WALLET, headers=citizen).get_json()["items"][0]["summary"]["status"] == "暂扣"
