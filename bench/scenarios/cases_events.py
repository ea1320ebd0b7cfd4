"""Department case events (办件进度): `POST /api/v1/dept/case-events` by a `cases:write` client.

Before the run, a department client is registered and given an access token by the app's token
service, and a pool of L2 citizens is made (the applicants, so every applied event also writes
an outbox notice). Each prepared request is a fresh event: request i is event seq k+1 of case
i mod N (N cases; a case's next event comes N requests later), walking each case along
submitted → accepted → in_review → approved → concluded → delivered. Every request is
accepted (202): the idempotency check, the case row locked (opened with its SM4-encrypted
applicant on its first event), the transition check, the SLA clock, and one transaction with the
event row, the case update, the timeline entry, the outbox notice (plus the 好差评 invitation
at 办结) and the audit row.
"""
from __future__ import annotations

import json
import math
import secrets

from scenarios import _wallet
from scenarios._base import Scenario

CHAIN = ("submitted", "accepted", "in_review", "approved", "concluded", "delivered")
MIN_CASES = 2000
APPLICANTS = 100


def prepare(count: int) -> list[str]:
    headers = {"Authorization": f"Bearer {_wallet.department_token()}"}
    people = _wallet.make_holders(APPLICANTS)
    cases = max(MIN_CASES, math.ceil(count / len(CHAIN)))
    run = secrets.token_hex(4)
    lines = []
    for i in range(count):
        case, step = i % cases, i // cases
        _, name, id_number, _ = people[case % len(people)]
        body = {"event_id": f"bench-{run}-{i}", "case_no": f"BENCH-{run}-{case:07d}",
                "applicant": {"name": name, "id_number": id_number}, "item_code": "BENCH-ITEM",
                "item_name": "压测事项", "status": CHAIN[step % len(CHAIN)], "seq": step + 1,
                "occurred_at": "2026-03-02T09:00:00+08:00", "promised_days": 10}
        lines.append(_wallet.line("/api/v1/dept/case-events", headers, json.dumps(body, ensure_ascii=False)))
    return lines


SCENARIO = Scenario(
    name="cases_events",
    title="Department case event (idempotent, seq-ordered, outbox notice in the same transaction)",
    method="POST",
    path="/api/v1/dept/case-events",
    headers={"Content-Type": "application/json"},
    expect_status=202,
    ceiling_ratio=0.3,  # no ratio target in the issue
    one_shot_bodies=True,
    per_request=True,
    prepare=prepare,
)
