"""Booking an appointment (预约): `POST /api/v1/appointments {hall_id, slot_id, item_code}` by L1 citizens.

Before the run, bench halls open every day 08:00–20:00 with hourly slots of a capacity no run can
fill are written straight into the tables, and a pool of L1 citizens (an SMS-phone account, an
access token from the app's token service) is made through the identity service. Each prepared
request is a different (citizen, hall, day) inside the real booking window, so every request is a
successful booking: hall, slot and item checks, the window and ban checks, the hall-day key check,
then one transaction taking the seat with the conditional UPDATE of the slot's counter row, the
appointment row and its audit row. Requests rotate over halls and hours, as real bookings spread.
"""
from __future__ import annotations

import json
import math
import secrets
from datetime import timedelta

from flask import current_app

from app import calendar
from app.db import unit_of_work, utcnow
from app.security.tokens import Principal
from appointments import service as appointments
from identity import service as identity
from mapsvc.service import Hall, HallItem

from scenarios import _wallet
from scenarios._base import Scenario

HALLS = 50
MIN_CITIZENS = 50
ITEM = "BENCH-ITEM"


def _halls() -> list[str]:
    ids = [f"bench_hall_{i:02d}" for i in range(HALLS)]
    with unit_of_work():
        for i, hall_id in enumerate(ids):
            if Hall.get_or_none(Hall.id == hall_id) is None:
                Hall.create(id=hall_id, code=f"BENCH-{i:02d}", name=f"压测政务服务中心{i:02d}", type="gov_center",
                            region_code="340103", address="安徽省合肥市庐阳区压测路1号", lat=31.86, lng=117.28,
                            hours=json.dumps({"mon-sun": ["08:00-20:00"]}), holiday_rule="open",
                            slot_minutes=60, slot_capacity=1_000_000)
                HallItem.create(hall=hall_id, item_code=ITEM, item_name="压测事项")
    return ids


def _citizens(n: int) -> list[str]:
    tokens = []
    with unit_of_work():
        for _ in range(n):
            phone = f"199{secrets.randbelow(10 ** 8):08d}"
            user = identity._create_user(phone=phone, index=identity.phone_index(phone))
            tokens.append(current_app.extensions["tokens"].issue(Principal("citizen", user.id))[0])
    return tokens


def prepare(count: int) -> list[str]:
    first, last = appointments.booking_window(calendar.china_now(utcnow()).date())
    days = [first + timedelta(days=d) for d in range((last - first).days + 1)]
    halls = _halls()
    tokens = _citizens(max(MIN_CITIZENS, math.ceil(count / (len(halls) * len(days)))))
    lines = []
    for i in range(count):  # (citizen, hall, day) never repeats: one booking per person per hall-day
        citizen, hall, day = i % len(tokens), (i // len(tokens)) % len(halls), i // (len(tokens) * len(halls))
        slot = appointments.slot_id(halls[hall], days[day], 60 * (8 + i % 12))
        body = json.dumps({"hall_id": halls[hall], "slot_id": slot, "item_code": ITEM})
        lines.append(_wallet.line("/api/v1/appointments", {"Authorization": f"Bearer {tokens[citizen]}"}, body))
    return lines


SCENARIO = Scenario(
    name="map_book",
    title="Book a hall appointment (atomic seat counter, citizen at L1)",
    method="POST",
    path="/api/v1/appointments",
    headers={"Content-Type": "application/json"},
    expect_status=201,
    ceiling_ratio=0.3,  # no ratio target in the issue
    one_shot_bodies=True,
    per_request=True,
    prepare=prepare,
)
