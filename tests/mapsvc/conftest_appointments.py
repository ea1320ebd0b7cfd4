"""Fixtures for the appointment tests (imported by the test modules; part A's conftest is theirs).

The clock is fixed at Tuesday 2026-09-29 10:00 Beijing time unless a test moves it: the booking
window is then 09-30 … 10-12 (国庆节 10-01…07 is a holiday, Saturday 10-10 a make-up working day).
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime

import pytest

from app.db import db
from mapsvc import calendar, slots
from mapsvc.calendar import CHINA
from mapsvc.models import Hall, HallItem
from tests.helpers import bearer

SLOTS = "/api/v1/map/halls/{}/slots"
APPOINTMENTS = "/api/v1/appointments"
CHECK_INS = "/api/v1/counter/check-ins"
CLERK_PASSWORD = "Counter-Pass-2026!"
WEEKDAYS = {"mon-fri": ["09:00-12:00", "13:30-17:00"]}
START = "2026-09-29T10:00"


def beijing(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


@pytest.fixture
def clock(monkeypatch):
    """Set the appointment clock: `clock("2026-10-08T08:00")` (Beijing time); starts at START."""
    def set_to(text: str) -> datetime:
        at = beijing(text)
        monkeypatch.setattr(slots, "now", lambda: at)
        return at

    set_to(START)
    calendar.forget()
    yield set_to
    calendar.forget()


@pytest.fixture
def make_hall(app, clock):
    """Factory: a hall with items (until part A's import lands, straight into the tables)."""
    def make(hall_id: str = "hall_a", code: str = "H1", *, hours=None, holiday_rule: str = "closed",
             closures=(), slot_minutes: int = 60, capacity: int = 10, items=("ITEM-1", "ITEM-2"),
             active: bool = True) -> str:
        with app.app_context(), db.connection_context():
            Hall.create(id=hall_id, code=code, name=f"测试政务服务中心{code}", type="gov_center", region_code="340103",
                        address="安徽省合肥市庐阳区测试路1号", lat=31.86, lng=117.28,
                        hours=json.dumps(hours or WEEKDAYS), holiday_rule=holiday_rule,
                        closures=json.dumps(list(closures)), slot_minutes=slot_minutes, slot_capacity=capacity,
                        active=active)
            for item in items:
                HallItem.create(hall=hall_id, item_code=item, item_name=f"事项{item}")
        return hall_id

    return make


def make_citizens(app, n: int, *, level: int = 1) -> list[dict]:
    """n citizens (L1: a phone; L0: none), straight through the identity service; bearer headers."""
    from app.identity import service
    from app.security.tokens import Principal

    made = []
    with app.test_request_context(), db.connection_context():
        for _ in range(n):
            phone = f"199{secrets.randbelow(10 ** 8):08d}" if level else None
            user = service._create_user(phone=phone, index=service.phone_index(phone) if phone else None)
            token, _ = app.extensions["tokens"].issue(Principal("citizen", user.id))
            made.append({**bearer(token), "X-User": user.id})
    return made


@pytest.fixture
def citizens(app):
    return lambda n=1, level=1: make_citizens(app, n, level=level)


@pytest.fixture
def citizen(citizens):
    return citizens(1)[0]


@pytest.fixture
def clerk_of(client, runner):
    """Factory: a counter clerk bound to a hall code, logged in; bearer headers."""
    def make(hall_code: str = "H1", username: str | None = None) -> dict:
        username = username or f"clerk.{hall_code.lower()}"
        out = runner.invoke(args=["staff", "create", "--username", username, "--password", CLERK_PASSWORD,
                                  "--role", "counter", "--hall", hall_code])
        assert "created" in out.output, out.output
        response = client.post("/api/v1/auth/staff-login", json={"username": username, "password": CLERK_PASSWORD})
        assert response.status_code == 200, response.get_json()
        return bearer(response.get_json()["access_token"])

    return make


def slot_of(hall_id: str, day: str, hhmm: str = "0900") -> str:
    return f"{hall_id}.{day.replace('-', '')}.{hhmm}"


def book(client, headers: dict, hall_id: str = "hall_a", day: str = "2026-09-30", hhmm: str = "0900",
         item: str = "ITEM-1", status: int | None = 201, slot_id: str | None = None):
    response = client.post(APPOINTMENTS, json={"hall_id": hall_id, "slot_id": slot_id or slot_of(hall_id, day, hhmm),
                                               "item_code": item}, headers=_auth(headers))
    if status is not None:
        assert response.status_code == status, response.get_json()
        return response.get_json()
    return response


def _auth(headers: dict) -> dict:
    return {k: v for k, v in headers.items() if k == "Authorization"}
