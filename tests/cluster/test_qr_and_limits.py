"""Exactly-once and rate limits across nodes: what one process's lock or counter cannot prove.

A QR code (and a manual code) scanned by many counters at once, each scan sent straight to one of
the three API nodes, is accepted once: the presentation's state lives in PostgreSQL and Redis,
not in a node. A per-phone SMS limit and a per-IP map limit, hit from all nodes at once, let
through exactly the configured number: the counters are Redis Cluster keys every node shares.

Each test prints its figures (requests, answers by status and code, wall time) for the README.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.cluster

VERIFY = "/api/v1/counter/verifications"
MATTER = "identity_check"  # tests/wallet/conftest.py: accepts the driving licence
PROBLEM = "application/problem+json"


Answer = tuple[int, "str | None", "str | None"]  # status, problem code, Retry-After


def _fire(calls: list[tuple[str, str, dict]], threads: int | None = None) -> tuple[list[Answer], float]:
    """Send (method, url, kwargs) requests from `threads` threads released together; each answer as
    (status, problem code, Retry-After), in the order of `calls`, and the wall time."""
    threads = threads or len(calls)
    barrier = threading.Barrier(min(threads, len(calls)))
    local = threading.local()

    def one(call: tuple[str, str, dict]) -> Answer:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            barrier.wait(timeout=60)
        method, url, kwargs = call
        try:
            response = local.session.request(method, url, timeout=60, **kwargs)
        except requests.RequestException as exc:
            return 0, type(exc).__name__, None
        code = None
        if response.headers.get("content-type", "").split(";")[0] == PROBLEM:
            code = response.json().get("code")
        return response.status_code, code, response.headers.get("Retry-After")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        answers = list(pool.map(one, calls))
    return answers, time.monotonic() - started


def _tally(answers) -> dict[str, int]:
    return dict(sorted(Counter(f"{status} {code}" if code else str(status) for status, code, _ in answers).items()))


def _report(capsys, title: str, answers, seconds: float, **more) -> None:
    with capsys.disabled():
        extra = "".join(f", {k}={v}" for k, v in more.items())
        print(f"\n[cluster figures] {title}: {len(answers)} requests in {seconds:.2f} s: {_tally(answers)}{extra}")


@pytest.fixture(scope="module")
def issuer(cluster):
    return cluster.machine("licences:issue")


def _shown(cluster, issuer) -> tuple[str, dict]:
    """A fresh citizen's freshly issued licence, shown: (licence id, the presentation answer)."""
    person = cluster.person()
    holder = cluster.citizen(person, cluster.phone())
    licence_id = cluster.licence(issuer, person, f"qr-{secrets.token_hex(4)}")
    response = requests.post(f"{cluster.lb_url}/api/v1/wallet/licences/{licence_id}/presentations", json={},
                             headers=holder, timeout=30)
    assert response.status_code == 201, response.text
    return licence_id, response.json()


def _checks(cluster, licence_id: str) -> dict[str, int]:
    rows = cluster.query("SELECT c.result, COUNT(*) FROM wallet_presentation_check c "
                         "JOIN wallet_presentation p ON p.id = c.presentation_id WHERE p.licence_id = ? "
                         "GROUP BY c.result", (licence_id,))
    return {result: count for result, count in rows}


@pytest.mark.parametrize("path", ["qr_text", "manual_code"])
def test_a_code_is_accepted_once_under_parallel_scans_on_every_node(cluster, issuer, capsys, path):
    """30 counters scan one code at the same moment, 10 straight to each node: one 200, 29
    `presentation_used` (409), one verification in the database and the presentation used.
    Manual codes are limited per clerk (COUNTER_MANUAL_CODE_PER_MINUTE), so three clerks share them."""
    licence_id, shown = _shown(cluster, issuer)
    clerks = [cluster.clerk(f"clerk.qr{i}") for i in range(1, 4)]
    scans = 30
    calls = [("POST", cluster.nodes[i % len(cluster.nodes)].api_url + VERIFY,
              {"json": {path: shown[path], "matter": MATTER}, "headers": clerks[(i // 3) % 3]})
             for i in range(scans)]
    answers, seconds = _fire(calls)
    _report(capsys, f"{path} scanned by 30 counters over {len(cluster.nodes)} nodes", answers, seconds,
            checks=_checks(cluster, licence_id))

    statuses = Counter(status for status, _, _ in answers)
    assert statuses[200] == 1, _tally(answers)
    assert [(s, c) for s, c, _ in answers if s != 200] == [(409, "presentation_used")] * (scans - 1), _tally(answers)
    assert _checks(cluster, licence_id).get("verified") == 1
    state = cluster.query("SELECT status, verified_by IS NOT NULL FROM wallet_presentation WHERE licence_id = ?",
                          (licence_id,))
    assert state == [("used", True)]


def test_the_per_phone_sms_limit_holds_across_nodes(cluster, capsys):
    """One phone asks for login codes from all nodes at once, in waves a resend cooldown apart:
    exactly SMS_PER_PHONE_HOUR are sent over all the waves, each refusal is 429 with Retry-After,
    and once the hour's quota is spent every node refuses with `sms_limit_reached`."""
    config = cluster.app.config
    per_hour, cooldown = config["SMS_PER_PHONE_HOUR"], config["SMS_RESEND_COOLDOWN"]
    assert per_hour < config["SMS_PER_PHONE_DAY"]  # the hourly limit is the one reached
    phone = cluster.phone()
    waves, per_wave, everything = per_hour + 2, 3 * len(cluster.nodes), []
    wave_answers: list[list] = []
    started = time.monotonic()
    for _ in range(waves):
        calls = [("POST", cluster.nodes[i % len(cluster.nodes)].api_url + "/api/v1/auth/sms-codes",
                  {"json": {"phone": phone}}) for i in range(per_wave)]
        answers, _ = _fire(calls)
        wave_answers.append(answers)
        everything += answers
        time.sleep(cooldown + 0.3)
    _report(capsys, f"SMS codes for one phone, {waves} waves of {per_wave} over {len(cluster.nodes)} nodes "
            f"(SMS_PER_PHONE_HOUR={per_hour}, cooldown {cooldown} s)", everything, time.monotonic() - started,
            accepted_per_wave=[sum(1 for s, _, _ in w if s == 202) for w in wave_answers])

    assert sum(1 for s, _, _ in everything if s == 202) == per_hour, _tally(everything)
    refused = [(s, c, r) for s, c, r in everything if s != 202]
    assert refused and all(s == 429 and c in ("sms_resend_too_soon", "sms_limit_reached") and r and int(r) >= 1
                           for s, c, r in refused), _tally(everything)
    assert {(s, c) for s, c, _ in wave_answers[-1]} == {(429, "sms_limit_reached")}


def test_the_per_ip_map_limit_holds_across_nodes(cluster, capsys):
    """One client address (X-Forwarded-For, which each node trusts for one hop as it trusts HAProxy)
    asks for nearby halls 20 % more often than MAP_PER_IP_MINUTE, spread over all nodes at once:
    exactly MAP_PER_IP_MINUTE answers 200, the rest 429 `map_rate_limited` with Retry-After."""
    per_minute = cluster.app.config["MAP_PER_IP_MINUTE"]
    address = f"203.0.113.{secrets.randbelow(250) + 1}"  # TEST-NET-3: nobody else's counter
    total = per_minute + per_minute // 5
    calls = [("GET", cluster.nodes[i % len(cluster.nodes)].api_url + "/api/v1/map/halls/nearby",
              {"params": {"lat": 31.82, "lng": 117.23}, "headers": {"X-Forwarded-For": address}})
             for i in range(total)]
    answers, seconds = _fire(calls, threads=24)
    _report(capsys, f"nearby halls from one address over {len(cluster.nodes)} nodes "
            f"(MAP_PER_IP_MINUTE={per_minute})", answers, seconds)

    assert seconds < 55, "the requests took most of the limit's one-minute window: the count proves nothing"
    assert sum(1 for s, _, _ in answers if s == 200) == per_minute, _tally(answers)
    refused = [(s, c, r) for s, c, r in answers if s != 200]
    assert len(refused) == total - per_minute
    assert all(s == 429 and c == "map_rate_limited" and r and int(r) >= 1 for s, c, r in refused), _tally(answers)


def test_the_balancer_answers_the_apps_own_503_when_no_node_can(cluster, capsys):
    """With every API server taken out of rotation (stats socket), HAProxy's own answer is the app's
    503 problem (app/errors.py), with Retry-After, so a client has one way to handle both; the
    stream path has its own backend and stays up."""
    from app.errors import problem_response
    from scripts.cluster import haproxy

    with cluster.app.test_request_context("/"):
        own = problem_response(503, "service_unavailable", "服务暂时不可用，请稍后再试。")
        expected = json_of(own.get_data())
    names = [n.name for n in cluster.nodes]
    try:
        for name in names:
            haproxy.command(cluster.socket_path, f"disable server api/{name}")
        response = requests.post(cluster.lb_url + "/api/v1/auth/sms-codes", json={"phone": cluster.phone()},
                                 timeout=10)
        with capsys.disabled():
            print(f"\n[cluster figures] balancer with no API server: {response.status_code} "
                  f"Retry-After={response.headers.get('Retry-After')} {response.text}")
        assert response.status_code == 503
        assert response.headers["Content-Type"] == PROBLEM
        assert response.headers["Retry-After"] == "1"
        assert response.json() == expected
        stream = requests.get(cluster.lb_url + "/api/v1/notifications/stream", timeout=10)
        assert stream.status_code == 401  # the stream servers still answer (no token: 401)
    finally:
        for name in names:
            haproxy.command(cluster.socket_path, f"enable server api/{name}")
        cluster.wait_lb(timeout=20)
    assert requests.get(cluster.lb_url + "/readyz", timeout=10).status_code == 200


def json_of(data: bytes) -> dict:
    body = json.loads(data)
    body.pop("request_id", None)
    return body
