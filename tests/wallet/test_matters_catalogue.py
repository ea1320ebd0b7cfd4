"""The catalogue of matters (用证事项) in the database (issue 17 "Disclosure by purpose"): seeded by
the migrations with a realistic set, each with its legal basis; managed by `flask matters …` and by
/api/v1/admin/matters (scope `matters:admin`), every change audited with before and after; a new
matter is asked by at once, a deactivated one is refused at the counter (422 matter_unknown) but
still named in the records that used it."""
from __future__ import annotations

import json

import pytest

from app.audit import AuditEvent
from app.db import db
from tests.helpers import assert_problem, bearer, rows
from tests.wallet.conftest import VERIFY, present
from wallet import service

ADMIN = "/api/v1/admin/matters"
MATTERS = "/api/v1/counter/matters"
USAGE = "/api/v1/wallet/usage"

PENSION = {
    "code": "pension_check", "name_zh": "养老金领取资格认证", "name_en": "Pension entitlement check",
    "legal_basis_zh": "《中华人民共和国社会保险法》第十六条", "legal_basis_en": "Social Insurance Law of the PRC, art. 16",
    "licence_types": [{"code": "driving_licence", "fields": [{"key": "name", "how": "full"},
                                                             {"key": "id_number", "how": "tail4"}]}],
}


@pytest.fixture
def admin(machine_token):
    return bearer(machine_token("matters:admin"))


def audits(app, action: str) -> list[AuditEvent]:
    return rows(app, AuditEvent, AuditEvent.action == action)


def test_the_migrations_seed_a_realistic_catalogue_with_legal_bases(app):
    with app.app_context(), db.connection_context():
        seeded = {m.code: m for m in service.list_matters()}
        assert service.get_matter("no_such_matter") is None
    assert {"identity_check", "hotel_check_in", "vehicle_check", "business_registration", "marriage_check",
            "property_check", "social_security_service", "household_check", "bank_account_opening",
            "employment_check", "rental_registration"} <= set(seeded)
    hotel = seeded["hotel_check_in"]
    assert hotel.legal_basis_zh.startswith("《旅馆业治安管理办法》第六条") and "art. 6" in hotel.legal_basis_en
    assert hotel.fields_for("resident_id_card") == (("name", "full"), ("id_number", "tail4"), ("valid_until", "full"))
    assert "道路交通安全法" in seeded["vehicle_check"].legal_basis_zh
    assert seeded["rental_registration"].accepts == ("resident_id_card", "real_estate_certificate")
    for matter in seeded.values():
        assert matter.active and matter.legal_basis_zh and matter.legal_basis_en and matter.name_en


# --- The admin API -----------------------------------------------------------------------------

def test_admin_api_checks_in_order_401_403_422(client, clerk, machine_token):
    assert_problem(client.get(ADMIN), 401)
    assert_problem(client.post(ADMIN, json={}), 401)  # not 422: no credentials first
    assert_problem(client.post(ADMIN, json={}, headers=clerk()), 403, "forbidden")
    issuer = bearer(machine_token("licences:issue"))
    assert_problem(client.post(ADMIN, json={}, headers=issuer), 403, "insufficient_scope")
    assert_problem(client.patch(f"{ADMIN}/hotel_check_in", json={"active": False}, headers=issuer), 403,
                   "insufficient_scope")
    admin = bearer(machine_token("matters:admin"))
    body = assert_problem(client.post(ADMIN, json={}, headers=admin), 422, "validation_failed")
    assert {"code", "name_zh", "name_en", "legal_basis_zh", "legal_basis_en", "licence_types"} <= set(body["errors"])


def test_admin_adds_changes_and_deactivates_a_matter_audited(app, client, admin, holder, licence, clerk):
    created = client.post(ADMIN, json=PENSION, headers=admin)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["code"] == "pension_check" and body["active"] is True and body["version"] == 1
    assert body["legal_basis"] == "《中华人民共和国社会保险法》第十六条" and body["name_en"] == "Pension entitlement check"
    assert body["licence_types"][0]["fields"] == [{"key": "name", "label": "姓名", "how": "full"},
                                                  {"key": "id_number", "label": "证号", "how": "tail4"}]
    [added] = audits(app, "wallet.matter_added")
    assert added.actor_kind == "client" and added.actor_id and added.target == "pension_check"
    assert json.loads(added.details)["after"]["disclosures"] == {"driving_licence": [["name", "full"],
                                                                                     ["id_number", "tail4"]]}

    # Asked by at once, and it discloses exactly its fields.
    counter = clerk()
    assert "pension_check" in [m["code"] for m in client.get(MATTERS, headers=counter).get_json()["items"]]
    answer = client.post(VERIFY, json={"qr_text": present(client, holder, licence["id"])["qr_text"],
                                       "matter": "pension_check"}, headers=counter).get_json()
    assert answer["disclosed"] == ["name", "id_number"]
    assert answer["holder"] == {"name": "张三", "name_masked": "张*", "id_number_masked": "**************1232"}

    changed = client.patch(f"{ADMIN}/pension_check", json={"legal_basis_zh": "《社会保险法》第十六条", "version": 1},
                           headers=admin)
    assert changed.status_code == 200 and changed.get_json()["version"] == 2, changed.get_json()
    assert_problem(client.patch(f"{ADMIN}/pension_check", json={"name_zh": "养老金认证", "version": 1},
                                headers=admin), 409, "matter_changed")
    [updated] = audits(app, "wallet.matter_updated")
    details = json.loads(updated.details)
    assert details["before"]["legal_basis_zh"] == "《中华人民共和国社会保险法》第十六条"
    assert details["after"]["legal_basis_zh"] == "《社会保险法》第十六条"

    off = client.patch(f"{ADMIN}/pension_check", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert len(audits(app, "wallet.matter_deactivated")) == 1
    assert "pension_check" not in [m["code"] for m in client.get(MATTERS, headers=counter).get_json()["items"]]
    listed = client.get(ADMIN, headers=admin).get_json()["items"]
    assert {m["code"]: m["active"] for m in listed}["pension_check"] is False
    assert "pension_check" not in [m["code"] for m in
                                   client.get(f"{ADMIN}?active_only=true", headers=admin).get_json()["items"]]
    # The record of the check made while it was active still names it, with its legal basis.
    [used] = [u for u in client.get(USAGE, headers=holder).get_json()["items"] if u["result"] == "verified"]
    assert used["matter"] == {"code": "pension_check", "name": "养老金领取资格认证", "legal_basis": "《社会保险法》第十六条"}


def test_an_inactive_matter_is_refused_at_the_counter_and_the_code_stays_usable(client, admin, holder, licence,
                                                                               clerk):
    assert client.patch(f"{ADMIN}/vehicle_check", json={"active": False}, headers=admin).status_code == 200
    counter = clerk()
    shown = present(client, holder, licence["id"])
    body = assert_problem(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"},
                                      headers=counter), 422, "matter_unknown")
    assert "vehicle_check" not in body["allowed_matters"] and "identity_check" in body["allowed_matters"]
    assert client.patch(f"{ADMIN}/vehicle_check", json={"active": True}, headers=admin).status_code == 200
    again = client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": "vehicle_check"}, headers=counter)
    assert again.status_code == 200, again.get_json()


@pytest.mark.parametrize("licence_types, where", [
    ([{"code": "passport", "fields": [{"key": "name", "how": "full"}]}], "passport"),
    ([{"code": "driving_licence", "fields": [{"key": "blood_type", "how": "full"}]}], "driving_licence"),
    ([{"code": "driving_licence", "fields": [{"key": "name", "how": "full"}, {"key": "name", "how": "masked"}]}],
     "driving_licence"),
    ([{"code": "driving_licence", "fields": [{"key": "name", "how": "full"}]},
      {"code": "driving_licence", "fields": [{"key": "name", "how": "full"}]}], "driving_licence"),
])
def test_a_matter_naming_what_the_licence_catalogue_lacks_is_refused(app, client, admin, licence_types, where):
    body = assert_problem(client.post(ADMIN, json=PENSION | {"licence_types": licence_types}, headers=admin), 422,
                          "matter_invalid")
    assert body["errors"][where], body
    english = client.post(ADMIN, json=PENSION | {"licence_types": licence_types},
                          headers=admin | {"Accept-Language": "en"}).get_json()
    assert english["detail"] == "The matter's licence types or fields are wrong.", english
    assert audits(app, "wallet.matter_added") == []


def test_admin_api_business_refusals(client, admin):
    assert_problem(client.post(ADMIN, json=PENSION | {"code": "hotel_check_in"}, headers=admin), 409, "matter_exists")
    assert_problem(client.get(f"{ADMIN}/nope", headers=admin), 404, "matter_not_found")
    assert_problem(client.patch(f"{ADMIN}/nope", json={"active": False}, headers=admin), 404, "matter_not_found")
    assert_problem(client.patch(f"{ADMIN}/hotel_check_in", json={}, headers=admin), 422, "empty_update")
    for bad in ({"active": "false"}, {"name_zh": ""}, {"name_zh": "x" * 65}, {"version": 0},
                {"licence_types": []}, {"licence_types": [{"code": "driving_licence", "fields": [
                    {"key": "name", "how": "shown"}]}]}):
        assert_problem(client.patch(f"{ADMIN}/hotel_check_in", json=bad, headers=admin), 422, "validation_failed")


def test_the_openapi_states_the_catalogues_constraints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]

    def body_of(path: str, method: str) -> dict:
        ref = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[-1]]

    create = body_of(ADMIN, "post")
    assert set(create["required"]) == {"code", "name_zh", "name_en", "legal_basis_zh", "legal_basis_en",
                                       "licence_types"}
    assert create["properties"]["code"]["pattern"] == "^[a-z][a-z0-9_]{1,31}$"
    assert create["properties"]["name_zh"]["maxLength"] == 64 and create["properties"]["legal_basis_zh"]["maxLength"] == 500
    assert create["properties"]["licence_types"]["minItems"] == 1
    field = schemas[schemas[create["properties"]["licence_types"]["items"]["$ref"].rsplit("/", 1)[-1]]
                    ["properties"]["fields"]["items"]["$ref"].rsplit("/", 1)[-1]]
    assert field["properties"]["how"]["enum"] == ["full", "masked", "tail4"]
    update = body_of(f"{ADMIN}/{{code}}", "patch")
    assert update.get("minProperties") == 1 and "required" not in update
    for path, method in ((ADMIN, "get"), (ADMIN, "post"), (f"{ADMIN}/{{code}}", "get"), (f"{ADMIN}/{{code}}", "patch")):
        responses = spec["paths"][path][method]["responses"]
        assert {"401", "403"} <= set(responses), (path, method)
    assert "matter_invalid" in spec["paths"][ADMIN]["post"]["responses"]["422"]["description"]


# --- The CLI -----------------------------------------------------------------------------------

def test_cli_lists_adds_updates_and_deactivates_audited(app, runner, client, clerk):
    listed = runner.invoke(args=["matters", "list"])
    assert listed.exit_code == 0 and "hotel_check_in\tactive\t旅馆住宿登记 / Hotel check-in" in listed.output
    assert "《旅馆业治安管理办法》第六条" in listed.output

    added = runner.invoke(args=["matters", "add", "--code", "tenancy_check", "--name-zh", "租房核验",
                                "--name-en", "Tenancy check", "--basis-zh", "《商品房屋租赁管理办法》第八条",
                                "--basis-en", "Commodity Housing Lease Measures, art. 8",
                                "--type", "resident_id_card:name=full,id_number=tail4",
                                "--type", "real_estate_certificate:certificate_number=full"])
    assert added.exit_code == 0 and "added tenancy_check" in added.output, added.output
    assert "tenancy_check" in [m["code"] for m in client.get(MATTERS, headers=clerk()).get_json()["items"]]

    wrong = runner.invoke(args=["matters", "add", "--code", "bad_one", "--name-zh", "坏", "--name-en", "Bad",
                                "--basis-zh", "无", "--basis-en", "None", "--type", "driving_licence:wings=full"])
    assert wrong.exit_code == 1 and "wings" in wrong.output, wrong.output
    taken = runner.invoke(args=["matters", "add", "--code", "tenancy_check", "--name-zh", "租房核验",
                                "--name-en", "Tenancy check", "--basis-zh", "x", "--basis-en", "x",
                                "--type", "resident_id_card:name=full"])
    assert taken.exit_code == 1 and "已存在" in taken.output

    updated = runner.invoke(args=["matters", "update", "tenancy_check", "--type", "resident_id_card:name=masked"])
    assert updated.exit_code == 0 and "version 2" in updated.output, updated.output
    off = runner.invoke(args=["matters", "deactivate", "tenancy_check"])
    assert off.exit_code == 0 and "deactivated" in off.output
    assert "tenancy_check" not in runner.invoke(args=["matters", "list"]).output
    assert "tenancy_check\tinactive" in runner.invoke(args=["matters", "list", "--all"]).output
    on = runner.invoke(args=["matters", "update", "tenancy_check", "--activate"])
    assert on.exit_code == 0 and "tenancy_check\tactive" in runner.invoke(args=["matters", "list"]).output

    trail = [(a.action, a.actor_kind) for a in rows(app, AuditEvent, AuditEvent.action.startswith("wallet.matter_"))]
    assert sorted(trail) == sorted([("wallet.matter_added", "cli"), ("wallet.matter_updated", "cli"),
                                    ("wallet.matter_deactivated", "cli"), ("wallet.matter_activated", "cli")])
    [change] = audits(app, "wallet.matter_updated")
    details = json.loads(change.details)
    assert details["before"]["disclosures"]["resident_id_card"] == [["name", "full"], ["id_number", "tail4"]]
    assert details["after"]["disclosures"] == {"resident_id_card": [["name", "masked"]]}
