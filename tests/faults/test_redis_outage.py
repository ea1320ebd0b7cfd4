"""Redis killed (SIGKILL) and restarted during traffic — issue 9's fault test, scripted.

The real app under gunicorn (2 workers) serves citizens creating presentations (亮证) that a clerk
verifies, a department system pushing case events (retrying each until it gets a 2xx, with the same
event_id and body, as a real one does), SMS logins, and a readiness probe. Redis dies twice: the
first time it comes back empty, the second time restored from a snapshot taken while some codes
were still live (a Redis restored from a backup). Asserted: while Redis is down every answer of an
endpoint that needs it is a 503 problem+json with `Retry-After`; no 500 at all, no traceback in the
servers' log; no verified QR code is accepted again (the database backstop); every case event is
stored exactly once with its timeline entry, its outbox notice and its audit row; /readyz says not
ready while Redis is down and ready after; the app recovers by itself (a login works again within
seconds of the restart).
"""
from __future__ import annotations

import time
from collections import Counter

import pytest
import redis
import requests

from tests import vectors
from tests.faults.conftest import Recorder, unhandled_errors, wait_for
from tests.faults.traffic import Traffic, assert_events_stored_once, assert_every_answer_clean
from tests.helpers import bearer, latest_code
from tests.wallet.conftest import MATTER, VERIFY, present_url
from wallet.presentation import decode_qr

NEEDS_REDIS = ("present", "verify", "sms_code", "sms_outbox", "login")
HOLDERS = [(vectors.ZHANG_SAN, vectors.PHONES[0]), (vectors.LI_SI, vectors.PHONES[1]),
           (vectors.WANG_WU, vectors.PHONES[2])]
BACKSTOP = (vectors.OUYANG, vectors.PHONES[3])  # codes made live before the snapshot, used after it


def _outage(redis_server, traffic: Traffic, *, from_snapshot: bool) -> tuple[float, float]:
    """Kill Redis, keep the traffic going until every Redis-backed endpoint was called after the
    kill (at least 2 s), restart it; the monotonic times of the kill and of the restart's start."""
    redis_server.stop()
    killed_at = time.monotonic()
    called = ("present", "verify", "sms_code", "readyz")  # (a login stops at its refused code)
    try:
        wait_for(lambda: time.monotonic() - killed_at >= 2.0 and all(
            any(a.started >= killed_at for a in traffic.rec.of(what)) for what in called), 15)
    except AssertionError:
        raise AssertionError(("endpoints not called while Redis was down", Counter(
            (a.what, a.status, round(a.ended - a.started, 1)) for a in traffic.rec.answers if a.ended >= killed_at)))
    restarting_at = time.monotonic()  # from here on an answer may come from the new server
    redis_server.start(from_snapshot=from_snapshot)
    return killed_at, restarting_at


def _recovered(traffic: Traffic, since: float) -> float:
    """Seconds from `since` to the first successful login; waits until logins, verifications and
    readiness are all back."""
    rec = traffic.rec
    wait_for(lambda: any(t > since for t in traffic.logins)
             and any(a.status == 200 and a.started > since for a in rec.of("verify"))
             and any(a.status == 200 and a.started > since for a in rec.of("readyz")), 15, "recovery after restart")
    return min(t for t in traffic.logins if t > since) - since


def _backstop_codes(rig, session: requests.Session, holder: dict, licences: list[str]) -> list[str]:
    """Live codes of the backstop licences (their nonces are in Redis now)."""
    codes = []
    for licence in licences:
        answer = session.post(rig.url + present_url(licence), json={}, headers=holder, timeout=30)
        assert answer.status_code == 201, answer.text
        codes.append(answer.json()["qr_text"])
    return codes


def _assert_down_answers(traffic: Traffic, window: tuple[float, float]) -> None:
    rec = traffic.rec
    for what in NEEDS_REDIS:
        answers = rec.of(what, between=window)
        assert all(a.status == 503 for a in answers), (what, Counter(a.status for a in answers))
    assert rec.of("present", between=window) and rec.of("verify", between=window), "no traffic while down"
    probes = rec.of("readyz", between=window)
    assert probes and all(a.status == 503 and a.body["checks"]["redis"] == "unreachable" for a in probes), probes


def _logged_out(rig) -> dict[str, str]:
    """Bearer headers of a session that logged out (its access token is still within its life)."""
    client = rig.app.test_client()
    phone = vectors.PHONES[4]
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    login = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)}).get_json()
    headers = bearer(login["access_token"])
    assert client.post("/api/v1/auth/logout", headers=headers, json={"refresh_token": login["refresh_token"]}
                       ).status_code == 204
    return headers


@pytest.mark.slow
def test_redis_killed_and_restarted_during_traffic(rig, private_redis):
    issuer, dept = rig.machine("licences:issue"), rig.machine("cases:write")
    logged_out = _logged_out(rig)
    holders = [(rig.citizen(person, phone), rig.licence(issuer, person, f"ref-{n}"))
               for n, (person, phone) in enumerate(HOLDERS)]
    backstop_holder = rig.citizen(*BACKSTOP)
    backstop_licences = [rig.licence(issuer, BACKSTOP[0], f"backstop-{n}") for n in range(3)]
    clerk = rig.clerk()
    rig.serve()
    rec = Recorder(rig.url)
    traffic = Traffic(rec, holders=holders, clerk=clerk, dept=dept)
    traffic.start()
    try:
        wait_for(lambda: len(traffic.verified()) >= 5 and len(traffic.events_done) >= 6 and traffic.logins, 20,
                 "traffic under way")
        first = _outage(private_redis, traffic, from_snapshot=False)
        first_login_after = _recovered(traffic, first[1])
        # an empty Redis forgot the logout: the revocation comes back from the database
        assert requests.get(rig.url + "/api/v1/me", headers=logged_out, timeout=30).status_code == 401

        with requests.Session() as session:  # live codes in the snapshot, used after it
            backstop = _backstop_codes(rig, session, backstop_holder, backstop_licences)
            private_redis.snapshot()
            for qr in backstop:
                answer = session.post(rig.url + VERIFY, json={"qr_text": qr, "matter": MATTER}, headers=clerk, timeout=30)
                assert answer.status_code == 200, answer.text
        second = _outage(private_redis, traffic, from_snapshot=True)
        second_login_after = _recovered(traffic, second[1])
        assert requests.get(rig.url + "/api/v1/me", headers=logged_out, timeout=30).status_code == 401
    finally:
        traffic.finish()

    restored = redis.Redis.from_url(private_redis.url)
    assert all(restored.keys(f"wallet:pres:*{decode_qr_nonce(rig, qr)}") for qr in backstop), \
        "the restored Redis should hold the backstop codes again"
    restored.close()
    with requests.Session() as session:  # every code verified once is refused now, whatever Redis says
        for qr in traffic.verified() + backstop:
            again = session.post(rig.url + VERIFY, json={"qr_text": qr, "matter": MATTER}, headers=clerk, timeout=30)
            assert again.status_code == 409 and again.json()["code"] == "presentation_used", again.text
    assert all(statuses.count(200) <= 1 for statuses in traffic.verify_results.values())

    for window in (first, second):
        _assert_down_answers(traffic, window)
    assert_every_answer_clean(rec)
    assert first_login_after < 5 and second_login_after < 5, (first_login_after, second_login_after)
    assert_events_stored_once(rig, traffic)
    strays = rig.stop()
    assert not strays, strays
    assert not unhandled_errors(rig.server_log()), unhandled_errors(rig.server_log())[:5]


def decode_qr_nonce(rig, qr: str) -> str:
    with rig.app.app_context():
        return decode_qr(qr)[0].hex()


def test_a_logged_out_session_stays_out_when_redis_loses_its_data(app, client, login_citizen):
    tokens = login_citizen(vectors.PHONES[0])
    headers = bearer(tokens["access_token"])
    assert client.post("/api/v1/auth/logout", headers=headers, json={"refresh_token": tokens["refresh_token"]}
                       ).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    app.extensions["redis"].flushdb()  # what a restart without persistence leaves
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # (reloaded into Redis by then)
    other = bearer(login_citizen(vectors.PHONES[1])["access_token"])
    assert client.get("/api/v1/me", headers=other).status_code == 200
