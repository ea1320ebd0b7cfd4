"""Booking for a relative (代办预约): the appointment is the principal's, and is recorded as done by the proxy."""
from __future__ import annotations

import json

from app.audit import AuditEvent
from appointments.models import Appointment
from tests.fixtures.appointments import APPOINTMENTS, slot_of
from tests.helpers import assert_problem, rows


def test_book_proxy_books_for_the_principal(app, client, people, grant, proxy_session, make_hall):
    make_hall()
    made = grant(scopes=["appointments:book"])
    token = proxy_session(made["id"])
    response = client.post(APPOINTMENTS, json={"hall_id": "hall_a", "slot_id": slot_of("hall_a", "2026-09-30"),
                                               "item_code": "ITEM-1"}, headers=token)
    assert response.status_code == 201, response.get_json()
    [stored] = rows(app, Appointment)
    assert stored.user_id == people["principal"]["id"]
    mine = client.get(APPOINTMENTS, headers=people["principal"]["headers"]).get_json()["items"]
    assert [a["id"] for a in mine] == [response.get_json()["id"]]
    assert client.get(APPOINTMENTS, headers=people["relative"]["headers"]).get_json()["items"] == []
    [event] = rows(app, AuditEvent, AuditEvent.action == "map.appointment_booked")
    assert json.loads(event.details)["proxy"]["actor_id"] == people["relative"]["id"]
    assert_problem(client.get("/api/v1/wallet/licences", headers=token), 403, "proxy_not_allowed")
