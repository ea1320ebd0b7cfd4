"""Showing a licence (亮证): `POST /api/v1/wallet/licences/{id}/presentations` by L2 holders.

Before the run, a pool of holders is made at L2 through the app's own services (development
registry entry, account, real-name verification), each with one driving licence issued by a
bench issuing client, and an access token from the app's token service. Each prepared request
carries its holder's `Authorization` and licence path (`per_request` lines); the pool is cycled.
Every request is a successful presentation: it checks the holder is L2, decrypts the licence,
retires the licence's live presentation and records the new one (one transaction with an audit
row), and writes the nonce and a manual code to Redis.
"""
from __future__ import annotations

import json

from scenarios import _wallet
from scenarios._base import Scenario

POOL = 200  # holders (and licences); requests on the same licence queue on its row lock


def prepare(count: int) -> list[str]:
    holders = _wallet.make_holders(min(POOL, count))
    pool = [(f"/api/v1/wallet/licences/{_wallet.issue_licence(h)}/presentations", h[3]) for h in holders]
    body = json.dumps({})
    return [_wallet.line(path, {"Authorization": f"Bearer {token}"}, body)
            for path, token in (pool[i % len(pool)] for i in range(count))]


SCENARIO = Scenario(
    name="wallet_present",
    title="Show a licence (new QR presentation, holder at L2)",
    method="POST",
    path="/api/v1/wallet/licences/{id}/presentations",
    headers={"Content-Type": "application/json"},
    expect_status=201,
    target_ratio=0.35,
    one_shot_bodies=True,
    per_request=True,
    prepare=prepare,
)
