"""Helpers shared by the test modules (fixtures live in conftest.py)."""
from __future__ import annotations

import re

from app.db import db

PROBLEM = "application/problem+json"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def latest_code(client, phone: str) -> str:
    items = client.get(f"/api/v1/dev/sms-outbox?phone={phone}").get_json()["items"]
    return items[0]["code"]


def assert_problem(response, status: int, code: str | None = None) -> dict:
    """A problem+json answer with this status (and code): Chinese detail, stable code, no HTML,
    no traceback, no tokens."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text
    body = response.get_json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert _CJK.search(body["detail"]), body["detail"]
    assert re.fullmatch(r"[a-z][a-z0-9_]*", body["code"])
    assert "access_token" not in body and "refresh_token" not in body
    if code is not None:
        assert body["code"] == code, body
    return body


def rows(app, model, *where) -> list:
    """Read rows directly (outside a request)."""
    with app.app_context(), db.connection_context():
        query = model.select()
        for cond in where:
            query = query.where(cond)
        return list(query)


def step_up_code(client, token: str, purpose: str) -> str:
    """Request a step-up SMS code (`POST /me/step-up/sms-codes`) and read it from the dev outbox."""
    response = client.post("/api/v1/me/step-up/sms-codes", json={"purpose": purpose}, headers=bearer(token))
    assert response.status_code == 202, response.get_json()
    masked = response.get_json()["phone_masked"]
    items = client.get("/api/v1/dev/sms-outbox").get_json()["items"]
    return next(i["code"] for i in items if f"{i['phone'][:3]}****{i['phone'][-4:]}" == masked)


def fresh_liveness(client, token: str, passed: bool = True) -> str:
    """Start a face-liveness session and play the provider's side (not confirmed): its id, for an
    operation that demands a fresh liveness step-up (`liveness_session_id`)."""
    session_id = client.post("/api/v1/me/liveness", headers=bearer(token)).get_json()["session_id"]
    assert client.post(f"/api/v1/dev/liveness/{session_id}/complete", json={"passed": passed}).status_code == 204
    return session_id
