"""Keyset cursors (app/pagination.py): opaque, round-trip, and refused with a 422 problem when forged."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

from app.pagination import CursorInvalid, decode_cursor, encode_cursor
from tests.helpers import assert_problem, bearer


def test_a_cursor_round_trips_and_is_opaque():
    at = datetime(2026, 11, 23, 8, 30, 1, 123456, tzinfo=timezone.utc)
    cursor = encode_cursor(at, "lic_abc")
    assert "lic_abc" not in cursor and "=" not in cursor
    assert decode_cursor(cursor) == (at, "lic_abc")


@pytest.mark.parametrize("cursor", [
    "", "x", "!!!!", base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
    base64.urlsafe_b64encode(json.dumps(["2026-11-23T08:30:00", "id"]).encode()).decode(),  # no offset
    base64.urlsafe_b64encode(json.dumps(["yesterday", "id"]).encode()).decode(),
])
def test_forged_cursors_are_refused(cursor):
    with pytest.raises(CursorInvalid) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 422 and caught.value.code == "cursor_invalid"


def test_every_list_answers_a_bad_cursor_with_a_problem(client, verified_citizen):
    token = bearer(verified_citizen()["access_token"])
    for path in ("/api/v1/wallet/licences", "/api/v1/wallet/usage", "/api/v1/signing/signatures",
                 "/api/v1/appointments"):
        body = assert_problem(client.get(f"{path}?cursor=garbage", headers=token), 422, "cursor_invalid")
        assert "cursor" in body["errors"]
