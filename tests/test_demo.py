"""`flask demo seed` tells the story (issue 16): the demo citizen logs in by SMS and finds three
licences (one suspended), two signing requests waiting, a case in each main status (one 补正 with a
due date, one waiting for a rating), a booked appointment, a family member as proxy and unread
notices; the counter clerk logs in; a second seed makes nothing new."""
from __future__ import annotations

from app.db import db, utcnow
from identity.devdata import DEMO_CITIZEN, DEMO_FAMILY, DEMO_STAFF
from signing.demo import DEMO_PIN
from signing.models import SigningRequest
from tests.helpers import bearer, latest_code, rows



def _counts(app) -> dict[str, int]:
    with app.app_context(), db.connection_context():
        return {t: db.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in db.get_tables()}


def _login(client, phone: str) -> dict[str, str]:
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    response = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)})
    assert response.status_code == 200, response.get_json()
    return bearer(response.get_json()["access_token"])


def test_the_demo_seed_tells_the_story_once(app, client, runner, make_worker):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    for shown in (DEMO_CITIZEN[0], DEMO_PIN, "/api/v1/dev/sms-outbox", "clerk01", "/m/", "/counter/", "/api/docs"):
        assert shown in result.output
    make_worker(clock=utcnow).drain()  # `make run` delivers the outbox in each server process (gunicorn.conf.py)

    me = _login(client, DEMO_CITIZEN[0])
    assert client.get("/api/v1/me", headers=me).get_json()["assurance_level"] in ("L2", "L3")
    licences = client.get("/api/v1/wallet/licences", headers=me).get_json()["items"]
    assert len(licences) == 3 and len({lic["type_code"] for lic in licences}) == 3
    assert sorted(lic["status"] for lic in licences) == ["01", "01", "02"]

    waiting = [r for r in rows(app, SigningRequest) if r.status == "pending"]
    assert len(waiting) == 2
    (signed,) = client.get("/api/v1/signing/signatures", headers=me).get_json()["items"]  # with its evidence (issue 18)
    assert signed["cms_b64"] and signed["timestamp"]["gen_time"] and signed["cms_attached_available"]
    assert f"export-evidence {signed['signature_id']}" in result.output
    for request in waiting:
        assert client.get(f"/api/v1/signing/requests/{request.id}", headers=me).get_json()["status"] == "pending"

    cases = client.get("/api/v1/cases", headers=me).get_json()["items"]
    assert {"submitted", "accepted", "supplement_required", "in_review", "concluded"} <= {c["status"] for c in cases}
    supplement = next(c for c in cases if c["status"] == "supplement_required")
    assert client.get(f"/api/v1/cases/{supplement['id']}", headers=me).get_json()["supplement_due"]
    assert [c["can_evaluate"] for c in cases if c["status"] == "concluded"] == [True]

    appointments = client.get("/api/v1/appointments", headers=me).get_json()["items"]
    assert [a["status"] for a in appointments] == ["booked"]
    grants = client.get("/api/v1/proxies?role=principal", headers=me).get_json()["items"]
    assert [g["status"] for g in grants] == ["active"]
    family = _login(client, DEMO_FAMILY[0])
    assert [g["status"] for g in client.get("/api/v1/proxies?role=proxy", headers=family).get_json()["items"]] == ["active"]
    assert client.get("/api/v1/notifications/unread-count", headers=me).get_json()["count"] >= 1

    username, password = DEMO_STAFF[0][:2]
    clerk = client.post("/api/v1/auth/staff-login", json={"username": username, "password": password})
    assert clerk.status_code == 200, clerk.get_json()

    before = _counts(app)
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert _counts(app) == before
