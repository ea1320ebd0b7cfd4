"""Authorised signature (签署): `POST /api/v1/signing/requests/{id}/authorize {pin}` by citizens.

A request is single use, so before the run each benchmark request gets a signing request of its
own: a pool of L2 citizens (scenarios/_wallet.py `make_holders`) enrols for cloud signing (PIN,
SM2 key in the key store, certificate from the platform CA) and signing requests over small
documents are created through the app's own services. Every request is a successful
authorisation: Argon2id PIN check (19 MiB, t = 2 — the deliberate cost), the conditional UPDATE
consuming the request, key unwrap, SM2 signature, signature and audit rows in one transaction.
"""
from __future__ import annotations

import base64
import json

from app.db import unit_of_work
from signing import service as signing

from scenarios import _signing, _wallet
from scenarios._base import Scenario

POOL = 50  # citizens; their requests are interleaved
PIN = "802417"


def prepare(count: int) -> list[str]:
    holders = _wallet.make_holders(min(POOL, count))
    for user_id, *_ in holders:
        _signing.enrol(user_id, PIN)
    body = json.dumps({"pin": PIN})
    lines = []
    for start in range(0, count, 500):
        with unit_of_work():  # one commit per 500 requests
            for i in range(start, min(count, start + 500)):
                user_id, _name, _id, token = holders[i % len(holders)]
                document = base64.b64encode(f"bench document {i}".encode() * 20).decode()
                request = signing.create_request(user_id=user_id, title=f"文件 {i}", document_b64=document)
                lines.append(_wallet.line(f"/api/v1/signing/requests/{request['id']}/authorize",
                                          {"Authorization": f"Bearer {token}"}, body))
    return lines


SCENARIO = Scenario(
    name="signing_authorize",
    title="Authorised SM2 signature (PIN, single-use request)",
    method="POST",
    path="/api/v1/signing/requests/{id}/authorize",
    headers={"Content-Type": "application/json"},
    expect_status=200,
    # The Argon2id PIN check dominates (tens of ms of one core); no ratio target in the issue.
    ceiling_ratio=0.05,
    one_shot_bodies=True,
    per_request=True,
    prepare=prepare,
    server_env={"SIGNING_REQUEST_TTL": "3600"},  # requests are made before the run
)
