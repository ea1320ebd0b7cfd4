"""Case test fixtures: a department client (`cases:write`), event bodies, citizens at L2."""
from __future__ import annotations

import itertools
import json

import pytest

from notify.outbox import OutboxEntry
from tests import vectors
from tests.helpers import bearer, rows

EVENTS = "/api/v1/dept/case-events"
BATCH = "/api/v1/dept/case-events:batch"
CASES = "/api/v1/cases"
FOLLOW_UPS = "/api/v1/dept/follow-ups"

_ids = itertools.count(1)

# The usual chain of a case, in order (seq 1…).
CHAIN = ("submitted", "accepted", "in_review", "approved", "concluded", "delivered")


def event(seq: int = 1, status: str = "submitted", *, case_no: str = "C-2026-0001", person=vectors.ZHANG_SAN,
          event_id: str | None = None, day: int | None = None, **extra) -> dict:
    """A department event body; `day` of March 2026 (default: the seq, 09:00 Beijing time)."""
    body = {
        "event_id": event_id or f"ev-{next(_ids)}", "case_no": case_no,
        "applicant": {"name": person[0], "id_number": person[1]},
        "item_code": "ITEM-340100-001", "item_name": "个体工商户设立登记", "status": status, "seq": seq,
        "occurred_at": f"2026-03-{day or seq:02d}T09:00:00+08:00",
    }
    body.update(extra)
    return body


@pytest.fixture
def dept(machine_token):
    """Headers of a department's case-handling system (`cases:write`)."""
    return bearer(machine_token("cases:write"))


@pytest.fixture
def push(client, dept):
    """POST one event; asserts the status; returns the JSON answer."""

    def send(body: dict, status: int = 202, headers: dict | None = None) -> dict:
        response = client.post(EVENTS, json=body, headers=headers or dept)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    return send


@pytest.fixture
def run_chain(push):
    """Push the statuses in order as seq 1…n of one case; returns the answers."""

    def run(statuses=CHAIN, **kw) -> list[dict]:
        return [push(event(i, s, **kw)) for i, s in enumerate(statuses, start=1)]

    return run


@pytest.fixture
def citizen(verified_citizen):
    """Zhang San at L2: bearer headers."""
    return bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])


def outbox(app, **where) -> list[OutboxEntry]:
    found = rows(app, OutboxEntry)
    return [r for r in found if all(getattr(r, k) == v for k, v in where.items())]


def notice_data(entry: OutboxEntry) -> dict:
    return json.loads(entry.data)
