"""Proxy notices (issue 16 "Notices for everything that happens to a citizen": "proxy invited,
accepted, used (what the proxy did), revoked"), each to the right person: invited → the relative;
accepted/declined → the principal; used → the principal, in words, once per grant per day; revoked
→ both. Each is an outbox row with zh and en texts and the deep link, and reaches the three
channels: the inbox, a live event on the person's Redis channel (what the SSE stream relays) and a
push to a device."""
from __future__ import annotations

import pytest

from app.db import db
from notify.outbox import OutboxEntry
from tests import vectors
from tests.fixtures.notify import daytime_clock, only, queued, register_device, three_channels
from tests.fixtures.proxies import PROXIES
from tests.helpers import bearer
from tests.wallet.conftest import issue_body

TOKENS = {"principal": "ab" * 32, "relative": "cd" * 32}

clock = daytime_clock


@pytest.fixture
def devices(client, app, people):
    """张三 and 李四 each register a phone for pushes (the new-device notices are dropped)."""
    for who, token in TOKENS.items():
        register_device(client, app, people[who]["headers"], token=token)


def _queued(app, kind: str, user_id: str | None = None) -> list[OutboxEntry]:
    return [row for row, _ in queued(app, kind, user_id)]


def _only(app, kind: str, user_id: str, grant_id: str, link: str = "yiwang://proxies/{}") -> tuple[OutboxEntry, dict]:
    """The one outbox row of `kind` for `user_id`, checked for the English and the deep link."""
    row, data = only(app, kind, link=link.format(grant_id), user_id=user_id)
    assert (data["screen"], data["grant_id"]) == ("proxies", grant_id)
    assert data["body_en"] != row.body
    for secret in vectors.PHONES[:2] + [vectors.ZHANG_SAN[0], vectors.ZHANG_SAN[1], vectors.LI_SI[0],
                                        vectors.LI_SI[1]]:
        assert secret not in row.title + row.body + row.data, secret
    return row, data


def _channels(app, client, people, who: str, make_worker, channels, kind: str, *, also: str | None = None) -> dict:
    """Run the notify worker; the notice of `kind` must reach `who`'s (and `also`'s) inbox, live
    channel and phone. Returns the inbox item as `who` reads it in English."""
    return three_channels(app, client, make_worker, channels, kind=kind, user_id=people[who]["id"],
                          headers=people[who]["headers"], token=TOKENS[who], link_prefix="yiwang://proxies/",
                          also={people[also]["id"]: TOKENS[also]} if also else None)


def test_invited_tells_the_relative_and_the_principal(app, client, people, devices, invite, make_worker, channels):
    response = invite(scopes=["cases:follow"])
    assert response.status_code == 201, response.get_json()
    grant_id = response.get_json()["id"]
    row, data = _only(app, "proxy_invited", people["relative"]["id"], grant_id)
    assert row.title == "亲友邀请您代办" and "张*" in row.body and "查看办件进度" in row.body
    assert data["event"] == "invited"
    made, _ = _only(app, "account_security", people["principal"]["id"], grant_id)  # the security notice
    assert made.urgent and "李*" in made.body
    item = _channels(app, client, people, "relative", make_worker, channels, "proxy_invited")
    assert item["title"] == "A relative asks you to act for them" and "Zhang" not in item["body"]


def test_accepted_tells_the_principal(app, client, people, devices, grant, make_worker, channels):
    made = grant()
    with app.app_context(), db.connection_context():
        OutboxEntry.delete().where(OutboxEntry.dedupe_key == f"proxy-grant:{made['id']}:made").execute()
    row, data = _only(app, "account_security", people["principal"]["id"], made["id"])
    assert row.title == "代办授权已生效" and "李*" in row.body and data["event"] == "accepted"
    assert _queued(app, "proxy_declined") == []
    item = _channels(app, client, people, "principal", make_worker, channels, "account_security")
    assert item["title"] == "The proxy authorisation is in effect"


def test_declined_tells_the_principal(app, client, people, devices, invite, make_worker, channels):
    grant_id = invite().get_json()["id"]
    response = client.post(f"{PROXIES}/{grant_id}/decline", headers=people["relative"]["headers"])
    assert response.status_code == 200, response.get_json()
    row, data = _only(app, "proxy_declined", people["principal"]["id"], grant_id)
    assert row.title == "亲友拒绝了代办授权" and "李*" in row.body and data["event"] == "declined"
    item = _channels(app, client, people, "principal", make_worker, channels, "proxy_declined")
    assert item["title"] == "The relative declined the proxy authorisation"


def test_used_tells_the_principal_what_was_done_once_a_day(app, client, people, devices, grant, proxy_session,
                                                          machine_token, make_worker, channels):
    response = client.post("/api/v1/issuer/licences", json=issue_body(), headers=bearer(machine_token()))
    assert response.status_code == 201, response.get_json()
    made = grant(scopes=["licences:view", "cases:follow"])
    acting = proxy_session(made["id"])
    assert _queued(app, "proxy_used") == []  # switching in is not acting yet
    assert client.get("/api/v1/wallet/licences", headers=acting).status_code == 200
    row, data = _only(app, "proxy_used", people["principal"]["id"], made["id"], "yiwang://proxies/{}/activity")
    assert row.title == "亲友刚为您代办" and "李*" in row.body and "查看了您的电子证照" in row.body
    assert data["event"] == "used" and data["scope"] == "licences:view"
    assert "viewed your licences" in data["body_en"]
    # a busy proxy does not flood the principal: the rest of the day is in the record of actions
    assert client.get("/api/v1/cases", headers=acting).status_code == 200
    assert client.get("/api/v1/wallet/licences", headers=acting).status_code == 200
    assert len(_queued(app, "proxy_used")) == 1
    item = _channels(app, client, people, "principal", make_worker, channels, "proxy_used")
    assert item["title"] == "A relative just acted for you"


def test_a_refused_request_is_not_told_as_used(app, client, people, grant, proxy_session):
    made = grant(scopes=["cases:follow"])
    acting = proxy_session(made["id"])
    assert client.get("/api/v1/wallet/licences", headers=acting).status_code == 403  # outside the scopes
    assert _queued(app, "proxy_used") == []


def test_revoked_by_the_principal_tells_both(app, client, people, devices, grant, make_worker, channels):
    made = grant()
    assert client.delete(f"{PROXIES}/{made['id']}", headers=people["principal"]["headers"]).status_code == 204
    mine, data = _only(app, "proxy_revoked", people["principal"]["id"], made["id"])
    theirs, _ = _only(app, "proxy_revoked", people["relative"]["id"], made["id"])
    assert data["revoked_by"] == "principal" and "李*" in mine.body and "张*" in theirs.body
    client.delete(f"{PROXIES}/{made['id']}", headers=people["principal"]["headers"])  # again: a no-op
    assert len(_queued(app, "proxy_revoked")) == 2
    item = _channels(app, client, people, "relative", make_worker, channels, "proxy_revoked", also="principal")
    assert item["title"] == "Proxy authorisation revoked" and "revoked your proxy authorisation" in item["body"]


def test_given_up_by_the_proxy_tells_both(app, client, people, grant):
    made = grant()
    assert client.delete(f"{PROXIES}/{made['id']}", headers=people["relative"]["headers"]).status_code == 204
    mine, data = _only(app, "proxy_revoked", people["principal"]["id"], made["id"])
    theirs, _ = _only(app, "proxy_revoked", people["relative"]["id"], made["id"])
    assert data["revoked_by"] == "proxy" and "放弃" in mine.body and "放弃" in theirs.body


def test_revoked_with_a_distrusted_session_tells_both(app, client, people, grant, login_citizen):
    made = grant()
    again = bearer(login_citizen(vectors.PHONES[0])["access_token"])
    stolen = client.get("/api/v1/me/sessions", headers=again).get_json()["items"][1]
    answer = client.post(f"/api/v1/me/sessions/{stolen['id']}/revoke", json={"revoke_grants": True}, headers=again)
    assert answer.status_code == 200, answer.get_json()
    mine, data = _only(app, "proxy_revoked", people["principal"]["id"], made["id"])
    theirs, _ = _only(app, "proxy_revoked", people["relative"]["id"], made["id"])
    assert data["revoked_by"] == "session" and "退出了一个登录" in mine.body and "张*" in theirs.body
