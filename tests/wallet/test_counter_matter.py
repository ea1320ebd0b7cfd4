"""The matter (用证事项) a clerk chooses before scanning (issue 16, the counter; required since issue
17): GET /counter/matters lists the active ones with their legal basis; POST /counter/verifications
without a matter is refused (422), with one discloses exactly the matter's fields, refuses a licence
type the matter does not accept (422, the allowed types, the code stays usable) and an unknown or
inactive matter (422 matter_unknown, the allowed list, the code stays usable); the holder's usage
record and 'used' notice name the matter and the field NAMES, never values. Refusals carry a stable code (and for a licence that is not valid, its
reason and day); a clerk without a hall is out of scope."""
from __future__ import annotations

import json

import pytest

from app.db import db
from app.security.passwords import hash_password
from identity import models as staff_models
from tests import vectors
from tests.fixtures.notify import only
from tests.helpers import assert_problem, bearer, rows
from tests.wallet.conftest import CLERK_PASSWORD, ISSUE, VERIFY, issue, present
from wallet.models import PresentationCheck

MATTERS = "/api/v1/counter/matters"
USAGE = "/api/v1/wallet/usage"


def id_card(client, issuer) -> dict:
    body = {"type_code": "resident_id_card", "holder": {"name": "张三", "id_number": vectors.ZHANG_SAN[1]},
            "data": {"name": "张三", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
                     "address": "安徽省合肥市瑶海区长江东路 8 号", "id_number": vectors.ZHANG_SAN[1],
                     "issuing_authority": "合肥市公安局瑶海分局", "valid_from": "2015-06-01", "valid_until": "长期"},
            "valid_from": "2015-06-01", "valid_until": None, "reference": "id-card"}
    return issue(client, issuer, body)


def verify(client, headers, qr_text: str, matter: str | None, status: int = 200, **extra) -> dict:
    body = {"qr_text": qr_text} | ({"matter": matter} if matter else {})
    response = client.post(VERIFY, json=body, headers=headers | extra)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_clerks_list_the_matters_in_both_languages(client, clerk, holder):
    counter = clerk()
    items = client.get(MATTERS, headers=counter).get_json()["items"]
    by_code = {m["code"]: m for m in items}
    assert {"identity_check", "hotel_check_in", "vehicle_check"} <= set(by_code)
    hotel = by_code["hotel_check_in"]
    assert hotel["name"] == "旅馆住宿登记" and hotel["legal_basis"].startswith("《旅馆业治安管理办法》第六条")
    assert [t["code"] for t in hotel["licence_types"]] == ["resident_id_card"]
    assert hotel["licence_types"][0]["name"] == "居民身份证"
    assert {"key": "id_number", "label": "公民身份号码", "how": "tail4"} in hotel["licence_types"][0]["fields"]
    assert "driving_licence" in [t["code"] for t in by_code["identity_check"]["licence_types"]]
    english = client.get(MATTERS, headers=counter | {"Accept-Language": "en"}).get_json()["items"]
    assert {m["code"]: m["name"] for m in english}["hotel_check_in"] == "Hotel check-in"
    assert {m["code"]: m["legal_basis"] for m in english}["hotel_check_in"].startswith("Measures for the Public")
    assert_problem(client.get(MATTERS), 401)
    assert_problem(client.get(MATTERS, headers=holder), 403, "forbidden")


def test_the_matter_is_required_in_the_openapi_and_its_list_is_documented(client):
    """The catalogue changes at run time: the document states the code's shape, that it is required,
    and where the current list is (an enum would go stale)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/counter/verifications"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = spec["components"]["schemas"][ref]
    matter = schema["properties"]["matter"]
    assert "matter" in schema["required"] and matter["pattern"] == "^[a-z][a-z0-9_]{1,31}$"
    assert "GET /counter/matters" in matter["description"] and "enum" not in matter
    for code in ("matter_not_applicable", "matter_unknown"):
        assert code in post["responses"]["422"]["description"]
    listing = spec["paths"]["/api/v1/counter/matters"]["get"]
    assert listing["summary"] or listing["description"]
    assert "200" in listing["responses"] and "403" in listing["responses"]


def test_a_matter_discloses_exactly_its_fields(client, issuer, holder, licence, clerk):
    """A vehicle check of a driving licence shows the name (masked), the class, the validity and the
    status: no ID number, even though the holder chose to show address and ID number in full."""
    shown = present(client, holder, licence["id"], fields=["name", "id_number", "address", "vehicle_class"])
    answer = verify(client, clerk(), shown["qr_text"], "vehicle_check")
    assert answer["result"] == "verified"
    assert answer["matter"] == {"code": "vehicle_check", "name": "驾驶资格核查",
                                "legal_basis": "《中华人民共和国道路交通安全法》第十九条：驾驶机动车应当依法取得机动车驾驶证，"
                                               "按照准驾车型驾驶"}
    assert answer["disclosed"] == ["name", "vehicle_class", "valid_until", "status"]
    assert answer["licence"]["fields"] == {"vehicle_class": "C1"}
    assert answer["licence"]["merged_fields"] == {"name": "holder.name", "valid_until": "licence.valid_until",
                                                  "status": "licence.status"}
    assert answer["holder"] == {"name_masked": "张*"}
    text = json.dumps(answer, ensure_ascii=False)
    for secret in (vectors.ZHANG_SAN[1], "1232", "长江中路", "张三"):
        assert secret not in text, secret


def test_hotel_check_in_shows_the_name_and_only_the_last_four_of_the_id_number(client, issuer, holder, clerk):
    card = id_card(client, issuer)
    shown = present(client, holder, card["id"])
    answer = verify(client, clerk(), shown["qr_text"], "hotel_check_in")
    assert answer["holder"] == {"name": "张三", "name_masked": "张*", "id_number_masked": "**************1232"}
    assert answer["licence"]["fields"] == {}
    assert answer["disclosed"] == ["name", "id_number", "valid_until"]
    assert vectors.ZHANG_SAN[1] not in json.dumps(answer) and "340102" not in json.dumps(answer)


def test_a_licence_type_the_matter_does_not_accept_is_refused_and_the_code_stays_usable(app, client, holder,
                                                                                      licence, clerk):
    counter = clerk()
    shown = present(client, holder, licence["id"])
    body = assert_problem(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "hotel_check_in"},
                                      headers=counter), 422, "matter_not_applicable")
    assert body["accepted_types"] == ["resident_id_card"] and body["matter"] == "hotel_check_in"
    assert "旅馆住宿登记" in body["detail"] and "机动车驾驶证" in body["detail"] and "居民身份证" in body["detail"]
    assert body["errors"]["matter"] and "张" not in json.dumps(body, ensure_ascii=False)
    english = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "hotel_check_in"},
                          headers=counter | {"Accept-Language": "en"}).get_json()
    assert english["code"] == "matter_not_applicable"
    assert "Hotel check-in" in english["detail"] and "Resident identity card" in english["detail"], english
    # Not consumed: the clerk chooses the right matter and scans the same code.
    assert verify(client, counter, shown["qr_text"], "identity_check")["result"] == "verified"
    results = [(c.result, c.matter) for c in rows(app, PresentationCheck)]
    assert sorted(results) == sorted([("matter_not_applicable", "hotel_check_in")] * 2
                                     + [("verified", "identity_check")])


@pytest.mark.parametrize("matter", ["", "HOTEL_CHECK_IN", "x", "a" * 33, "hotel-check-in", None, 7])
def test_a_malformed_or_missing_matter_is_refused_before_the_code_is_read(client, holder, licence, clerk, matter):
    counter = clerk()
    shown = present(client, holder, licence["id"])
    body = {"qr_text": shown["qr_text"]} | ({} if matter is None else {"matter": matter})
    refused = assert_problem(client.post(VERIFY, json=body, headers=counter), 422, "validation_failed")
    assert refused["errors"]["matter"], refused
    assert verify(client, counter, shown["qr_text"], "vehicle_check")["result"] == "verified"  # still live


def test_an_unknown_matter_is_refused_with_the_allowed_list_and_the_code_stays_usable(app, client, holder,
                                                                                      licence, clerk):
    counter = clerk()
    shown = present(client, holder, licence["id"])
    body = assert_problem(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "spa"},
                                      headers=counter), 422, "matter_unknown")
    assert {"hotel_check_in", "vehicle_check", "bank_account_opening"} <= set(body["allowed_matters"])
    assert "hotel_check_in" in json.dumps(body["errors"]["matter"]) and "不存在或已停用" in body["detail"]
    english = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "spa"},
                          headers=counter | {"Accept-Language": "en"}).get_json()
    assert english["detail"] == "The chosen matter does not exist or is no longer in use."
    assert english["errors"]["matter"][0].startswith("Matters you can choose: ")
    assert rows(app, PresentationCheck) == []  # refused before the code was read: nothing recorded
    assert verify(client, counter, shown["qr_text"], "vehicle_check")["result"] == "verified"


def test_usage_and_notice_name_the_matter_and_field_names_never_values(app, client, issuer, holder, licence,
                                                                       clerk):
    shown = present(client, holder, licence["id"], purpose="租车")
    verify(client, clerk(), shown["qr_text"], "vehicle_check")
    [item] = client.get(USAGE, headers=holder).get_json()["items"]
    assert item["matter"]["code"] == "vehicle_check" and item["matter"]["name"] == "驾驶资格核查"
    assert item["matter"]["legal_basis"].startswith("《中华人民共和国道路交通安全法》第十九条")
    assert item["fields"] == ["name", "vehicle_class", "valid_until", "status"]
    assert item["field_labels"] == ["姓名", "准驾车型", "有效期止", "状态"]
    assert item["result"] == "verified" and item["hall"] == "H1" and item["clerk"] == "clerk.one"
    [english] = client.get(USAGE, headers=holder | {"Accept-Language": "en"}).get_json()["items"]
    assert english["matter"]["name"] == "Driving entitlement check"
    assert english["matter"]["legal_basis"].startswith("Road Traffic Safety Law of the PRC, art. 19")
    row, data = only(app, "licence_used", link=f"yiwang://wallet/licences/{licence['id']}")
    assert "驾驶资格核查" in row.body and "准驾车型" in row.body and "Driving entitlement check" in data["body_en"]
    assert data["matter"] == "vehicle_check" and data["fields"] == item["fields"]
    everything = json.dumps(item, ensure_ascii=False) + row.body + row.data
    for value in ("C1", vectors.ZHANG_SAN[0], vectors.ZHANG_SAN[1], "2030-05-01"):
        assert value not in everything, value


def test_a_refusal_of_a_licence_that_is_not_valid_says_why_and_since_when(client, issuer, holder, licence, clerk):
    shown = present(client, holder, licence["id"])
    response = client.post(f"{ISSUE}/{licence['id']}/revoke", json={"status_code": "02", "reason": "测试"},
                           headers=issuer)
    assert response.status_code == 200, response.get_json()
    body = assert_problem(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"},
                                      headers=clerk()), 422, "licence_not_valid")
    assert body["reason"] == "suspended" and len(body["since"]) == 10 and "被暂扣" in body["detail"]
    assert "C1" not in json.dumps(body) and "张" not in json.dumps(body, ensure_ascii=False)


def test_staff_outside_the_counter_scope_are_refused(app, client, runner, holder, licence):
    """An administrator is not a clerk (403 forbidden); a clerk account without a hall (made before the
    rule that a clerk has one) has no counter (403 counter_out_of_scope); neither uses up the code."""
    out = runner.invoke(args=["staff", "create", "--username", "admin.one", "--password", CLERK_PASSWORD,
                              "--role", "admin"])
    assert "created" in out.output, out.output
    with app.app_context(), db.connection_context():
        staff_models.create_staff(username="clerk.nohall", password_hash=hash_password(CLERK_PASSWORD), role="clerk",
                                  hall_code=None)
    shown = present(client, holder, licence["id"])
    for username, code in (("admin.one", "forbidden"), ("clerk.nohall", "counter_out_of_scope")):
        login = client.post("/api/v1/auth/staff-login", json={"username": username, "password": CLERK_PASSWORD})
        assert login.status_code == 200, login.get_json()
        body = assert_problem(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"},
                                          headers=bearer(login.get_json()["access_token"])), 403, code)
        assert "张" not in json.dumps(body, ensure_ascii=False)
    assert "大厅" in body["detail"]
