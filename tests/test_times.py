"""Every time in every answer is RFC 3339 in China time, `+08:00` (API.md; issue 14 item 19).

The walk seeds demo-like data (the demo halls, a verified citizen with a licence, a case with a
补正 and a poor rating, notices, an appointment, a counter check of the licence) and GETs every
GET operation of the OpenAPI document, each with the first credentials it answers 200 to (the
`walk` fixture, tests/fixtures/walk.py). tests/test_english_everywhere.py walks the same answers in English.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from app.clock import china_today, rfc3339
from tests.fixtures.walk import strings

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")

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
    assert rfc3339(datetime(248, 1, 1, tzinfo=timezone.utc)) == "0248-01-01T08:00:00+08:00"
    assert rfc3339(datetime(2026, 9, 29, 2, 0)) == "2026-09-29T10:00:00+08:00"  # naive = UTC, as stored
    assert china_today(datetime(2026, 9, 29, 16, 0, tzinfo=timezone.utc)) == date(2026, 9, 30)
