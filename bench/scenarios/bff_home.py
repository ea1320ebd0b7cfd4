"""The app's home screen (首页): `GET /api/v1/bff/home?lat=&lng=` by L2 citizens, every part live.

Before the run, bench halls open round the clock are imported around central Hefei (database and
the Redis geo index, through the map's importer), and a pool of L2 citizens is made through the
app's own services (see _wallet.py), each with a driving licence, four cases pushed through the
cases service as a department would (so each has notices, delivered to the inbox by the notify
worker) and an access token. Every request asks for the whole screen from a point near the halls:
profile, licence cards (each decrypted), the active cases, the unread count and the three nearest
open halls, fetched concurrently with the per-part budget (BFF_PART_BUDGET_MS); an answer with a
part missing (`partial` not empty) still counts as 200, so the figure is read beside the
server's "home part over budget" log lines.
"""
from __future__ import annotations

import json
import secrets

from flask import current_app

from mapsvc import service as mapsvc
from notify.service import NotifyWorker

from scenarios import _wallet
from scenarios._base import Scenario

POOL = 100
HALLS = 30
CASES_EACH = (("submitted",), ("submitted", "accepted"), ("accepted", "in_review"), ("accepted", "approved"))
POINT = (31.8206, 117.2272)


def _halls() -> None:
    records = [{"code": f"BENCH-HOME-{i:02d}", "name": f"压测政务服务中心{i:02d}", "type": "gov_center",
                "region_code": "340104", "address": "合肥市蜀山区压测路1号", "lat": f"{POINT[0] + (i % 6) * 0.003:.6f}",
                "lng": f"{POINT[1] + (i // 6) * 0.003:.6f}", "phone": "0551-62000000",
                "hours": json.dumps({"mon-sun": ["00:00-23:59"]}), "holiday_rule": "open", "closures": "",
                "items": "BENCH-ITEM:压测事项", "accessibility": ""} for i in range(HALLS)]
    mapsvc.import_records(((i + 2, r) for i, r in enumerate(records)), "gcj02")


def _cases(http, dept: dict[str, str], holder: tuple[str, str, str, str], run: str) -> None:
    """Four cases pushed through the department API, as a department's system does."""
    _, name, id_number, _ = holder
    for n, statuses in enumerate(CASES_EACH):
        for seq, status in enumerate(statuses, start=1):
            answer = http.post("/api/v1/dept/case-events", headers=dept, json={
                "event_id": f"bench-home-{run}-{id_number}-{n}-{seq}", "case_no": f"BH-{run}-{id_number}-{n}",
                "applicant": {"name": name, "id_number": id_number}, "item_code": "BENCH-ITEM", "item_name": "压测事项",
                "status": status, "seq": seq, "occurred_at": f"2026-03-{seq + n:02d}T09:00:00+08:00"})
            if answer.status_code != 202:
                raise RuntimeError(f"case event refused: {answer.status_code}")


def prepare(count: int) -> list[str]:
    _halls()
    holders = _wallet.make_holders(min(POOL, count))
    run = secrets.token_hex(4)
    app = current_app._get_current_object()
    http, dept = app.test_client(), {"Authorization": f"Bearer {_wallet.department_token()}"}
    for holder in holders:
        _wallet.issue_licence(holder)
        _cases(http, dept, holder, run)
    NotifyWorker(app).drain()
    path = f"/api/v1/bff/home?lat={POINT[0]}&lng={POINT[1]}"
    return [_wallet.line(path, {"Authorization": f"Bearer {holders[i % len(holders)][3]}"}, "")
            for i in range(count)]


SCENARIO = Scenario(
    name="bff_home",
    title="Home screen (profile, licences, cases, unread, 3 nearest open halls; citizen at L2)",
    method="GET",
    path="/api/v1/bff/home?lat=&lng=",
    target_ratio=0.2,
    ceiling_ratio=0.4,
    one_shot_bodies=True,
    per_request=True,
    prepare=prepare,
    server_env={"MAP_PER_IP_MINUTE": "100000000"},  # every bench request comes from one address
    notes=("An answer with a part over its budget is still 200: check the server log for "
           "'home part over budget' beside the figure.",),
)
