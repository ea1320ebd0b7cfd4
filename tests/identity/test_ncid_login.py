"""网号 login, linking, unlinking and step-up (issue 19, WP4): zero-plaintext accounts."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine

from app import ratelimit
from app.audit import AuditEvent
from app.db import utcnow
from identity import ncid, service
from identity.models import AssuranceEvent, NcidLink, User
from tests import vectors
from tests.helpers import assert_problem, bearer, rows

PERSON = "NcidPersonA0123456789"  # 网络身份应用标识 as the development platform gives it
OTHER = "NcidPersonB9876543210"
LOGIN = "/api/v1/auth/ncid/login"
ME_NCID = "/api/v1/me/ncid"


def ncid_proof(client, person: str = PERSON, *, mode: str = "R02", token: str | None = None, purpose: str = "login",
               name: str | None = None, id_number: str | None = None) -> dict:
    """A fresh session (public for login, the account's own otherwise) and the national app's answer."""
    if token is None:
        response = client.post("/api/v1/auth/ncid/sessions", json={"purpose": "login"})
    else:
        response = client.post("/api/v1/me/ncid/sessions", json={"purpose": purpose}, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    session = response.get_json()
    assert session["expires_in"] == 300 and set(session) == {"biz_seq", "org_id", "business_id", "type", "expires_in"}
    with client.application.app_context():
        data = ncid.dev_auth_data(person, mode=mode, name=name, id_number=id_number)
    return {"biz_seq": session["biz_seq"], "id_card_auth_data": data, "auth_mode": mode}


def ncid_login(client, person: str = PERSON, mode: str = "R02", status: int = 200) -> dict:
    response = client.post(LOGIN, json=ncid_proof(client, person, mode=mode))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _blind(app, kind: str, value: str) -> str:
    with app.app_context():
        return app.extensions["pii"].blind_index(kind, value)


def test_first_login_creates_an_account_without_phone_name_or_id_number(app, client):
    answer = ncid_login(client)
    assert answer["account_created"] is True
    user = answer["user"]
    assert user["ncid_linked"] is True and user["real_name_source"] == "ncid" and user["assurance_level"] == "L3"
    assert user["phone_masked"] is None and user["name_masked"] is None and user["id_number_masked"] is None
    assert client.get("/api/v1/me", headers=bearer(answer["access_token"])).get_json()["id"] == user["id"]

    [row] = rows(app, User)
    assert row.id == user["id"]
    assert (row.phone_enc, row.phone_bidx, row.name_enc, row.id_number_enc, row.id_number_bidx) == (None,) * 5
    assert row.real_name_source == "ncid" and row.assurance_level == 3
    [link] = rows(app, NcidLink)
    assert link.user_id == row.id and link.mode == "R02"
    assert link.app_user_id_bidx == _blind(app, "ncid", PERSON)
    assert PERSON.encode() not in bytes(link.app_user_id_enc)  # encrypted at rest
    [event] = rows(app, AssuranceEvent, AssuranceEvent.user_id == row.id)
    assert (event.method, event.level) == ("ncid:R02", 3)
    [audited] = rows(app, AuditEvent, AuditEvent.action == "auth.ncid.login")
    assert audited.actor_id == row.id and PERSON not in (audited.details or "")
    assert json.loads(audited.details)["account_created"] is True


def test_the_second_login_with_the_same_ncid_opens_the_same_account(app, client):
    first = ncid_login(client)
    second = ncid_login(client)
    assert second["user"]["id"] == first["user"]["id"] and second["account_created"] is False
    assert second["access_token"] != first["access_token"]
    other = ncid_login(client, OTHER)
    assert other["account_created"] is True and other["user"]["id"] != first["user"]["id"]
    assert len(rows(app, User)) == 2 and len(rows(app, NcidLink)) == 2


@pytest.mark.parametrize(("mode", "level"), [("R01", 2), ("R02", 3)])
def test_the_verified_level_is_the_mapped_level(app, client, mode, level):
    answer = ncid_login(client, mode=mode)
    assert answer["user"]["assurance_level"] == f"L{level}"
    with app.app_context():
        assert service.verified_level(answer["user"]["id"]) == level


def test_a_replayed_login_body_is_refused(app, client):
    body = ncid_proof(client)
    assert client.post(LOGIN, json=body).status_code == 200
    assert_problem(client.post(LOGIN, json=body), 400, "ncid_session_invalid")
    assert len(rows(app, User)) == 1
    assert [e.outcome for e in rows(app, AuditEvent, AuditEvent.action == "auth.ncid.login")] == ["success"]


def test_a_body_made_for_linking_does_not_log_in(client, login_citizen):
    token = login_citizen()["access_token"]
    body = ncid_proof(client, token=token, purpose="link")
    assert_problem(client.post(LOGIN, json=body), 400, "ncid_session_invalid")


def test_a_forged_auth_data_is_refused(client):
    body = ncid_proof(client)
    body["id_card_auth_data"] = body["id_card_auth_data"][:-2] + ("00" if body["id_card_auth_data"][-2:] != "00" else "11")
    assert_problem(client.post(LOGIN, json=body), 403, "ncid_auth_failed")


def test_an_sms_account_links_ncid_then_logs_in_either_way(app, client, login_citizen):
    sms = login_citizen()
    token, user_id = sms["access_token"], sms["user"]["id"]
    assert sms["user"]["ncid_linked"] is False
    linked = client.post(ME_NCID, json=ncid_proof(client, token=token, purpose="link"), headers=bearer(token))
    assert linked.status_code == 200, linked.get_json()
    assert linked.get_json()["ncid_linked"] is True and linked.get_json()["real_name_source"] == "ncid"

    by_ncid = ncid_login(client)
    assert by_ncid["user"]["id"] == user_id and by_ncid["account_created"] is False
    with app.app_context():  # the SMS resend cooldown: a second code for the same phone at once
        ratelimit.reset(f"sms:{{{service.phone_index(vectors.PHONES[0])}}}:cooldown")
    assert login_citizen()["user"]["id"] == user_id
    assert len(rows(app, User)) == 1
    assert [e.outcome for e in rows(app, AuditEvent, AuditEvent.action == "identity.ncid.link")] == ["success"]


def test_a_ncid_linked_to_another_account_is_not_linked_again(app, client, login_citizen):
    owner = ncid_login(client)["user"]["id"]
    token = login_citizen()["access_token"]
    response = client.post(ME_NCID, json=ncid_proof(client, token=token, purpose="link"), headers=bearer(token))
    assert_problem(response, 409, "ncid_linked_elsewhere")
    assert [link.user_id for link in rows(app, NcidLink)] == [owner]
    refused = rows(app, AuditEvent, AuditEvent.action == "identity.ncid.link")
    assert [(e.outcome, json.loads(e.details)["reason"]) for e in refused] == [("refused", "linked_elsewhere")]


def test_unlinking_the_only_login_method_is_refused(app, client):
    answer = ncid_login(client)  # R02 just now: L3, fresh
    response = client.delete(ME_NCID, headers=bearer(answer["access_token"]))
    assert_problem(response, 409, "ncid_last_login_method")
    assert len(rows(app, NcidLink)) == 1


def test_unlinking_needs_a_fresh_level_2_then_the_ncid_logs_into_a_new_account(app, client, login_citizen):
    sms = login_citizen()
    token, user_id = sms["access_token"], sms["user"]["id"]
    assert client.post(ME_NCID, json=ncid_proof(client, token=token, purpose="link", mode="R01"),
                       headers=bearer(token)).status_code == 200
    with time_machine.travel(utcnow() + timedelta(seconds=301)):
        stale = assert_problem(client.delete(ME_NCID, headers=bearer(token)), 403, "step_up_required")
        assert stale["required_level"] == "L2" and stale["max_age"] == 300
        stepped = client.post(f"{ME_NCID}/step-up", json=ncid_proof(client, token=token, purpose="step_up", mode="R01"),
                              headers=bearer(token))
        assert stepped.status_code == 200, stepped.get_json()
        assert stepped.get_json()["level"] == "L2" and stepped.get_json()["method"] == "ncid:R01"
        unlinked = client.delete(ME_NCID, headers=bearer(token))
        assert unlinked.status_code == 200, unlinked.get_json()
        assert unlinked.get_json()["ncid_linked"] is False
        assert rows(app, NcidLink) == []
        again = ncid_login(client)
    assert again["account_created"] is True and again["user"]["id"] != user_id
    assert [e.outcome for e in rows(app, AuditEvent, AuditEvent.action == "identity.ncid.unlink")] == ["success"]


def test_a_step_up_with_someone_elses_ncid_is_refused(app, client):
    token = ncid_login(client)["access_token"]
    response = client.post(f"{ME_NCID}/step-up", json=ncid_proof(client, OTHER, token=token, purpose="step_up"),
                           headers=bearer(token))
    assert_problem(response, 403, "ncid_account_mismatch")
    assert len(rows(app, AssuranceEvent)) == 1  # the login's only


def test_the_routes_need_a_citizen_and_check_their_input(client):
    assert client.post("/api/v1/me/ncid/sessions", json={"purpose": "link"}).status_code == 401
    assert client.delete(ME_NCID).status_code == 401
    assert_problem(client.post("/api/v1/auth/ncid/sessions", json={"purpose": "link"}), 422)
    assert_problem(client.post(LOGIN, json={"biz_seq": "x", "id_card_auth_data": "y", "auth_mode": "R09"}), 422)


def test_a_registry_verified_account_reports_its_source(client, verified_citizen):
    token = verified_citizen(vectors.ZHANG_SAN)["access_token"]
    me = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert me["real_name_source"] == "registry" and me["ncid_linked"] is False
