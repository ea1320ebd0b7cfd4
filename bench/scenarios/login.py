"""SMS-code login: `POST /api/v1/auth/login {phone, code}` with valid, unused codes.

Each request carries its own phone and a fresh code prepared before the run
through the app's own services (`identity.service.new_sms_code`), so each one is a
successful *first* login: it checks and consumes the code (Redis Lua script),
creates the account, opens a session with a refresh token, writes an audit row
(one transaction) and signs an Ed25519 access token.
"""
from __future__ import annotations

import json
import secrets

from identity import service as identity

from scenarios._base import Scenario


def prepare(count: int) -> list[str]:
    rng = secrets.SystemRandom()
    prefix = rng.choice(["13", "15", "17", "18", "19"]) + str(rng.randrange(10))
    bodies = []
    for number in rng.sample(range(10**8), count):  # distinct phones, new on every run
        phone = f"{prefix}{number:08d}"
        code = identity.new_sms_code(identity.phone_index(phone))
        bodies.append(json.dumps({"phone": phone, "code": code}))
    return bodies


SCENARIO = Scenario(
    name="login",
    title="SMS-code login (first login: creates the account)",
    method="POST",
    path="/api/v1/auth/login",
    headers={"Content-Type": "application/json"},
    expect_status=200,
    target_ratio=0.3,
    one_shot_bodies=True,
    prepare=prepare,
    server_env={
        # All load comes from 127.0.0.1: the per-IP login limit (60/min) would end the run at once.
        "LOGIN_PER_IP_MINUTE": "1000000000",
        # Codes are written before the run; keep them alive however long preparing takes.
        "SMS_CODE_TTL": "3600",
    },
    notes=("LOGIN_PER_IP_MINUTE raised to 1e9 for the bench server (all load comes from one IP)",),
)
