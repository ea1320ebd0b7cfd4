"""Failover without loss: traffic through the balancer while one API node is SIGKILLed and the Redis
master of the hottest slot (the one every authenticated request reads: `auth:revocations-loaded`)
is SIGKILLed too.

The clients are what a department's system and an issuer's system must be: they retry a 503 (and a
request that got no answer at all) with the SAME idempotency key — a case event's `event_id` (UNIQUE
per client: a repeat returns the stored answer) and a licence's `reference` (UNIQUE per issuer: the
same reference and content return the licence already issued, 200 instead of 201). A request in
flight on the killed node has an outcome unknown to its client, so the retry with the same key is
what makes it exactly once. HAProxy answers it with its 503 problem page only when it was the
first request on its client connection: on a kept-alive connection (every client here) it closes
the connection without an answer, by design (http_ana.c `abort_keep_alive`: "the client is
required to retry"), so a client must treat "closed without a response" like a 503. A request that
meets the dead Redis master waits in redis-py's cluster retries until the replica has taken over,
or gets the app's 503.

Every answer must be a 2xx or a 503 problem with Retry-After; afterwards every case event and every
licence that got a 2xx is in the database exactly once (the retried ones included), with its
timeline entry and its notice. The node and the Redis node are started again at the end, so the
tests after this one find the whole cluster (the killed master rejoins as a replica).

Clients here wait at most 0.3 s before a retry instead of the Retry-After they are given, to keep
the run short: more retries only make the test harder.
"""
from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
import redis
import requests

from app.errors import BACKEND_RETRY_AFTER
from app.security.auth import REVOCATIONS_LOADED_KEY
from tests.cluster.test_stream_and_outbox import fresh_person, fresh_phone
from tests.fixtures.cases import CHAIN, EVENTS, event
from tests.helpers import PROBLEM
from tests.wallet.conftest import ISSUE, issue_body

pytestmark = pytest.mark.cluster

HOT_KEY = REVOCATIONS_LOADED_KEY  # read by every authenticated request (app/security/auth.py)
RETRIABLE = (0, 503)  # no answer at all (a connection reset), or a 503: retried with the same key
KILLED_NODE = 1  # api2


@dataclass
class Answer:
    kind: str
    started: float
    ended: float
    status: int
    code: str | None = None
    retry_after: str | None = None
    mimetype: str = ""
    attempt: int = 1


@dataclass
class Traffic:
    base_url: str
    dept: dict[str, str]
    issuer: dict[str, str]
    reader: dict[str, str]
    run: str
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[Answer] = field(default_factory=list)
    events_ok: dict[str, int] = field(default_factory=dict)  # event_id → the 2xx status
    events_retried: set[str] = field(default_factory=set)  # event ids sent more than once
    events_open: list[str] = field(default_factory=list)  # given up on (none expected)
    licences_ok: dict[str, tuple[str, int]] = field(default_factory=dict)  # reference → (licence id, status)
    licences_retried: set[str] = field(default_factory=set)
    licences_open: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, session: requests.Session, kind: str, method: str, path: str, attempt: int = 1, **kw):
        started = time.monotonic()
        try:
            response = session.request(method, self.base_url + path, timeout=30, **kw)
        except requests.RequestException as exc:
            answer = Answer(kind, started, time.monotonic(), 0, code=f"{type(exc).__name__}: {exc}"[:200], attempt=attempt)
            response = None
        else:
            mimetype = response.headers.get("content-type", "").split(";")[0]
            code = response.json().get("code") if mimetype == PROBLEM else None
            answer = Answer(kind, started, time.monotonic(), response.status_code, code,
                            response.headers.get("Retry-After"), mimetype, attempt)
        with self.lock:
            self.answers.append(answer)
        return answer, response

    def until_answered(self, session, kind: str, method: str, path: str, *, deadline: float = 60, **kw):
        """The same request (same key) until it is not retriable, at most `deadline` s; (answer,
        response, attempts) — None for the answer when it never got past 503."""
        until = time.monotonic() + deadline
        for attempt in itertools.count(1):
            answer, response = self.call(session, kind, method, path, attempt=attempt, **kw)
            if answer.status not in RETRIABLE:
                return answer, response, attempt
            if time.monotonic() > until:
                return None, response, attempt
            time.sleep(min(0.3, float(answer.retry_after or 0.3)))

    # --- the actors --------------------------------------------------------------------------------

    def department(self, actor: int, person: tuple[str, str]) -> None:
        with requests.Session() as session:
            for n in itertools.count():
                for seq, status in enumerate(CHAIN, start=1):
                    if self.stop.is_set():
                        return
                    event_id = f"fo-{self.run}-{actor}-{n:03d}-{seq}"
                    body = event(seq, status, case_no=f"FO-{self.run}-{actor}-{n:03d}", person=person,
                                 event_id=event_id)
                    answer, _response, attempts = self.until_answered(session, "case_event", "POST", EVENTS,
                                                                      json=body, headers=self.dept)
                    with self.lock:
                        if attempts > 1:
                            self.events_retried.add(event_id)
                        if answer is None:
                            self.events_open.append(event_id)
                            return
                        if not 200 <= answer.status < 300:
                            return  # a refusal: the assertions on the answers report it
                        self.events_ok[event_id] = answer.status

    def issuing(self, actor: int) -> None:
        with requests.Session() as session:
            for n in itertools.count():
                if self.stop.is_set():
                    return
                reference = f"fo-{self.run}-{actor}-{n:04d}"
                body = issue_body(fresh_person(n), reference=reference)
                answer, response, attempts = self.until_answered(session, "licence", "POST", ISSUE, json=body,
                                                                 headers=self.issuer)
                with self.lock:
                    if attempts > 1:
                        self.licences_retried.add(reference)
                    if answer is None:
                        self.licences_open.append(reference)
                        return
                    if answer.status not in (200, 201):
                        return
                    self.licences_ok[reference] = (response.json()["id"], answer.status)

    def reading(self) -> None:
        paths = itertools.cycle(("/api/v1/me", "/api/v1/notifications", "/api/v1/wallet/licences"))
        with requests.Session() as session:
            while not self.stop.is_set():
                self.call(session, "read", "GET", next(paths), headers=self.reader)
                time.sleep(0.02)

    # --- figures -----------------------------------------------------------------------------------

    def window(self, status: int = 503) -> tuple[float, float] | None:
        times = [(a.started, a.ended) for a in self.answers if a.status == status]
        return (min(s for s, _ in times), max(e for _, e in times)) if times else None


class HaproxyWatch(threading.Thread):
    """HAProxy's view of the servers (its stats socket) every 100 ms: when each state began."""

    def __init__(self, cluster, t0: float) -> None:
        super().__init__(daemon=True)
        self.cluster, self.t0 = cluster, t0
        self.stop = threading.Event()
        self.samples: list[tuple[float, dict[str, str]]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.samples.append((time.monotonic() - self.t0, self.cluster.haproxy_servers()))
            except OSError:
                pass
            time.sleep(0.1)

    def first(self, server: str, state: str) -> str:
        found = [t for t, status in self.samples if status.get(server, "").startswith(state)]
        return f"{found[0]:.1f} s" if found else "never"

    def none_up(self) -> str:
        """The intervals in which no API server was UP, e.g. "12.1-13.0 s"."""
        spans, begun = [], None
        for t, status in self.samples:
            down = not any(v == "UP" for k, v in status.items() if k.startswith("api/"))
            if down and begun is None:
                begun = t
            elif not down and begun is not None:
                spans.append(f"{begun:.1f}-{t:.1f} s")
                begun = None
        if begun is not None:
            spans.append(f"{begun:.1f} s-")
        return ", ".join(spans) or "never"


def _placeholders(values) -> str:
    return ", ".join("?" for _ in values)


def test_killing_an_api_node_and_a_redis_master_loses_nothing(cluster):
    reader_person = fresh_person(1)
    reader = cluster.citizen(reader_person, fresh_phone())
    traffic = Traffic(cluster.lb_url, dept=cluster.machine("cases:write"), issuer=cluster.machine("licences:issue"),
                      reader=reader, run=secrets.token_hex(3))
    applicants = [reader_person, fresh_person(2)]
    cluster.citizen(applicants[1], fresh_phone())
    threads = [threading.Thread(target=traffic.department, args=(i, applicants[i]), daemon=True) for i in range(2)]
    threads += [threading.Thread(target=traffic.issuing, args=(i,), daemon=True) for i in range(2)]
    threads += [threading.Thread(target=traffic.reading, daemon=True) for _ in range(2)]

    node = cluster.nodes[KILLED_NODE]
    killed_port = None
    t0 = time.monotonic()
    lb = HaproxyWatch(cluster, t0)
    try:
        lb.start()
        for thread in threads:
            thread.start()
        time.sleep(6)
        node_killed = time.monotonic() - t0
        cluster.kill_node(KILLED_NODE)
        time.sleep(2)
        redis_killed = time.monotonic() - t0
        killed_port = cluster.kill_redis_master(HOT_KEY)
        promoted = cluster.wait_redis_failover(HOT_KEY, timeout=30)
        failed_over = time.monotonic() - t0
        time.sleep(max(0.0, 26 - (time.monotonic() - t0)))
        traffic.stop.set()
        for thread in threads:
            thread.join(90)
        assert not any(t.is_alive() for t in threads), "an actor did not finish"
        ran = time.monotonic() - t0
    finally:
        traffic.stop.set()
        lb.stop.set()
        if killed_port is not None:  # the tests after this one get the whole cluster back
            cluster.restart_redis(killed_port)
            cluster.wait_redis_ok(60)
        if not node.alive:
            cluster.start_node(KILLED_NODE)

    answers = traffic.answers
    by_kind = {kind: Counter(a.status for a in answers if a.kind == kind) for kind in ("case_event", "licence", "read")}
    window = traffic.window()
    print(f"\n[cluster figures] failover: {len(answers)} requests in {ran:.1f} s through HAProxy; {node.name} SIGKILLed at "
          f"{node_killed:.1f} s (HAProxy: DOWN at {lb.first(f'api/{node.name}', 'DOWN')}), Redis master :{killed_port} "
          f"of {HOT_KEY!r} SIGKILLed at {redis_killed:.1f} s, replica :{promoted} serving at {failed_over:.1f} s")
    print(f"[cluster figures] HAProxy with no API server UP (every /readyz failing): {lb.none_up()}")
    print(f"[cluster figures] answers by status: {dict(Counter(a.status for a in answers))}; by kind: "
          f"{ {k: dict(v) for k, v in by_kind.items()} }")
    if window:
        print(f"[cluster figures] 503 window: {window[1] - window[0]:.1f} s (from {window[0] - t0:.1f} s to {window[1] - t0:.1f} s), "
              f"503s from HAProxy (Retry-After 1): {sum(1 for a in answers if a.status == 503 and a.retry_after == '1')}, "
              f"from the app (Retry-After {BACKEND_RETRY_AFTER}): "
              f"{sum(1 for a in answers if a.status == 503 and a.retry_after == str(BACKEND_RETRY_AFTER))}")
    else:
        print("[cluster figures] 503 window: none (no request answered 503)")
    dropped = [a for a in answers if a.status == 0]
    print(f"[cluster figures] closed without an answer (HAProxy's keep-alive abort): {len(dropped)}, at "
          f"{sorted(round(a.ended - t0, 2) for a in dropped)} s")
    slow = sorted((a for a in answers if a.status != 503), key=lambda a: a.ended - a.started)[-1:]
    if slow:
        print(f"[cluster figures] slowest answer: {slow[0].kind} {slow[0].status} in {slow[0].ended - slow[0].started:.1f} s")
    print(f"[cluster figures] case events: {len(traffic.events_ok)} accepted, {len(traffic.events_retried)} of them retried; "
          f"licences: {len(traffic.licences_ok)} issued, {len(traffic.licences_retried)} retried, "
          f"{sum(1 for _, s in traffic.licences_ok.values() if s == 200)} answered 200 (issued by an earlier attempt)")

    # every answer a success or a retriable 503 problem with Retry-After — or, for a request in flight
    # on the node when it was killed, its keep-alive connection closed without an answer: HAProxy's
    # way (http_ana.c, abort_keep_alive) to make a client retry a request whose server connection
    # died on a connection that had served one before. Nothing else goes unanswered.
    stray = [(a.kind, round(a.started - t0, 2), round(a.ended - t0, 2), a.code) for a in dropped
             if not (a.started - t0 <= node_killed + 1.5 and a.ended - t0 <= node_killed + 2.0
                     and "Remote end closed connection without response" in (a.code or ""))]
    assert not stray, stray
    unexpected = Counter((a.kind, a.status, a.code) for a in answers if a.status not in (0, 200, 201, 202, 503))
    assert not unexpected, unexpected
    for a in answers:
        if a.status == 503:
            assert a.mimetype == PROBLEM and a.code == "service_unavailable", (a.kind, a.mimetype, a.code)
            assert a.retry_after and int(a.retry_after) >= 1, (a.kind, a.retry_after)
    assert not traffic.events_open and not traffic.licences_open, (traffic.events_open, traffic.licences_open)
    assert len(traffic.events_ok) >= 20 and len(traffic.licences_ok) >= 10, (
        len(traffic.events_ok), len(traffic.licences_ok))

    # every accepted case event stored once, applied, with its timeline entry and its notice
    prefix = f"fo-{traffic.run}-%"
    stored = Counter(r[0] for r in cluster.query('SELECT "event_id" FROM "cases_event" WHERE "event_id" LIKE ? '
                                                 'AND "state" = ?', (prefix, "applied")))
    accepted = Counter(traffic.events_ok.keys())
    assert stored == accepted, ("case events lost or stored twice", list((accepted - stored).items())[:5],
                                list((stored - accepted).items())[:5])
    assert cluster.query('SELECT COUNT(*) FROM "cases_event" WHERE "event_id" LIKE ? AND "state" <> ?',
                         (prefix, "applied"))[0][0] == 0
    notices = Counter(r[0].rsplit(":", 1)[1] for r in cluster.query(
        'SELECT "dedupe_key" FROM "notify_outbox" WHERE "kind" = ? AND "dedupe_key" LIKE ?',
        ("case_status", f"%:{prefix}")))
    assert notices == accepted, "a notice lost or doubled"
    timeline = cluster.query('SELECT COUNT(*) FROM "cases_timeline" t JOIN "cases_case" c ON c."id" = t."case_id" '
                             'WHERE c."case_no" LIKE ? AND t."kind" = ?', (f"FO-{traffic.run}-%", "status"))[0][0]
    assert timeline == len(traffic.events_ok)

    # every issued licence stored once under its reference, with the id its client was given
    references = list(traffic.licences_ok)
    rows = cluster.query(f'SELECT "reference", "id" FROM "licence" WHERE "reference" IN ({_placeholders(references)})',
                         tuple(references))
    assert Counter(r[0] for r in rows) == Counter(references), "licences lost or issued twice"
    assert {r[0]: r[1] for r in rows} == {ref: lid for ref, (lid, _s) in traffic.licences_ok.items()}
    assert cluster.query('SELECT COUNT(*) FROM "licence" WHERE "reference" LIKE ?', (prefix,))[0][0] == len(references)


def test_a_lost_shard_is_answered_503_not_500(cluster):
    """A shard with no node left (its master killed, its replica told not to take over): Redis
    Cluster refuses every command with CLUSTERDOWN, on the healthy shards too, and redis-py raises
    ClusterDownError once its retries are spent. The nodes must answer that as the outage it is — a
    503 problem with Retry-After, as for a Redis that cannot be reached — not as a 500. Asked of each
    node directly: the balancer, whose health checks fail meanwhile, would answer 503 itself. The
    shard comes back (the master restarted, empty) and so does the service."""
    headers = cluster.citizen(fresh_person(3), fresh_phone())
    client = cluster.redis()
    try:
        master = client.get_node_from_key(HOT_KEY).port
    finally:
        client.close()
    with redis.Redis(port=master, decode_responses=True) as node:
        master_id, nodes = node.execute_command("CLUSTER", "MYID"), node.execute_command("CLUSTER", "NODES")
    lines = [line.split() for line in (nodes if isinstance(nodes, str) else "").splitlines()]
    replicas = [int(parts[1].split("@")[0].rsplit(":", 1)[1]) for parts in lines
                if "slave" in parts[2].split(",") and parts[3] == master_id]
    assert replicas, ("no replica of the hot slot's master", nodes)

    def on_replicas(*command: str) -> list:
        answers = []
        for port in replicas:
            with redis.Redis(port=port, decode_responses=True) as replica:
                answers.append(replica.execute_command(*command))
        return answers

    killed = None
    try:
        on_replicas("CONFIG", "SET", "cluster-replica-no-failover", "yes")
        killed = cluster.kill_redis_master(HOT_KEY)
        deadline = time.monotonic() + 20  # cluster-node-timeout (2 s), then the master is failed and the cluster down
        while "cluster_state:fail" not in str(on_replicas("CLUSTER", "INFO")):
            assert time.monotonic() < deadline, "the cluster did not go down"
            time.sleep(0.2)

        asks = [(n, what) for n in range(len(cluster.nodes)) for what in (
            ("GET", "/api/v1/me", {"headers": headers}),
            ("POST", "/api/v1/auth/sms-codes", {"json": {"phone": fresh_phone()}}),
            ("GET", "/api/v1/notifications", {"headers": headers}))]

        def ask(job) -> tuple[str, str, int, str | None, str | None]:
            n, (method, path, kw) = job
            response = requests.request(method, cluster.nodes[n].api_url + path, timeout=90, **kw)
            problem = response.headers.get("content-type", "").startswith(PROBLEM)
            return (cluster.nodes[n].name, f"{method} {path}", response.status_code,
                    response.json().get("code") if problem else None, response.headers.get("Retry-After"))

        started = time.monotonic()
        with ThreadPoolExecutor(len(asks)) as pool:
            answers = list(pool.map(ask, asks))
        print(f"\n[cluster figures] lost shard (master :{killed} killed, replica {replicas} kept from taking over): "
              f"{Counter(a[2:] for a in answers)} in {time.monotonic() - started:.1f} s")
        assert all(status == 503 and code == "service_unavailable" and retry_after
                   for _n, _w, status, code, retry_after in answers), answers
    finally:
        if killed is not None:
            cluster.restart_redis(killed)
        on_replicas("CONFIG", "SET", "cluster-replica-no-failover", "no")
        cluster.wait_redis_ok(60)
        cluster.wait_lb(60)
    # and back: the same requests succeed through the balancer
    me_again = requests.get(cluster.lb_url + "/api/v1/me", headers=headers, timeout=60)
    assert me_again.status_code == 200, me_again.text
