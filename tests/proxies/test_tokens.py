"""Acting as a proxy (代办): the delegated token, scopes, no signing, revocation and expiry with
immediate effect, and the record of every action with both identities."""
from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest

from app.audit import AuditEvent
from proxies import service as proxies
from proxies.models import ProxyAction
from signing.enrolment import CITIZEN_REVOCATION_REASONS
from tests.fixtures.proxies import ALL_SCOPES, PROXIES
from tests.helpers import assert_problem, bearer, rows
from tests.wallet.conftest import issue_body

WALLET = "/api/v1/wallet/licences"


@pytest.fixture
def licence(client, people, machine_token):
    """A driving licence issued to 张三 (the principal)."""
    response = client.post("/api/v1/issuer/licences", json=issue_body(), headers=bearer(machine_token()))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_session_token_names_principal_proxy_grant_and_scopes(app, client, people, grant):
    made = grant(scopes=["cases:follow"])
    response = client.post(f"{PROXIES}/{made['id']}/session", headers=people["relative"]["headers"])
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["token_type"] == "Bearer" and 0 < answer["expires_in"] <= 900
    assert answer["principal"] == {"id": people["principal"]["id"], "name_masked": "张*"}
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert claims["sub"] == people["principal"]["id"]
    assert claims["act"] == {"sub": people["relative"]["id"]}
    assert claims["grant"] == made["id"] and claims["scope"] == "cases:follow"
    [event] = rows(app, AuditEvent, AuditEvent.action == "proxy.session")
    assert (event.actor_id, event.target) == (people["relative"]["id"], made["id"])
    assert json.loads(event.details)["principal_id"] == people["principal"]["id"]


def test_only_the_proxy_may_switch(client, people, grant):
    made = grant()
    assert_problem(client.post(f"{PROXIES}/{made['id']}/session", headers=people["principal"]["headers"]), 404)


def test_token_never_outlives_the_grant(client, people, grant):
    made = grant(days=5 / (24 * 60))  # five minutes
    answer = client.post(f"{PROXIES}/{made['id']}/session", headers=people["relative"]["headers"]).get_json()
    assert answer["expires_in"] <= 300


def test_view_proxy_lists_the_principals_licences_but_cannot_present(client, people, grant, proxy_session, licence):
    token = proxy_session(grant(scopes=["licences:view"])["id"])
    listed = client.get(WALLET, headers=token)
    assert listed.status_code == 200, listed.get_json()
    assert [item["id"] for item in listed.get_json()["items"]] == [licence["id"]]
    assert client.get(f"{WALLET}/{licence['id']}", headers=token).status_code == 200
    assert client.get("/api/v1/wallet/usage", headers=token).status_code == 200
    assert_problem(client.post(f"{WALLET}/{licence['id']}/presentations", json={}, headers=token), 403,
                   "proxy_not_allowed")
    assert_problem(client.get("/api/v1/appointments", headers=token), 403, "proxy_not_allowed")


def test_present_proxy_can_present(client, people, grant, proxy_session, licence):
    token = proxy_session(grant(scopes=["licences:present"])["id"])
    response = client.post(f"{WALLET}/{licence['id']}/presentations", json={}, headers=token)
    assert response.status_code == 201, response.get_json()
    shown = response.get_json()
    png = client.get(f"/api/v1/wallet/presentations/{shown['id']}/qr.png", headers=token)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert client.delete(f"/api/v1/wallet/presentations/{shown['id']}", headers=token).status_code == 204


def test_actions_are_audited_with_both_identities(app, client, people, grant, proxy_session, licence):
    made = grant(scopes=["licences:present"])
    token = proxy_session(made["id"])
    assert client.post(f"{WALLET}/{licence['id']}/presentations", json={}, headers=token).status_code == 201
    [event] = rows(app, AuditEvent, AuditEvent.action == "wallet.presentation_created")
    assert event.actor_id == people["principal"]["id"]
    assert json.loads(event.details)["proxy"] == {"actor_id": people["relative"]["id"], "grant_id": made["id"]}


SIGNING_CALLS = [
    ("post", "/api/v1/signing/enrol", {"pin": "802417"}),
    ("get", "/api/v1/signing/certificate", None),
    ("post", "/api/v1/signing/certificate/revoke", {"reason": "keyCompromise"}),
    ("post", "/api/v1/signing/requests", {"title": "合同", "e_hex": "ab" * 32}),
    ("get", "/api/v1/signing/requests/sr_x", None),
    ("post", "/api/v1/signing/requests/sr_x/authorize", {"pin": "802417"}),
    ("post", "/api/v1/signing/requests/sr_x/sms-code", None),
    ("post", "/api/v1/signing/batches", {"items": [{"title": "合同", "e_hex": "ab" * 32}]}),
    ("post", "/api/v1/signing/batches/sb_x/authorize", {"pin": "802417"}),
    ("post", "/api/v1/signing/batches/sb_x/sms-code", None),
    ("get", "/api/v1/signing/signatures", None),
]
OWN_ONLY_CALLS = [
    ("get", "/api/v1/me", None),
    ("post", "/api/v1/me/real-name", {"name": "张三", "id_number": "340102199003071232"}),
    ("post", "/api/v1/auth/logout", None),
    ("post", PROXIES, {"phone": "13700137000", "name": "王五", "scopes": ["licences:view"],
                       "expires_at": "2030-01-01T00:00:00+08:00"}),
    ("get", PROXIES, None),
]


@pytest.mark.parametrize("method, path, body", SIGNING_CALLS + OWN_ONLY_CALLS)
def test_nobody_signs_or_manages_the_account_as_a_proxy(client, people, grant, proxy_session, method, path, body):
    token = proxy_session(grant(scopes=ALL_SCOPES)["id"])
    kwargs = {"headers": token} if body is None else {"headers": token, "json": body}
    if path == "/api/v1/signing/certificate/revoke":
        kwargs["json"] = {"reason": sorted(CITIZEN_REVOCATION_REASONS)[0]}
    assert_problem(getattr(client, method)(path, **kwargs), 403, "proxy_not_allowed")


def test_grant_routes_refuse_proxy_tokens(client, people, grant, proxy_session):
    made = grant(scopes=ALL_SCOPES)
    token = proxy_session(made["id"])
    for call in (client.delete(f"{PROXIES}/{made['id']}", headers=token),
                 client.post(f"{PROXIES}/{made['id']}/session", headers=token),
                 client.get(f"{PROXIES}/{made['id']}/activity", headers=token)):
        assert_problem(call, 403, "proxy_not_allowed")


DELEGABLE = {
    ("GET", "/api/v1/wallet/licences"): "licences:view",
    ("GET", "/api/v1/wallet/licences/<licence_id>"): "licences:view",
    ("GET", "/api/v1/wallet/usage"): "licences:view",
    ("POST", "/api/v1/wallet/licences/<licence_id>/presentations"): "licences:present",
    ("GET", "/api/v1/wallet/presentations/<presentation_id>/qr.png"): "licences:present",
    ("GET", "/api/v1/wallet/presentations/<presentation_id>/qr.svg"): "licences:present",
    ("DELETE", "/api/v1/wallet/presentations/<presentation_id>"): "licences:present",
    # issue 17: an offline QR is showing a licence too (same scope), for a matter the proxy picks from its list
    ("POST", "/api/v1/wallet/licences/<licence_id>/offline-presentations"): "licences:present",
    ("GET", "/api/v1/wallet/licences/<licence_id>/matters"): "licences:present",
    ("POST", "/api/v1/appointments"): "appointments:book",
    ("GET", "/api/v1/appointments"): "appointments:book",
    ("GET", "/api/v1/appointments/<appointment_id>"): "appointments:book",
    ("DELETE", "/api/v1/appointments/<appointment_id>"): "appointments:book",
    ("GET", "/api/v1/appointments/<appointment_id>/qr.png"): "appointments:book",
    ("GET", "/api/v1/cases"): "cases:follow",
    ("GET", "/api/v1/cases/<case_id>"): "cases:follow",
}
MAY_BECOME_DELEGABLE: dict = {}
# Delegable for an enterprise's agents only (issue 19): a relative's proxy token is refused there.
ENTERPRISE_ONLY = {
    ("GET", "/api/v1/notifications"): "cases:follow",
    ("GET", "/api/v1/notifications/unread-count"): "cases:follow",
    ("POST", "/api/v1/notifications/<entry_id>/read"): "cases:follow",
    ("POST", "/api/v1/notifications/read-all"): "cases:follow",
    ("POST", "/api/v1/signing/requests"): "signing:sign",
    ("GET", "/api/v1/signing/requests"): "signing:sign",
    ("GET", "/api/v1/signing/requests/<request_id>"): "signing:sign",
    ("POST", "/api/v1/signing/requests/<request_id>/authorize"): "signing:sign",
    ("POST", "/api/v1/signing/requests/<request_id>/refuse"): "signing:sign",
    ("POST", "/api/v1/signing/requests/<request_id>/sms-code"): "signing:sign",
}


def test_exactly_the_listed_routes_are_delegable(app):
    """Fail closed: a route accepts proxy tokens only when it says so, and only these say so."""
    found, enterprise_only = {}, {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        scope = getattr(view, "_delegable", None)
        if scope is not None:
            kinds = getattr(view, "_delegable_kinds", None)
            into = found if kinds is None or "citizen" in kinds else enterprise_only
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                into[(method, rule.rule)] = scope
    assert enterprise_only == ENTERPRISE_ONLY
    extra = {k: v for k, v in found.items() if k not in DELEGABLE}
    assert {k: v for k, v in found.items() if k in DELEGABLE} == DELEGABLE
    assert extra.items() <= MAY_BECOME_DELEGABLE.items(), extra
    assert not any(path.startswith(("/api/v1/signing", "/api/v1/me", "/api/v1/proxies")) for _, path in found)
    assert set(found.values()) <= set(proxies.SCOPES)


def test_revocation_stops_an_issued_token_at_once(app, client, people, grant, proxy_session, licence):
    made = grant(scopes=["licences:view"])
    token = proxy_session(made["id"])
    assert client.get(WALLET, headers=token).status_code == 200  # verified and cached
    assert client.delete(f"{PROXIES}/{made['id']}", headers=people["principal"]["headers"]).status_code == 204
    assert_problem(client.get(WALLET, headers=token), 401, "proxy_grant_inactive")
    assert_problem(client.post(f"{PROXIES}/{made['id']}/session", headers=people["relative"]["headers"]), 410,
                   "proxy_grant_revoked")
    # both people's own tokens are unaffected
    assert client.get(WALLET, headers=people["principal"]["headers"]).status_code == 200
    assert client.get("/api/v1/me", headers=people["relative"]["headers"]).status_code == 200


def test_expiry_stops_an_issued_token(monkeypatch, client, people, grant, invite, proxy_session):
    made = grant(scopes=["licences:view"], days=1)
    token = proxy_session(made["id"])
    assert client.get(WALLET, headers=token).status_code == 200
    later = proxies.clock() + timedelta(days=1, seconds=1)
    monkeypatch.setattr(proxies, "clock", lambda: later)
    assert_problem(client.get(WALLET, headers=token), 401, "proxy_grant_inactive")
    assert_problem(client.post(f"{PROXIES}/{made['id']}/session", headers=people["relative"]["headers"]), 410,
                   "proxy_grant_expired")
    [listed] = client.get(PROXIES, headers=people["principal"]["headers"]).get_json()["items"]
    assert listed["status"] == "expired"
    assert client.get(WALLET, headers=people["principal"]["headers"]).status_code == 200
    # the expired grant no longer blocks a new one for the same relative
    fresh = invite(expires_at=(later + timedelta(days=3)).isoformat())
    assert fresh.status_code == 201, fresh.get_json()


def test_proxy_logout_ends_its_proxy_tokens(client, people, grant, proxy_session):
    token = proxy_session(grant(scopes=["licences:view"])["id"])
    assert client.post("/api/v1/auth/logout", headers=people["relative"]["headers"]).status_code in (200, 204)
    assert_problem(client.get(WALLET, headers=token), 401, "token_invalid")


def test_no_grant_check_registered_means_refused(app, client, people, grant, proxy_session):
    token = proxy_session(grant(scopes=["licences:view"])["id"])
    app.extensions["delegation_checks"].pop("citizen")
    assert_problem(client.get(WALLET, headers=token), 401, "proxy_grant_inactive")


def test_activity_shows_every_request_with_both_identities(app, client, people, grant, proxy_session, licence):
    made = grant(scopes=["licences:view"])
    token = proxy_session(made["id"])
    client.get(WALLET, headers={**token, "X-Request-ID": "req-proxy-1"})
    client.post(f"{WALLET}/{licence['id']}/presentations", json={}, headers=token)  # refused: 403
    client.delete(f"{PROXIES}/{made['id']}", headers=people["principal"]["headers"])
    client.get(WALLET, headers=token)  # after revocation: 401
    page = client.get(f"{PROXIES}/{made['id']}/activity", headers=people["principal"]["headers"]).get_json()
    assert [(a["method"], a["route"], a["status"]) for a in reversed(page["items"])] == [
        ("GET", "/api/v1/wallet/licences", 200),
        ("POST", "/api/v1/wallet/licences/<licence_id>/presentations", 403),
        ("GET", "/api/v1/wallet/licences", 401),
    ]
    first = page["items"][-1]
    assert first["request_id"] == "req-proxy-1" and first["scope"] == "licences:view"
    assert first["principal"] == {"id": people["principal"]["id"], "name_masked": "张*"}
    assert first["proxy"] == {"id": people["relative"]["id"], "name_masked": "李*"}
    stored = rows(app, ProxyAction)
    assert {(a.principal_id, a.proxy_id, a.grant_id) for a in stored} == {
        (people["principal"]["id"], people["relative"]["id"], made["id"])}
    # the proxy sees the same record; a stranger does not; pages follow the cursor
    assert client.get(f"{PROXIES}/{made['id']}/activity", headers=people["relative"]["headers"]).status_code == 200
    assert_problem(client.get(f"{PROXIES}/{made['id']}/activity", headers=people["other"]["headers"]), 404)
    one = client.get(f"{PROXIES}/{made['id']}/activity?limit=2", headers=people["principal"]["headers"]).get_json()
    rest = client.get(f"{PROXIES}/{made['id']}/activity?limit=2&cursor={one['next_cursor']}",
                      headers=people["principal"]["headers"]).get_json()
    assert [a["id"] for a in one["items"] + rest["items"]] == [a["id"] for a in page["items"]]
    assert rest["next_cursor"] is None


def test_a_cases_proxy_follows_the_principals_cases_but_cannot_rate_them(client, people, grant, proxy_session):
    token = proxy_session(grant(scopes=["cases:follow"])["id"])
    listed = client.get("/api/v1/cases", headers=token)
    assert listed.status_code == 200, listed.get_json()
    assert_problem(client.get("/api/v1/cases/case_x", headers=token), 404, "case_not_found")  # as the principal
    assert_problem(client.post("/api/v1/cases/case_x/evaluation", json={"rating": 5}, headers=token), 403,
                   "proxy_not_allowed")
