"""The worker: inbox exactly once, pushes per preferences, dead tokens, quiet hours, backoff,
dead letters and replay (an injectable clock; nothing sleeps for real time)."""
from __future__ import annotations

import threading
from datetime import datetime, time

from app.db import db
from notify.models import Delivery, Device, InboxEntry, PushAttempt
from notify.outbox import OutboxEntry
from notify.push.base import PushRetryable
from notify.quiet import SHANGHAI
from tests import vectors
from tests.helpers import bearer, rows

APNS = "ab" * 32
FCM = "fcm-" + "t" * 40


def _device(client, citizen, platform="apns", token=APNS):
    """Register a device; its new-device announcement (tests/notify/test_device_sessions.py) is dropped
    from the outbox, so these tests count only their own notices."""
    response = client.post("/api/v1/devices", json={"platform": platform, "token": token}, headers=citizen["headers"])
    assert response.status_code in (200, 201), response.get_json()
    with client.application.app_context(), db.connection_context():
        OutboxEntry.delete().where(OutboxEntry.kind == "new_device").execute()
    return response.get_json()


def test_each_outbox_row_gives_one_inbox_entry_and_one_push_per_device(app, client, citizen, notice, make_worker,
                                                                       channels):
    _device(client, citizen)
    _device(client, citizen, "fcm", FCM)
    for _ in range(3):
        notice(citizen["user_id"])
    assert notice(citizen["user_id"], dedupe_key="case-event:c1:e1")
    assert not notice(citizen["user_id"], dedupe_key="case-event:c1:e1")  # the same event twice
    make_worker().drain()
    assert len(rows(app, InboxEntry)) == 4
    assert len(channels["apns"].sent) == 4 and len(channels["fcm"].sent) == 4
    assert {a.status for a in rows(app, PushAttempt)} == {"sent"} and len(rows(app, PushAttempt)) == 8
    token, message = channels["apns"].sent[0]
    assert token == APNS and message.title == "办件进度：已受理"


def test_a_row_processed_again_after_its_lease_expired_stays_one_inbox_entry(app, citizen, notice, make_worker,
                                                                             clock):
    notice(citizen["user_id"])
    make_worker().drain()
    # as if the worker had died after its commit but another took the row over: pending again
    with app.app_context(), db.connection_context():
        OutboxEntry.update(status="pending", locked_until=None).execute()
    make_worker().drain()
    assert len(rows(app, InboxEntry)) == 1


def test_two_concurrent_workers_share_the_work_without_duplicates(app, client, citizen, notice, make_worker,
                                                                  channels):
    _device(client, citizen)
    for _ in range(300):
        notice(citizen["user_id"])
    workers = [make_worker(), make_worker()]
    for w in workers:
        w.ingest.batch = w.delivery.batch = 20
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = rows(app, InboxEntry)
    assert len(entries) == 300 and len({e.outbox_id for e in entries}) == 300
    assert len(channels["apns"].sent) == 300
    assert len({m.idempotency_key for _, m in channels["apns"].sent}) == 300


def test_dead_token_drops_the_device(app, client, citizen, notice, make_worker, channels):
    device = _device(client, citizen)
    channels["apns"].dead.add(APNS)
    notice(citizen["user_id"])
    make_worker().drain()
    assert rows(app, Device) == []
    assert rows(app, Delivery)[0].status == "dropped"
    assert rows(app, PushAttempt)[0].status == "token_dead"
    assert client.get("/api/v1/devices", headers=citizen["headers"]).get_json()["items"] == []
    notice(citizen["user_id"])
    make_worker().drain()
    assert len(rows(app, PushAttempt)) == 1  # nothing more is pushed to it
    assert device["token_hint"] == "…" + APNS[-4:]


def test_quiet_hours_hold_non_urgent_pushes_until_8_but_the_inbox_gets_them_at_once(app, client, citizen, notice,
                                                                                     make_worker, channels, clock):
    _device(client, citizen)
    clock.now = datetime.combine(clock.now.astimezone(SHANGHAI).date(), time(23, 30), tzinfo=SHANGHAI)
    notice(citizen["user_id"])
    notice(citizen["user_id"], urgent=True, title="紧急通知")
    worker = make_worker()
    worker.drain()
    assert len(rows(app, InboxEntry)) == 2
    assert [m.title for _, m in channels["apns"].sent] == ["紧急通知"]
    held = [d for d in rows(app, Delivery) if d.status == "pending"][0]
    assert held.available_at.astimezone(SHANGHAI).time() == time(8, 0) and held.attempts == 0
    clock.advance(hours=8, minutes=29)  # 07:59
    worker.drain()
    assert len(channels["apns"].sent) == 1
    clock.advance(minutes=1)  # 08:00
    worker.drain()
    assert len(channels["apns"].sent) == 2


def test_quiet_hours_off_and_channels_off_are_respected(app, client, citizen, notice, make_worker, channels, clock):
    _device(client, citizen)
    _device(client, citizen, "fcm", FCM)
    answer = client.put("/api/v1/notifications/preferences", json={"quiet_hours": False, "channels": {"fcm": False}},
                        headers=citizen["headers"]).get_json()
    assert answer["quiet_hours"] is False and answer["channels"]["fcm"] is False and answer["channels"]["apns"]
    clock.now = datetime.combine(clock.now.astimezone(SHANGHAI).date(), time(23, 30), tzinfo=SHANGHAI)
    notice(citizen["user_id"])
    make_worker().drain()
    assert len(channels["apns"].sent) == 1 and channels["fcm"].sent == []


def test_failures_back_off_exponentially_then_dead_letter_and_replay(app, client, citizen, notice, make_worker,
                                                                     channels, clock, runner):
    _device(client, citizen)
    channels["apns"].failures[APNS] = [PushRetryable("apns 503 ServiceUnavailable") for _ in range(10)]
    notice(citizen["user_id"])
    worker = make_worker()
    worker.backoff_base, worker.delivery.max_attempts = 5.0, 4
    delays = []
    for _ in range(4):
        worker.drain()
        delivery = rows(app, Delivery)[0]
        if delivery.status == "pending":
            delays.append((delivery.available_at - clock.now).total_seconds())
            clock.now = delivery.available_at
    assert rows(app, Delivery)[0].status == "dead" and len(rows(app, PushAttempt)) == 4
    assert 2.5 <= delays[0] < 5 and 5 <= delays[1] < 10 and 10 <= delays[2] < 20  # 5·2^(n-1), jitter [0.5, 1)
    assert "503" in rows(app, Delivery)[0].last_error
    channels["apns"].failures[APNS] = []
    result = runner.invoke(args=["notify", "replay"])
    assert "1 delivery" in result.output
    clock.advance(seconds=1)
    worker.drain()
    assert rows(app, Delivery)[0].status == "sent" and len(channels["apns"].sent) == 1
    assert '"sent": 1' in runner.invoke(args=["notify", "stats"]).output.replace("apns:sent", "sent")


def test_a_poison_outbox_row_is_dead_lettered_alone(app, citizen, notice, make_worker):
    notice(citizen["user_id"])
    notice(citizen["user_id"], dedupe_key="poison")
    with app.app_context(), db.connection_context():
        OutboxEntry.update(data="{not json").where(OutboxEntry.dedupe_key == "poison").execute()
    worker = make_worker()
    worker.ingest.max_attempts = 1
    worker.drain()
    assert len(rows(app, InboxEntry)) == 1
    assert [r.status for r in rows(app, OutboxEntry, OutboxEntry.dedupe_key == "poison")] == ["dead"]


def test_a_token_that_moved_to_another_account_gets_no_push_for_the_first(app, client, citizen, notice, make_worker,
                                                                          channels, login_citizen, clock):
    _device(client, citizen)
    notice(citizen["user_id"])
    channels["apns"].failures[APNS] = [PushRetryable("apns 503")]
    worker = make_worker()
    worker.drain()  # the first push failed: a retry is due later
    other = login_citizen(vectors.PHONES[1])
    moved = client.post("/api/v1/devices", json={"platform": "apns", "token": APNS},
                        headers=bearer(other["access_token"]))
    assert moved.status_code == 200
    clock.advance(hours=1)
    worker.drain()
    assert channels["apns"].sent == []
    # (the other account's new-device notice has a delivery of its own, by SMS to its bound phone)
    first = [d for d in rows(app, Delivery) if d.user_id == citizen["user_id"]]
    assert [d.last_error for d in first] == ["device_removed"]


def test_the_worker_waits_out_a_redis_cluster_outage_instead_of_dying(make_worker):
    """redis-py's cluster errors (no node reachable, a shard down) are not RedisErrors: a worker that caught
    only RedisError ended its loop when a whole Redis Cluster was unreachable (the cluster test's finding)."""
    import redis.exceptions

    worker = make_worker()
    stop = threading.Event()
    raised = [redis.exceptions.RedisClusterUnreachableError("no node"), redis.exceptions.ClusterDownError("down")]
    calls = []

    def run_once():
        calls.append(1)
        if raised:
            raise raised.pop(0)
        stop.set()
        return 0

    worker.run_once = run_once
    worker.run(stop)
    assert len(calls) == 3  # two outages waited out, then a normal round
