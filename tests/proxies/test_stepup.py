"""A stolen access token cannot plant a lasting proxy (issue 14 item 2), and the invitation is no
registration oracle (issue 14 item 22).

A grant needs a step-up (an SMS code to the principal's bound phone), tells the principal on every
channel, is pending — unusable — until the relative accepts with their own token, and is revoked
with the session that made it when the citizen revokes that session for compromise."""
from __future__ import annotations

import json
import logging

from notify.service import OutboxEntry
from proxies.models import ProxyGrant
from tests import vectors
from tests.fixtures.proxies import PROXIES, in_days
from tests.helpers import assert_problem, bearer, latest_code, rows, step_up_code
from tests.signing.conftest import PIN, enrol

SESSIONS = "/api/v1/me/sessions"


def stolen_body(**changes) -> dict:
    """What an attacker holding only the victim's access token can send."""
    data = {"phone": vectors.PHONES[2], "name": vectors.WANG_WU[0], "scopes": ["licences:present"],
            "expires_at": in_days(364)}
    data.update(changes)
    return data


def test_a_bearer_token_alone_cannot_grant_a_proxy(app, client, people):
    """Issue 14 item 2: with only the victim's token, POST /proxies is refused — no step-up, a
    made-up code, or the code of a login SMS — and nothing is stored or usable."""
    victim = people["principal"]["headers"]
    assert_problem(client.post(PROXIES, json=stolen_body(), headers=victim), 403, "step_up_failed")
    assert_problem(client.post(PROXIES, json=stolen_body(sms_code="123456"), headers=victim), 403, "step_up_failed")
    login_code = latest_code(client, vectors.PHONES[0])  # the victim's last login code is no step-up
    assert_problem(client.post(PROXIES, json=stolen_body(sms_code=login_code), headers=victim), 403,
                   "step_up_failed")
    assert rows(app, ProxyGrant) == []
    assert client.get(f"{PROXIES}?role=proxy", headers=people["other"]["headers"]).get_json()["items"] == []


def test_a_step_up_code_serves_once(client, people, invite):
    """Issue 14 item 2: the step-up code is consumed by the grant it authorised."""
    first = invite()
    assert first.status_code == 201, first.get_json()
    again = client.post(PROXIES, json=stolen_body(sms_code="000000"), headers=people["principal"]["headers"])
    assert_problem(again, 403, "step_up_failed")


def test_the_signing_pin_serves_as_the_step_up_and_wrong_tries_count(app, client, people, invite):
    """Issue 14 item 2: instead of an SMS code the principal may give her signing PIN; a wrong PIN
    is refused, counts toward the signing lockout, and stores nothing."""
    headers = people["principal"]["headers"]
    assert_problem(invite(sms_code=None, pin=PIN), 404, "signing_not_enrolled")
    enrol(client, headers)
    wrong = assert_problem(invite(sms_code=None, pin="135790"), 400, "pin_invalid")
    assert rows(app, ProxyGrant) == []
    again = assert_problem(invite(sms_code=None, pin="135790"), 400, "pin_invalid")
    assert again["tries_left"] == wrong["tries_left"] - 1  # the same counter signing uses
    made = invite(sms_code=None, pin=PIN)
    assert made.status_code == 201 and made.get_json()["status"] == "pending"


def test_a_new_grant_is_pending_and_unusable_until_the_relative_accepts(app, client, people, grant):
    """Issue 14 item 2: the grant takes effect only when the relative accepts with their own token."""
    made = grant(scopes=["licences:present"], accept=False)
    assert made["status"] == "pending"
    session = f"{PROXIES}/{made['id']}/session"
    assert_problem(client.post(session, headers=people["relative"]["headers"]), 409, "proxy_grant_pending")
    # Only the invited relative answers: the principal (or a thief with her token) and anyone else get 404.
    for who in ("principal", "other"):
        assert_problem(client.post(f"{PROXIES}/{made['id']}/accept", headers=people[who]["headers"]), 404,
                       "proxy_grant_not_found")
    accepted = client.post(f"{PROXIES}/{made['id']}/accept", headers=people["relative"]["headers"])
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "active" and accepted.get_json()["accepted_at"]
    assert client.post(session, headers=people["relative"]["headers"]).status_code == 201
    assert_problem(client.post(f"{PROXIES}/{made['id']}/accept", headers=people["relative"]["headers"]), 409,
                   "proxy_grant_not_pending")
    [listed] = client.get(PROXIES, headers=people["principal"]["headers"]).get_json()["items"]
    assert listed["status"] == "active"


def test_a_declined_grant_never_works_and_frees_the_pair(client, people, grant):
    made = grant(accept=False)
    declined = client.post(f"{PROXIES}/{made['id']}/decline", headers=people["relative"]["headers"])
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    assert_problem(client.post(f"{PROXIES}/{made['id']}/session", headers=people["relative"]["headers"]), 410,
                   "proxy_grant_declined")
    assert_problem(client.post(f"{PROXIES}/{made['id']}/accept", headers=people["relative"]["headers"]), 409,
                   "proxy_grant_not_pending")
    assert grant()["status"] == "active"  # the principal may ask again


def test_the_principal_is_told_on_every_channel_and_the_relative_invited(app, client, people, grant):
    """Issue 14 item 2: "a proxy was created from your account" reaches the principal at once
    (urgent: every channel, quiet hours ignored); the relative is asked to accept."""
    made = grant(scopes=["licences:present"], accept=False)
    [told] = rows(app, OutboxEntry, OutboxEntry.user_id == people["principal"]["id"])
    assert told.urgent and json.loads(told.data)["grant_id"] == made["id"]
    sessions = client.get("/api/v1/me/sessions", headers=people["principal"]["headers"]).get_json()["items"]
    assert json.loads(told.data)["session_id"] == sessions[0]["id"]  # the app can offer to revoke it
    assert "代办" in told.title and "李*" in told.body and "撤销" in told.body
    [invited] = rows(app, OutboxEntry, OutboxEntry.user_id == people["relative"]["id"])
    assert not invited.urgent and "张*" in invited.body and "接受" in invited.body
    for entry in (told, invited):
        for secret in vectors.PHONES[:2] + [vectors.ZHANG_SAN[1], vectors.LI_SI[1], vectors.LI_SI[0]]:
            assert secret not in entry.body + entry.title + entry.data
    client.post(f"{PROXIES}/{made['id']}/accept", headers=people["relative"]["headers"])
    notices = rows(app, OutboxEntry, OutboxEntry.user_id == people["principal"]["id"])
    assert len(notices) == 2 and any("生效" in n.title for n in notices)


def test_revoking_the_session_revokes_the_grants_made_in_it(app, client, people, grant, login_citizen):
    """Issue 14 item 2: the victim, signed in again elsewhere, sees the session the grant was made
    in, revokes it for compromise with `revoke_grants`, and the grant and its proxy tokens stop."""
    made = grant(scopes=["licences:view"])
    proxy_token = bearer(client.post(f"{PROXIES}/{made['id']}/session",
                                     headers=people["relative"]["headers"]).get_json()["access_token"])
    assert client.get("/api/v1/wallet/licences", headers=proxy_token).status_code == 200
    again = bearer(login_citizen(vectors.PHONES[0])["access_token"])

    listed = client.get(SESSIONS, headers=again).get_json()["items"]
    assert [s["current"] for s in listed] == [True, False]
    stolen = listed[1]
    assert [g["id"] for g in stolen["proxy_grants"]] == [made["id"]] and listed[0]["proxy_grants"] == []

    answer = client.post(f"{SESSIONS}/{stolen['id']}/revoke", json={"revoke_grants": True}, headers=again)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["grants_revoked"] is True and body["revoked_at"]
    assert [(g["id"], g["status"], g["revoked_by"]) for g in body["proxy_grants"]] == [(made["id"], "revoked",
                                                                                           "session")]
    assert_problem(client.get("/api/v1/wallet/licences", headers=proxy_token), 401)
    assert_problem(client.get("/api/v1/me", headers=people["principal"]["headers"]), 401)  # the stolen token
    [stored] = rows(app, ProxyGrant)
    assert (stored.status, stored.revoked_by) == ("revoked", "session")
    assert client.get("/api/v1/me", headers=again).status_code == 200
    assert [s["id"] for s in client.get(SESSIONS, headers=again).get_json()["items"]] == [listed[0]["id"]]


def test_revoking_a_session_without_revoke_grants_names_them_and_keeps_them(app, client, people, grant,
                                                                           login_citizen):
    made = grant()
    again = bearer(login_citizen(vectors.PHONES[0])["access_token"])
    stolen = client.get(SESSIONS, headers=again).get_json()["items"][1]
    answer = client.post(f"{SESSIONS}/{stolen['id']}/revoke", json={}, headers=again).get_json()
    assert answer["grants_revoked"] is False
    assert [(g["id"], g["status"]) for g in answer["proxy_grants"]] == [(made["id"], "active")]
    # An ended session may be named again, to revoke what it made after all.
    later = client.post(f"{SESSIONS}/{stolen['id']}/revoke", json={"revoke_grants": True}, headers=again)
    assert [g["status"] for g in later.get_json()["proxy_grants"]] == ["revoked"]


def test_another_citizens_session_cannot_be_revoked(app, client, people, grant):
    grant()
    theirs = client.get(SESSIONS, headers=people["principal"]["headers"]).get_json()["items"][0]["id"]
    assert_problem(client.post(f"{SESSIONS}/{theirs}/revoke", json={"revoke_grants": True},
                               headers=people["other"]["headers"]), 404, "session_not_found")
    assert client.get("/api/v1/me", headers=people["principal"]["headers"]).status_code == 200
    assert [g.status for g in rows(app, ProxyGrant)] == ["active"]


def test_unknown_and_unverified_relatives_get_one_answer(client, people, invite, login_citizen):
    """Issue 14 item 22: inviting a phone nobody holds and a registered but unverified person give
    the same status, code and text (Chinese and English): the form tells no one who is registered."""
    login_citizen(vectors.PHONES[3])  # registered by SMS, never real-name verified (L1)
    for language in ("zh-CN", "en"):
        headers = {**people["principal"]["headers"], "Accept-Language": language}
        answers = [invite(phone=phone, name=vectors.OUYANG[0], headers=headers)
                   for phone in (vectors.PHONES[3], vectors.PHONES[4])]  # PHONES[4]: nobody's
        if language == "zh-CN":
            for response in answers:
                assert_problem(response, 422, "proxy_relative_not_found")
        # Everything but the per-request ids is the same, byte for byte.
        unknown, unverified = ({key: value for key, value in response.get_json().items()
                                if key not in ("instance", "request_id")} for response in answers)
        assert unknown == unverified and unknown["code"] == "proxy_relative_not_found" and unknown["status"] == 422
        assert [r.status_code for r in answers] == [422, 422]


def test_unknown_and_unverified_relatives_take_the_same_steps(client, people, login_citizen, caplog):
    """Issue 14 item 22, timing: both refusals run the same database statements in the same order
    (the principal's own verified identity is read when nobody holds the phone)."""
    login_citizen(vectors.PHONES[3])
    statements = []
    for phone in (vectors.PHONES[3], vectors.PHONES[4]):
        body = stolen_body(phone=phone, name=vectors.OUYANG[0],
                           sms_code=step_up_code(client, people["principal"]["token"], "proxy_grant"))
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            caplog.clear()
            assert_problem(client.post(PROXIES, json=body, headers=people["principal"]["headers"]), 422,
                           "proxy_relative_not_found")
            # each record is "(sql, params)": the statements, without the values
            statements.append([record.getMessage().split("', [")[0] for record in caplog.records
                               if record.name == "peewee"])
    assert statements[0] and statements[0] == statements[1]


def test_openapi_documents_the_step_up_acceptance_and_sessions(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    create = spec["paths"]["/api/v1/proxies"]["post"]
    fields = spec["components"]["schemas"][create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                                           .rsplit("/", 1)[1]]["properties"]
    assert fields["sms_code"]["pattern"] == r"^\d{6}$" and fields["pin"]["pattern"] == r"^\d{6}$"
    assert "step_up_failed" in create["responses"]["403"]["description"]
    assert "proxy_relative_not_verified" not in json.dumps(create)
    for action in ("accept", "decline"):
        assert "post" in spec["paths"][f"/api/v1/proxies/{{grant_id}}/{action}"]
    assert "get" in spec["paths"]["/api/v1/me/sessions"]
    revoke = spec["paths"]["/api/v1/me/sessions/{session_id}/revoke"]["post"]
    assert "session_not_found" in revoke["responses"]["404"]["description"]
