"""Counter verification (验证): `POST /api/v1/counter/verifications {qr_text}` by a clerk.

A QR text is one-time and a licence has at most one live presentation, so before the run each
request gets a licence of its own with a live presentation: licences are issued (by a bench
issuing client) to a pool of L2 holders made through the app's own services, and presented
through `wallet.service.create_presentation`. One clerk of hall H1 (`create_staff`) sends them all, with
an access token from the app's token service. Every request is a successful verification: it
checks the QR text's MAC, takes the Redis record, marks the presentation used and records the
check (one transaction), and answers the disclosed fields.
"""
from __future__ import annotations

import json

from app.db import unit_of_work
from wallet import service as wallet

from scenarios import _wallet
from scenarios._base import Scenario

HOLDERS = 50  # licences are spread over them


def prepare(count: int) -> list[str]:
    auth = {"Authorization": f"Bearer {_wallet.clerk_token()}"}
    holders = _wallet.make_holders(min(HOLDERS, count))
    bodies = []
    for start in range(0, count, 500):
        with unit_of_work():  # in batches: one commit per 500 licences and presentations
            for i in range(start, min(count, start + 500)):
                holder = holders[i % len(holders)]
                licence_id = _wallet.issue_licence(holder)
                shown = wallet.create_presentation(user_id=holder[0], licence_id=licence_id, fields=None, purpose=None)
                bodies.append(_wallet.line(SCENARIO.path, auth, json.dumps({"qr_text": shown["qr_text"], "matter": "identity_check"})))
    return bodies


SCENARIO = Scenario(
    name="wallet_verify",
    title="Counter verification of a QR text (clerk)",
    method="POST",
    path="/api/v1/counter/verifications",
    headers={"Content-Type": "application/json"},
    expect_status=200,
    target_ratio=0.35,
    # Each request needs a licence of its own, issued and SM2-signed (~4 ms each to prepare):
    # bodies for 0.6 × the bare rate keep preparing to a couple of minutes.
    ceiling_ratio=0.6,
    one_shot_bodies=True,
    prepare=prepare,
    per_request=True,
    server_env={
        # Presentations are made before the run; keep them live however long preparing takes.
        "PRESENTATION_TTL": "3600",
    },
)
