"""PostgreSQL connections dropped mid-request — issue 9's fault test, scripted.

The app under gunicorn (2 workers) reaches PostgreSQL through a TCP proxy (tests/fakes/tcp_proxy.py)
while citizens present licences that a clerk verifies (one transaction: the code consumed, its
check row and its audit row), a department pushes case events (the event row, the case, the
timeline entry, the outbox notice and the audit row in one transaction) and new citizens log in by
SMS (the account, the session, the refresh token). Mid-traffic every connection is dropped at once,
several times, at the proxy (a network cut: the app's sockets are reset) and in the server
(`pg_terminate_backend`, as an administrator or a failover does), half of the times after the
network stalled so that requests are caught mid-transaction; then PostgreSQL is unreachable for a
while (connections refused). Asserted: no 500 and no traceback, a dropped connection is a 503
problem+json with Retry-After; while the database is unreachable every request that needs it is
a 503 and /readyz says not ready; no partial writes; every event the department retried is stored
exactly once; a code verified once is never accepted again; the pool recovers by itself (every kind
of request succeeds again after each drop and after the outage).
"""
from __future__ import annotations

import time
from collections import Counter
from urllib.parse import urlparse

import pytest
import requests

from tests import vectors
from tests.fakes.tcp_proxy import TcpProxy
from tests.faults.conftest import ON_POSTGRES, Recorder, pg_admin, unhandled_errors, wait_for
from tests.faults.traffic import Traffic, assert_events_stored_once, assert_every_answer_clean
from tests.wallet.conftest import MATTER, VERIFY

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="a dropped server connection is a PostgreSQL fault: "
                                                        "runs when TEST_DATABASE_URL is a postgresql:// URL")

HOLDERS = [(vectors.ZHANG_SAN, vectors.PHONES[0]), (vectors.LI_SI, vectors.PHONES[1])]
DROPS = 8
NEEDS_DATABASE = ("present", "verify", "case_event")  # (a login fails at its code or not at all: timing)
HOLD = 0.3  # seconds the network stalls before a drop: every actor is then mid-request


def _terminate_backends(database_url: str) -> int:
    """pg_terminate_backend every other session of the app's database; how many were ended."""
    admin = pg_admin(database_url)
    try:
        cursor = admin.cursor()
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return sum(1 for (ended,) in cursor.fetchall() if ended)
    finally:
        admin.close()


def _drop(n: int, proxy: TcpProxy, database_url: str) -> int:
    """Drop n: a cut at the proxy or backends terminated, straight away or after the network stalled
    (requests then wait mid-statement, mid-transaction, mid-COMMIT); the connections dropped."""
    stalled = n % 2 == 1
    if stalled:
        proxy.pause()
        time.sleep(HOLD)
    try:
        return proxy.cut() if n % 4 < 2 else _terminate_backends(database_url)
    finally:
        proxy.resume()


def _database_down(proxy: TcpProxy, rec: Recorder) -> tuple[float, float]:
    """PostgreSQL unreachable for a while (every connection dropped, new ones refused) until each
    endpoint that needs it was called meanwhile; the monotonic times it went down and came back."""
    proxy.refuse()
    proxy.cut()
    went_down = time.monotonic()
    try:
        wait_for(lambda: all(any(a.started >= went_down for a in rec.of(what)) for what in (*NEEDS_DATABASE, "readyz")),
                 15, "every endpoint called while the database is down")
    finally:
        coming_back = time.monotonic()
        proxy.allow()
    return went_down, coming_back


def _progress(traffic: Traffic) -> tuple[int, int, int]:
    return len(traffic.events_done), len(traffic.verified()), len(traffic.logins)


def _wait_for_progress(traffic: Traffic, before: tuple[int, int, int], when: str) -> None:
    """Until an event, a verification and a login each succeeded again (the pool recovered)."""
    wait_for(lambda: all(now > then for now, then in zip(_progress(traffic), before)), 20, f"progress {when}")


def _assert_no_partial_writes(rig) -> None:
    # Presentations: used ⇔ one "verified" check row ⇔ one successful audit row.
    used = {r[0] for r in rig.query('SELECT "id" FROM "wallet_presentation" WHERE "status" = ?', ("used",))}
    checks = Counter(r[0] for r in rig.query('SELECT "presentation_id" FROM "wallet_presentation_check" '
                                             'WHERE "result" = ?', ("verified",)))
    audited = Counter(r[0] for r in rig.query('SELECT "target" FROM "audit_event" WHERE "action" = ? AND '
                                              '"outcome" = ?', ("wallet.presentation_verified", "success")))
    assert checks == Counter(used) and audited == Counter(used), (len(used), len(checks), len(audited))
    # Logins: no account without its session, no session without its refresh token.
    orphans = rig.query('SELECT COUNT(*) FROM "user" u WHERE NOT EXISTS (SELECT 1 FROM "auth_session" s '
                        'WHERE s."principal_id" = u."id")')[0][0]
    tokenless = rig.query('SELECT COUNT(*) FROM "auth_session" s WHERE NOT EXISTS (SELECT 1 FROM "refresh_token" t '
                          'WHERE t."session_id" = s."id")')[0][0]
    assert (orphans, tokenless) == (0, 0)


@pytest.mark.slow
def test_database_connections_dropped_mid_request(rig, private_redis):
    issuer, dept = rig.machine("licences:issue"), rig.machine("cases:write")
    holders = [(rig.citizen(person, phone), rig.licence(issuer, person, f"ref-{n}"))
               for n, (person, phone) in enumerate(HOLDERS)]
    clerk = rig.clerk()
    rig.release_connections()
    database = urlparse(rig.database_url)
    with TcpProxy(database.hostname, database.port or 5432) as proxy:
        rig.serve(DATABASE_URL=database._replace(netloc=database.netloc.replace(
            f"{database.hostname}:{database.port or 5432}", f"127.0.0.1:{proxy.port}")).geturl())
        rec = Recorder(rig.url)
        traffic = Traffic(rec, holders=holders, clerk=clerk, dept=dept)
        traffic.start()
        try:
            wait_for(lambda: all(_progress(traffic)), 20, "traffic under way")
            dropped = []
            for n in range(DROPS):
                before = _progress(traffic)
                dropped.append(_drop(n, proxy, rig.database_url))
                # the next drop only once every kind of request went through again: each drop hits a
                # pool that recovered from the last one
                _wait_for_progress(traffic, before, f"after drop {n + 1}")
            down = _database_down(proxy, rec)
            wait_for(lambda: any(a.status == 200 and a.started > down[1] for a in rec.of("readyz")), 10,
                     "ready after the database came back")
            _wait_for_progress(traffic, _progress(traffic), "after the database came back")
        finally:
            traffic.finish()
        assert sum(dropped) >= DROPS, dropped  # each drop found connections in use or in the pool
        with requests.Session() as session:  # every code verified once is refused now
            for qr in traffic.verified():
                again = session.post(rig.url + VERIFY, json={"qr_text": qr, "matter": MATTER}, headers=clerk, timeout=30)
                assert again.status_code == 409 and again.json()["code"] == "presentation_used", again.text
    assert all(statuses.count(200) <= 1 for statuses in traffic.verify_results.values())
    cut_short = Counter(a.what for a in rec.answers if a.status == 503 and a.ended < down[0])
    assert cut_short["case_event"] and cut_short["present"] + cut_short["verify"], cut_short  # drops hit requests
    assert_every_answer_clean(rec, unavailable=("service_unavailable", "database_unavailable"))
    for what in NEEDS_DATABASE:  # while PostgreSQL was unreachable: "try later", nothing else
        answers = rec.of(what, between=down)
        assert answers and all(a.status == 503 for a in answers), (what, Counter(a.status for a in answers))
    probes = rec.of("readyz", between=down)
    assert probes and all(a.status == 503 and a.body["checks"]["database"] == "unreachable" for a in probes)
    assert_events_stored_once(rig, traffic)
    _assert_no_partial_writes(rig)
    strays = rig.stop()
    assert not strays, strays
    assert not unhandled_errors(rig.server_log()), unhandled_errors(rig.server_log())[:5]
