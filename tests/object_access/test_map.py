"""Appointments, their check-in at another hall's counter, and a hall's queue length.

The queue is public to read (`GET /map/halls/{id}`, in NOT_OWNED); only the push is guarded."""
from __future__ import annotations

import pytest

from mapsvc.models import Hall
from tests import vectors
from tests.fixtures.appointments import APPOINTMENTS, CHECK_INS, book
from tests.fixtures.halls import hall
from tests.helpers import bearer, rows
from tests.object_access.conftest import refused

ROUTES = {
    "/api/v1/appointments/<appointment_id>", "/api/v1/appointments/<appointment_id>/qr.png",
    "/api/v1/map/halls/<hall_code>/queue",
}
QUEUE = "/api/v1/map/halls/{}/queue"
SECRETS = (vectors.ZHANG_SAN[0], vectors.ZHANG_SAN[1], vectors.PHONES[0])


def test_an_appointment_of_another_citizen(client, two_citizens, make_hall, clerk_of, machine_token, clock):
    a, b = two_citizens
    make_hall()
    appointment = book(client, a)
    url = f"{APPOINTMENTS}/{appointment['id']}"
    secrets = (appointment["check_in_code"], *SECRETS)
    for headers in (b, clerk_of("H1"), bearer(machine_token("licences:issue cases:write halls:write"))):
        refused(client.get(url, headers=headers), *secrets)
        refused(client.get(f"{url}/qr.png", headers=headers), *secrets)
        refused(client.delete(url, headers=headers), *secrets)

    mine = client.get(url, headers=a).get_json()
    assert (mine["status"], mine["check_in_code"]) == ("booked", appointment["check_in_code"])
    qr = client.get(f"{url}/qr.png", headers=a)
    assert qr.status_code == 200 and qr.mimetype == "image/png"


def test_check_in_by_a_clerk_of_another_hall(client, two_citizens, make_hall, clerk_of, machine_token, clock):
    a, b = two_citizens
    make_hall()
    make_hall("hall_b", "H2")
    appointment = book(client, a)
    code = {"code": appointment["check_in_code"]}
    clock("2026-09-30T09:00")  # the appointment's day
    for headers in (a, b, bearer(machine_token("licences:issue cases:write halls:write"))):
        refused(client.post(CHECK_INS, json=code, headers=headers), *SECRETS)
    # Issue 16: another hall's clerk is told the booked hall's name only (409), nothing about the citizen.
    other = client.post(CHECK_INS, json=code, headers=clerk_of("H2"))
    assert other.status_code == 409 and other.get_json()["code"] == "check_in_other_hall", other.get_json()
    assert not [s for s in SECRETS if s in other.get_data(as_text=True)]

    assert client.get(f"{APPOINTMENTS}/{appointment['id']}", headers=a).get_json()["status"] == "booked"
    checked = client.post(CHECK_INS, json=code, headers=clerk_of("H1"))
    assert checked.status_code == 200 and checked.get_json()["status"] == "arrived", checked.get_json()


def _queue_length(app, code: str) -> int | None:
    return {h.code: h.queue_length for h in rows(app, Hall)}[code]


@pytest.fixture
def queues(app, client, load_halls, machine_token):
    """Halls Q-1 and Q-2, Q-1's queue system, Q-1 at 12 waiting."""
    load_halls([hall("Q-1"), hall("Q-2", lng="117.2310")])
    own = bearer(machine_token("halls:write", halls="Q-1"))
    assert client.put(QUEUE.format("Q-1"), json={"length": 12}, headers=own).status_code == 200
    return own


def test_queue_push_with_a_token_of_the_wrong_kind(app, client, queues, two_citizens, clerk_of, machine_token):
    a, _ = two_citizens
    for headers in (a, clerk_of("Q-1"), bearer(machine_token("licences:issue cases:write signatures:verify"))):
        refused(client.put(QUEUE.format("Q-1"), json={"length": 99}, headers=headers))
    assert _queue_length(app, "Q-1") == 12
    hall_id = {h.code: h.id for h in rows(app, Hall)}["Q-1"]
    assert client.get(f"/api/v1/map/halls/{hall_id}").get_json()["queue"]["length"] == 12


def test_queue_push_by_another_halls_queue_system(app, client, queues, machine_token):
    q2_system = bearer(machine_token("halls:write", halls="Q-2"))  # Q-2's queue system
    assert client.put(QUEUE.format("Q-2"), json={"length": 3}, headers=q2_system).status_code == 200
    response = client.put(QUEUE.format("Q-1"), json={"length": 99}, headers=q2_system)
    assert _queue_length(app, "Q-1") == 12
    refused(response)
    assert response.get_json()["code"] == "hall_not_bound"
    unbound = bearer(machine_token("halls:write"))  # bound to no hall at all
    refused(client.put(QUEUE.format("Q-1"), json={"length": 98}, headers=unbound))
    assert _queue_length(app, "Q-1") == 12
