"""Log masking (unit) and idempotent migrations."""
from __future__ import annotations

import re

import pytest

from app.logs import mask_text

# --- Log masking (unit) ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, masked", [
    ("verify 340102199003071232 now", "verify 3401**********1232 now"),
    ("id=11010519491231002X", "id=1101**********002X"),
    ("phone 13800138000.", "phone 138****8000."),
    ("phone +86 13800138000", "phone 138****8000"),
    ("phone +8613800138000", "phone 138****8000"),
    ("Authorization: Bearer abc.DEF-123_456", "Authorization: Bearer ***"),
    ("token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1XzEyMyJ9.c2lnbmF0dXJl end", "token ***jwt*** end"),
    ("GET /x?code=123456&state=1", "GET /x?code=***&state=1"),
    ('{"password": "x", "user": "admin"}', '{"password": "***", "user": "admin"}'),
    ("手机13800138000已绑定", "手机138****8000已绑定"),
    ("serial 5fa17933591186bd03 revoked", "serial 5fa17933591186bd03 revoked"),  # hex, not a phone
])
def test_mask_text(raw, masked):
    assert mask_text(raw) == masked


def test_mask_text_leaves_ordinary_text_alone():
    text = "POST /api/v1/auth/login 200 in 12.5 ms, order 12345, year 2024"
    assert mask_text(text) == text
    assert mask_text("") == ""


@pytest.mark.parametrize("raw, secret", [
    ("js_code=0a1B2c3D", "0a1B2c3D"),
    ("client_secret=s3cr3t-value", "s3cr3t-value"),
    ("'session_key': 'tiihtNczf5v6AKRyjwEUhQ=='", "tiihtNczf5v6AKRyjwEUhQ=="),
    ("pin: 246810", "246810"),
])
def test_mask_text_hides_credentials(raw, secret):
    assert secret not in mask_text(raw)


# --- Migrations --------------------------------------------------------------------------------

def test_db_upgrade_is_idempotent(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.db")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    applied = int(re.search(r"applied (\d+) migration", first.output).group(1))
    assert applied >= 1
    second = runner.invoke(args=["db", "upgrade"])
    assert second.exit_code == 0, second.output
    assert re.search(r"applied 0 migration", second.output), second.output
    # The migrated schema works: a login on the fresh database succeeds.
    client = app.test_client()
    assert client.post("/api/v1/auth/sms-codes", json={"phone": "13800138000"}).status_code == 202
    code = client.get("/api/v1/dev/sms-outbox?phone=13800138000").get_json()["items"][0]["code"]
    assert client.post("/api/v1/auth/login", json={"phone": "13800138000", "code": code}).status_code == 200
