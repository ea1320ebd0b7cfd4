"""Helpers shared by the test modules (fixtures live in conftest.py)."""
from __future__ import annotations

import re

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
    from app.db import db

    with app.app_context(), db.connection_context():
        query = model.select()
        for cond in where:
            query = query.where(cond)
        return list(query)
