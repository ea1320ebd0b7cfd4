"""Every time in every answer is RFC 3339 in China time, `+08:00` (API.md; issue 14 item 19).

The walk seeds demo-like data (the demo halls, a verified citizen with a licence, a case with a
补正 and a poor rating, notices, an appointment, a counter check of the licence) and GETs every
GET operation of the OpenAPI document, each with the first credentials it answers 200 to.
tests/test_english_everywhere.py walks the same answers in English.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterator

import pytest

from app.clock import CHINA_TZ, china_today, rfc3339
from mapsvc.models import Hall
from notify.tasks import NotifyWorker
from tests import vectors
from tests.helpers import bearer, rows
from tests.signing.conftest import PIN, b64, enrol
from tests.wallet.conftest import issue_body

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_SKIP_PATHS = ("/stream", "qr.png", "qr.svg", "ca.pem", "/crl")  # not JSON answers
_PARAM_GUESSES = ("hall_id", "case_id", "licence_id", "appointment_id", "presentation_id", "follow_up_id",
                  "case_no", "id")


def strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (key, string) in a JSON value, nested keys joined with dots."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, key)


def _first_bookable(client, hall_id: str) -> tuple[str, str] | None:
    day = china_today()
    for offset in range(1, 21):  # the booking window: 5 working days, longer around 春节 and 国庆
        found = client.get(f"/api/v1/map/halls/{hall_id}/slots?date={day + timedelta(days=offset)}").get_json()
        for slot in found.get("items", []):
            if slot["bookable"]:
                return found["date"], slot["id"]
    return None


@pytest.fixture
def walk(app, client, runner, verified_citizen, machine_token) -> Callable[[dict[str, str]], dict[str, Any]]:
    """Seed the data, then `walk(extra_headers)` → {path: JSON answer} of every GET that answered 200."""
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    citizen = bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
    issuer, dept = bearer(machine_token("licences:issue")), bearer(machine_token("cases:write"))
    licence = client.post("/api/v1/issuer/licences", json=issue_body(), headers=issuer).get_json()
    today = china_today()
    now = datetime.now(CHINA_TZ)
    occurred = [rfc3339(now - timedelta(hours=12 - i)) for i in range(6)]
    base = {"case_no": "C-WALK-1", "applicant": {"name": vectors.ZHANG_SAN[0], "id_number": vectors.ZHANG_SAN[1]},
            "item_code": "ITEM-340100-001", "item_name": "个体工商户设立登记", "promised_days": 5}
    chain = ["submitted", "accepted", "supplement_required", "in_review", "approved", "concluded"]
    for seq, status in enumerate(chain, start=1):
        extra = {"supplement_due": str(today + timedelta(days=7))} if status == "supplement_required" else {}
        answer = client.post("/api/v1/dept/case-events", headers=dept, json={
            **base, **extra, "event_id": f"walk-{seq}", "status": status, "seq": seq, "occurred_at": occurred[seq - 1]})
        assert answer.status_code == 202, answer.get_json()
    case_id = answer.get_json()["case_id"]
    client.post(f"/api/v1/cases/{case_id}/evaluation", headers=citizen,
                json={"rating": 2, "tags": ["long_wait"], "comment": "排队太久"})
    hall = next(h for h in rows(app, Hall) if h.active and _first_bookable(client, h.id))
    day, slot_id = _first_bookable(client, hall.id)
    items = client.get(f"/api/v1/map/halls/{hall.id}", headers=citizen).get_json().get("items") or [{}]
    item_code = items[0].get("code") if isinstance(items[0], dict) else items[0]
    booked = client.post("/api/v1/appointments", headers=citizen,
                         json={"hall_id": hall.id, "slot_id": slot_id, "item_code": item_code}).get_json()
    clerk_login = client.post("/api/v1/auth/staff-login", json={"username": "clerk01", "password": "Counter#Demo2026"})
    clerk = bearer(clerk_login.get_json()["access_token"]) if clerk_login.status_code == 200 else {}
    shown = client.post(f"/api/v1/wallet/licences/{licence.get('id')}/presentations", json={}, headers=citizen)
    if shown.status_code == 201 and clerk:
        client.post("/api/v1/counter/verifications", json={"qr_text": shown.get_json()["qr_text"]}, headers=clerk)
    enrol(client, citizen)
    request = client.post("/api/v1/signing/requests", json={"title": "租赁合同", "document_b64": b64(b"walk")},
                          headers=citizen).get_json()
    client.post(f"/api/v1/signing/requests/{request['id']}/authorize", json={"pin": PIN}, headers=citizen)
    NotifyWorker(app, channels={}).drain()  # the notices of all the above reach the inbox
    follow_ups = client.get("/api/v1/dept/follow-ups", headers=dept).get_json()["items"]
    known = {"hall_id": hall.id, "case_id": case_id, "licence_id": licence.get("id"),
             "appointment_id": booked.get("id"), "case_no": "C-WALK-1",
             "follow_up_id": follow_ups[0]["id"] if follow_ups else None,
             "presentation_id": shown.get_json().get("id") if shown.status_code == 201 else None}
    query = {"date": day, "lat": hall.lat, "lng": hall.lng, "phone": vectors.PHONES[0]}
    spec = client.get("/api/v1/openapi.json").get_json()

    def run(extra: dict[str, str]) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for path, operations in spec["paths"].items():
            if "get" not in operations or any(s in path for s in _SKIP_PATHS):
                continue
            url = _fill(path, operations.get("parameters", []) + operations["get"].get("parameters", []), known, query)
            if url is None:
                continue
            for headers in (citizen, dept, issuer, clerk, {}):
                response = client.get(url, headers={**headers, **extra})
                if response.status_code == 200 and response.is_json:
                    answers[path] = response.get_json()
                    break
        return answers

    return run


def _fill(path: str, params: list[dict], known: dict[str, Any], query: dict[str, Any]) -> str | None:
    """The path with its parameters filled from what was seeded, or None when one is unknown."""
    url, args = path, []
    for param in params:
        name = param["name"]
        if param["in"] == "path":
            value = known.get(name)
            if value is None and name == "id":
                value = next((known[k] for k in _PARAM_GUESSES if k.split("_")[0] in path and known.get(k)), None)
            if value is None:
                return None
            url = url.replace("{" + name + "}", str(value))
        elif param["in"] == "query" and name in query:
            args.append(f"{name}={query[name]}")
    if "{" in url:
        return None
    return url + ("?" + "&".join(args) if args else "")


MUST_ANSWER = ("/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/wallet/licences", "/api/v1/appointments",
               "/api/v1/notifications", "/api/v1/map/halls/{hall_id}/slots", "/api/v1/me", "/api/v1/dept/follow-ups",
               "/api/v1/signing/certificate", "/api/v1/signing/signatures", "/api/v1/wallet/usage")


def test_every_time_in_every_answer_is_china_time(walk):
    """Issue 14 item 19: cases answered +00:00, slots of far dates +08:05:43; every RFC 3339 time
    in every GET answer now ends in +08:00."""
    answers = walk({})
    assert set(MUST_ANSWER) <= set(answers), sorted(set(MUST_ANSWER) - set(answers))
    seen, wrong = 0, []
    for path, answer in answers.items():
        for key, text in strings(answer):
            for found in _RFC3339.findall(text):
                seen += 1
                if not found.endswith("+08:00"):
                    wrong.append((path, key, found))
    assert seen > 30 and wrong == [], wrong
    assert answers["/api/v1/wallet/usage"]["items"] and answers["/api/v1/signing/signatures"]["items"]


def test_china_time_is_a_fixed_offset_even_before_1901():
    """Issue 14 item 19: ZoneInfo("Asia/Shanghai") gave old dates Shanghai's local mean time."""
    from datetime import timezone

    assert rfc3339(datetime(248, 1, 1, tzinfo=timezone.utc)) == "0248-01-01T08:00:00+08:00"
    assert rfc3339(datetime(2026, 9, 29, 2, 0)) == "2026-09-29T10:00:00+08:00"  # naive = UTC, as stored
    assert china_today(datetime(2026, 9, 29, 16, 0, tzinfo=timezone.utc)) == date(2026, 9, 30)
