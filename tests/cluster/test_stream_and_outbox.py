"""Across the nodes of `make cluster`: a live event reaches a stream held on another node, and two
outbox workers deliver every notice exactly once between them.

- A citizen's SSE stream held DIRECTLY on node 1's stream server gets the notice of a case event a
  department posted to node 3's API: the event goes node 3 → PostgreSQL (outbox) → a worker →
  Redis pub/sub → node 1. Nothing in one process could pass it along.
- N case events spread over the three nodes for several citizens, each with a registered device,
  posted while both workers are paused (SIGSTOP): on SIGCONT the two start together on a backlog of
  N notices (several batches of NOTIFY_BATCH), the contention exactly-once is about, and the drain
  is timed from there. Once drained, every notice has one outbox row, one inbox entry, one delivery
  per device and ONE push attempt (a second worker sending the same delivery would record a
  second), and both workers leased some of the rows. The schema keeps only a lease id per batch
  (`lease_owner`, a random id, not the worker's name), so which worker held a lease is read off
  PostgreSQL while they work: `pg_stat_activity` shows each backend's last statement with the lease
  id in it (psycopg2 sends the values inline), and the backend's client port names the worker
  process that owns that socket (psutil).

The figures (N, time to drain, messages per second) are printed for the README ("Scaling out").
"""
from __future__ import annotations

import json
import os
import queue
import re
import secrets
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

import psutil
import psycopg2
import pytest
import requests

from app.idnumber import check_char
from tests.fixtures.cases import EVENTS, event

pytestmark = pytest.mark.cluster

STREAM = "/api/v1/notifications/stream"
_NAMES = ("陈一鸣", "林二娜", "黄三强", "周四海", "吴五洲", "郑六合", "孙七星", "冯八方")


# --- helpers shared with test_failover.py ---------------------------------------------------------

def fresh_person(n: int = 0) -> tuple[str, str]:
    """A (name, ID number) no other test uses: a random birth date and sequence, a valid check character."""
    birth = date(1970, 1, 1) + timedelta(days=secrets.randbelow(30 * 365))
    first17 = f"340102{birth:%Y%m%d}{secrets.randbelow(1000):03d}"
    return _NAMES[n % len(_NAMES)], first17 + check_char(first17)


def fresh_phone() -> str:
    return f"139{secrets.randbelow(10**8):08d}"


@dataclass
class SseEvent:
    id: str | None = None
    event: str = "message"
    data: str = ""
    retry: int | None = None


class SseReader:
    """An SSE stream read by a thread with requests(stream=True) and a line parser: each complete
    event (fields up to a blank line) goes to `events`; comments (heartbeats) are skipped."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.response = requests.get(url, headers={**headers, "Accept": "text/event-stream"}, stream=True,
                                     timeout=(5, 60))
        self.events: queue.Queue[SseEvent] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        current = SseEvent()
        seen_field = False
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                line = raw if raw is not None else ""
                if line == "":
                    if seen_field:
                        self.events.put(current)
                    current, seen_field = SseEvent(), False
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                seen_field = True
                if name == "id":
                    current.id = value
                elif name == "event":
                    current.event = value
                elif name == "data":
                    current.data = f"{current.data}\n{value}" if current.data else value
                elif name == "retry" and value.isdigit():
                    current.retry = int(value)
        except (requests.RequestException, AttributeError, ValueError):  # closed by close()
            pass

    def next(self, timeout: float) -> SseEvent | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_for(self, predicate, timeout: float) -> SseEvent | None:
        """The first event (after those already read) that `predicate` accepts, within `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            found = self.next(left)
            if found is not None and predicate(found):
                return found
        return None

    def close(self) -> None:
        self.response.close()


def notice_of(case_no: str):
    """A predicate: the `notification` event of the case_status notice of `case_no`."""
    def matches(ev: SseEvent) -> bool:
        if ev.event != "notification":
            return False
        item = json.loads(ev.data)
        return item.get("kind") == "case_status" and item.get("data", {}).get("case_no") == case_no
    return matches


# --- 1. SSE across nodes --------------------------------------------------------------------------

def test_stream_on_node_1_gets_the_notice_of_an_event_ingested_on_node_3(cluster):
    person = fresh_person(0)
    citizen = cluster.citizen(person, fresh_phone())
    dept = cluster.machine("cases:write")
    node1, node3 = cluster.nodes[0], cluster.nodes[2]
    stream = SseReader(node1.stream_url + STREAM, citizen)
    try:
        assert stream.response.status_code == 200, stream.response.text
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        opening = stream.next(10)  # sent once the stream has subscribed: nothing published later is missed
        assert opening is not None and opening.retry == 3000, opening

        case_no = f"X-{secrets.token_hex(4)}"
        body = event(1, "submitted", case_no=case_no, person=person, event_id=f"sse-{secrets.token_hex(6)}")
        posted = time.monotonic()
        sent = requests.post(node3.api_url + EVENTS, json=body, headers=dept, timeout=30)
        assert sent.status_code == 202, sent.text

        got = stream.wait_for(notice_of(case_no), timeout=15)
        latency = time.monotonic() - posted
        assert got is not None, "no live event on node 1 within 15 s of the event ingested on node 3"
        item = json.loads(got.data)
        assert got.id == item["id"] and item["id"].isdigit()
        assert item["title"].startswith("办件进度") and case_no in item["body"]
        assert item["data"]["screen"] == "cases" and item["read"] is False
        # it is the inbox entry, as node 2 lists it
        listed = requests.get(cluster.nodes[1].api_url + "/api/v1/notifications", headers=citizen, timeout=30)
        assert listed.status_code == 200, listed.text
        assert [i["id"] for i in listed.json()["items"] if i["data"].get("case_no") == case_no] == [item["id"]]
        print(f"\n[cluster figures] SSE across nodes: event POSTed to {node3.name}, live event on {node1.name}'s stream after "
              f"{latency * 1000:.0f} ms (id {got.id})")
    finally:
        stream.close()


# --- 2. the outbox, exactly once with two workers -------------------------------------------------

LEASE = re.compile(r"lease_[a-z2-7]{24}")


class LeaseWatch:
    """Samples `pg_stat_activity` while the workers run: lease id → the client port of the backend
    whose statement named it. `owners()` maps the ports to the worker processes holding them."""

    def __init__(self, cluster) -> None:
        self.cluster = cluster
        self.seen: dict[str, set[int]] = {}
        self.samples = 0
        self.stop = threading.Event()
        self._conn = psycopg2.connect(cluster.database_url)
        self._conn.autocommit = True
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LeaseWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self._thread.join(10)
        self._conn.close()

    def _run(self) -> None:
        with self._conn.cursor() as cur:
            while not self.stop.is_set():
                cur.execute("SELECT client_port, query FROM pg_stat_activity WHERE datname = %s "
                            "AND pid <> pg_backend_pid() AND query LIKE %s", (self.cluster.database, "%lease\\_%"))
                for port, text in cur.fetchall():
                    for lease in LEASE.findall(text or ""):
                        self.seen.setdefault(lease, set()).add(port)
                self.samples += 1
                time.sleep(0.005)

    def owners(self) -> dict[str, int]:
        """lease id → the index of the worker (cluster.workers) whose socket the statement came on."""
        worker_of_port: dict[int, int] = {}
        for n, proc in enumerate(self.cluster.workers):
            for conn in psutil.Process(proc.pid).net_connections(kind="tcp"):
                if conn.raddr and conn.raddr.port == 5432:
                    worker_of_port[conn.laddr.port] = n
        found = {}
        for lease, ports in self.seen.items():
            workers = {worker_of_port[p] for p in ports if p in worker_of_port}
            assert len(workers) <= 1, f"lease {lease} seen from two workers {workers}"
            if workers:
                found[lease] = workers.pop()
        return found


@dataclass
class Citizen:
    person: tuple[str, str]
    headers: dict[str, str]
    device: str = ""
    cases: list[str] = field(default_factory=list)


def _citizen_with_device(cluster, n: int) -> Citizen:
    person = fresh_person(n)
    headers = cluster.citizen(person, fresh_phone())
    device = requests.post(cluster.lb_url + "/api/v1/devices", headers=headers, timeout=30,
                           json={"platform": "apns", "token": secrets.token_hex(32)})
    assert device.status_code == 201, device.text
    # the push is the point here, at whatever hour the test runs: no quiet hours
    prefs = requests.put(cluster.lb_url + "/api/v1/notifications/preferences", json={"quiet_hours": False},
                         headers=headers, timeout=30)
    assert prefs.status_code == 200, prefs.text
    return Citizen(person, headers, device.json()["id"])


def _placeholders(values) -> str:
    return ", ".join("?" for _ in values)


def test_two_workers_deliver_every_outbox_notice_exactly_once(cluster):
    n_events, n_citizens = 600, 4
    run = secrets.token_hex(4)
    citizens = [_citizen_with_device(cluster, i) for i in range(n_citizens)]
    dept = cluster.machine("cases:write")
    bodies = [event(1, "submitted", case_no=f"OB-{run}-{i:04d}", person=citizens[i % n_citizens].person,
                    event_id=f"ob-{run}-{i:04d}") for i in range(n_events)]

    def post(i: int) -> int:
        node = cluster.nodes[i % len(cluster.nodes)]
        with requests.Session() as s:
            for _ in range(20):  # a retriable 503 (none expected here) is retried with the same event id
                answer = s.post(node.api_url + EVENTS, json=bodies[i], headers=dept, timeout=30)
                if answer.status_code != 503:
                    return answer.status_code
                time.sleep(0.2)
        return answer.status_code

    dedupe = [f"%:ob-{run}-%"]

    def ours(sql: str, params=()):
        return cluster.query(sql, (*params, *dedupe))

    def drained() -> bool:
        pending = ours('SELECT COUNT(*) FROM "notify_outbox" WHERE "status" <> ? AND "dedupe_key" LIKE ?', ("done",))
        undelivered = ours('SELECT COUNT(*) FROM "notify_delivery" d JOIN "notify_outbox" o ON o."id" = d."outbox_id" '
                           'WHERE d."status" <> ? AND o."dedupe_key" LIKE ?', ("sent",))
        total = ours('SELECT COUNT(*) FROM "notify_outbox" WHERE "dedupe_key" LIKE ?')
        return total[0][0] == n_events and pending[0][0] == 0 and undelivered[0][0] == 0

    with LeaseWatch(cluster) as watch:
        for worker in cluster.workers:
            os.kill(worker.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                statuses = Counter(pool.map(post, range(n_events)))
            ingested = time.monotonic()
        finally:
            for worker in cluster.workers:
                os.kill(worker.pid, signal.SIGCONT)
        assert statuses == Counter({202: n_events}), statuses
        deadline = time.monotonic() + 180
        while not drained():
            assert time.monotonic() < deadline, "the outbox was not drained within 180 s"
            time.sleep(0.05)
        done = time.monotonic()
        owners = watch.owners()

    outbox = ours('SELECT "id", "user_id", "lease_owner", "status" FROM "notify_outbox" WHERE "dedupe_key" LIKE ?')
    ids = [r[0] for r in outbox]
    assert len(ids) == n_events == len(set(ids)) and {r[3] for r in outbox} == {"done"}
    # one inbox entry per notice, for the notice's owner
    inbox = cluster.query(f'SELECT "outbox_id", "user_id" FROM "notify_inbox" WHERE "outbox_id" IN ({_placeholders(ids)})',
                          tuple(ids))
    assert Counter(r[0] for r in inbox) == Counter(ids), "inbox entries missing or doubled"
    assert {r[0]: r[1] for r in inbox} == {r[0]: r[1] for r in outbox}
    # one delivery per (notice, device), sent with one attempt, and one push attempt row each
    deliveries = cluster.query(f'SELECT "id", "outbox_id", "device_id", "status", "attempts", "lease_owner" '
                               f'FROM "notify_delivery" WHERE "outbox_id" IN ({_placeholders(ids)})', tuple(ids))
    assert Counter(r[1] for r in deliveries) == Counter(ids), "a notice without its delivery, or with two"
    devices = {c.device for c in citizens}
    assert {r[2] for r in deliveries} == devices
    assert Counter((r[3], r[4]) for r in deliveries) == Counter({("sent", 1): n_events})
    delivery_ids = [r[0] for r in deliveries]
    attempts = cluster.query(f'SELECT "delivery_id", "status" FROM "notify_push_attempt" '
                             f'WHERE "delivery_id" IN ({_placeholders(delivery_ids)})', tuple(delivery_ids))
    assert Counter(r[0] for r in attempts) == Counter(delivery_ids), "a push sent twice (or never)"
    assert {r[1] for r in attempts} == {"sent"}

    # both workers did some of the work: the leases seen on each worker's database connections
    rows_by_worker = Counter(owners.get(r[2]) for r in outbox)
    pushes_by_worker = Counter(owners.get(r[5]) for r in deliveries)
    seconds = done - ingested
    print(f"\n[cluster figures] outbox with {len(cluster.workers)} workers: N={n_events} case events over {len(cluster.nodes)} nodes "
          f"for {n_citizens} citizens (1 device each), ingested in {ingested - started:.1f} s "
          f"({n_events / (ingested - started):.0f}/s) with the workers paused; the backlog drained in {seconds:.1f} s "
          f"= {n_events / seconds:.0f} notices/s (each an inbox entry, a live event and a push); "
          f"outbox rows by worker {dict(rows_by_worker)}, pushes by worker "
          f"{dict(pushes_by_worker)} (None: lease not sampled; {watch.samples} samples, "
          f"{len({r[2] for r in outbox})} outbox leases)")
    assert all(rows_by_worker.get(n, 0) + pushes_by_worker.get(n, 0) > 0 for n in range(len(cluster.workers))), (
        "a worker did no work", rows_by_worker, pushes_by_worker)
