"""PUT /map/halls/{code}/queue: queue systems (`halls:write`) push the live queue length."""
from __future__ import annotations

import time

import pytest

from app.audit import AuditEvent
from mapsvc import index
from mapsvc.models import Hall
from tests.fixtures.halls import NEARBY, hall
from tests.helpers import assert_problem, bearer, rows

QUEUE = "/api/v1/map/halls/{}/queue"


@pytest.fixture
def queue_system(machine_token, load_halls):
    load_halls([hall("Q-1"), hall("Q-2", lng="117.2310")])
    return bearer(machine_token("halls:write", halls="Q-1 Q-2"))


def test_a_pushed_queue_length_shows_in_nearby_and_detail_with_its_age(app, client, queue_system):
    answer = client.put(QUEUE.format("Q-1"), json={"length": 12}, headers=queue_system)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["code"] == "Q-1" and body["queue"]["length"] == 12 and body["queue"]["stale"] is False
    stored = {h.code: h for h in rows(app, Hall)}
    assert stored["Q-1"].queue_length == 12 and stored["Q-1"].queue_updated_at is not None
    items = {i["code"]: i for i in client.get(NEARBY, query_string={"lat": 31.8205, "lng": 117.23}).get_json()["items"]}
    assert items["Q-1"]["queue"]["length"] == 12 and 0 <= items["Q-1"]["queue"]["age_seconds"] < 60
    assert items["Q-2"]["queue"] is None
    detail = client.get(f"/api/v1/map/halls/{stored['Q-1'].id}").get_json()
    assert detail["queue"]["length"] == 12
    audit = rows(app, AuditEvent, AuditEvent.action == "map.queue_push")
    assert len(audit) == 1 and audit[0].target == stored["Q-1"].id and audit[0].actor_kind == "client"


def test_an_old_queue_length_is_flagged_stale(app, client, queue_system):
    hall_id = {h.code: h.id for h in rows(app, Hall)}["Q-1"]
    app.extensions["redis"].hset(index.QUEUE, hall_id, f"30|{int(time.time()) - 3600}")
    item = client.get(NEARBY, query_string={"lat": 31.8205, "lng": 117.2299, "limit": 1}).get_json()["items"][0]
    assert item["queue"]["stale"] is True and item["queue"]["age_seconds"] >= 3600


def test_queue_push_needs_the_scope(client, machine_token, login_citizen, queue_system):
    assert_problem(client.put(QUEUE.format("Q-1"), json={"length": 1}), 401)
    other = bearer(machine_token("cases:write"))
    assert_problem(client.put(QUEUE.format("Q-1"), json={"length": 1}, headers=other), 403, "insufficient_scope")
    citizen = bearer(login_citizen()["access_token"])
    assert_problem(client.put(QUEUE.format("Q-1"), json={"length": 1}, headers=citizen), 403, "forbidden")


@pytest.mark.parametrize("body", [{}, {"length": -1}, {"length": 10_001}, {"length": "5"}, {"length": 2.5},
                                  {"length": 3, "extra": 1}])
def test_bad_queue_lengths_are_422(client, queue_system, body):
    assert_problem(client.put(QUEUE.format("Q-1"), json=body, headers=queue_system), 422, "validation_failed")


def test_unknown_or_inactive_hall_is_404(client, queue_system, load_halls):
    assert_problem(client.put(QUEUE.format("NOPE"), json={"length": 1}, headers=queue_system), 404, "hall_not_found")
    load_halls([hall("Q-2", active="0")])
    assert_problem(client.put(QUEUE.format("Q-2"), json={"length": 1}, headers=queue_system), 404, "hall_not_found")


def test_queue_push_is_rate_limited_per_client_and_hall(make_app, machine_token, load_halls):
    app = make_app(MAP_QUEUE_PUSH_PER_MINUTE=2)
    client = app.test_client()
    load_halls([hall("Q-1")])
    runner = app.test_cli_runner()
    out = runner.invoke(args=["clients", "create", "--name", "queue", "--scopes", "halls:write",
                                "--halls", "Q-1"]).output
    creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    token = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", **creds}).get_json()
    headers = bearer(token["access_token"])
    for length in (1, 2):
        assert client.put(QUEUE.format("Q-1"), json={"length": length}, headers=headers).status_code == 200
    assert_problem(client.put(QUEUE.format("Q-1"), json={"length": 3}, headers=headers), 429, "queue_push_rate_limited")


def test_hall_detail(app, client, load_halls):
    load_halls([hall("D-1", closures='[{"from": "2099-01-01", "to": "2099-01-02", "reason": "装修"}]',
                     phone="0551-63000000")])
    hall_id = rows(app, Hall)[0].id
    detail = client.get(f"/api/v1/map/halls/{hall_id}", query_string={"answer_coord": "bd09"}).get_json()
    assert detail["hours"]["mon"] == ["09:00-12:00", "13:30-17:00"] and detail["hours"]["sat"] == []
    assert detail["closures"] == [{"from": "2099-01-01", "to": "2099-01-02", "reason": "装修"}]
    assert detail["items"] == [{"code": "GA001", "name": "居民身份证换领"}, {"code": "RS001", "name": "社保卡申领"}]
    assert set(detail["today"]) == {"date", "open_now", "hours", "closed_reason", "next_open_at"}
    assert detail["location"]["coord"] == "bd09" and detail["phone"] == "0551-63000000"
    assert detail["accessibility"] == [{"code": "barrier_free", "name": "无障碍设施"}, {"code": "assisted", "name": "帮办代办"}]
    assert_problem(client.get("/api/v1/map/halls/hall_nope"), 404, "hall_not_found")
    assert_problem(client.get(f"/api/v1/map/halls/{hall_id}", query_string={"answer_coord": "wgs84"}), 422)


def test_a_queue_system_reports_only_the_halls_it_is_bound_to(app, client, runner, load_halls):
    load_halls([hall("Q-1"), hall("Q-2", lng="117.2310")])
    out = runner.invoke(args=["clients", "create", "--name", "Q-1 排队系统", "--scopes", "halls:write",
                              "--halls", "Q-1"]).output
    creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    token = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", **creds}).get_json()
    headers = bearer(token["access_token"])
    assert client.put(QUEUE.format("Q-1"), json={"length": 4}, headers=headers).status_code == 200
    assert_problem(client.put(QUEUE.format("Q-2"), json={"length": 40}, headers=headers), 403, "hall_not_bound")
    assert {h.code: h.queue_length for h in rows(app, Hall)}["Q-2"] is None
    refused = [e for e in rows(app, AuditEvent) if e.action == "map.queue_push" and e.outcome == "refused"]
    assert [e.actor_id for e in refused] == [creds["client_id"]]

    def halls(*args: str) -> list[str]:  # the command's last line (the runner's output has the logs too)
        return runner.invoke(args=["clients", "halls", creds["client_id"], *args]).output.strip().splitlines()[-1].split()

    # an administrator binds it to Q-2 as well (audited), then unbinds it again
    assert halls("--add", "Q-2") == ["Q-1", "Q-2"]
    assert client.put(QUEUE.format("Q-2"), json={"length": 40}, headers=headers).status_code == 200
    assert halls("--remove", "Q-2") == ["Q-1"]
    assert halls() == ["Q-1"]
    assert_problem(client.put(QUEUE.format("Q-2"), json={"length": 41}, headers=headers), 403, "hall_not_bound")
    assert [e.action for e in rows(app, AuditEvent) if e.action == "client.halls"] == ["client.halls"] * 2
    assert runner.invoke(args=["clients", "halls", "cl-nope"]).exit_code != 0
