"""Business and saturation metrics (issue 21): what the SLOs, dashboards and alerts of deploy/prometheus
are written against. `CONTRACT` lists every name; tests/kernel/test_business_metrics.py proves each is
exported, and the rules' tests read the same list.

Counters count once per outcome; `result` is "ok" or the stable problem `code` of the refusal (a bounded
set: the codes are constants of the code base; an answer without one is `http_<status>`):

  yiwang_logins_total{method, result}        method: sms, wechat, ncid, registry (real-name check against
                                             the population registry), staff, refresh
  yiwang_verifications_total{kind, result}   kind: counter (a QR or manual code at a counter), signature
                                             (third-party verification), offline (wallet.offline.verify,
                                             where it runs: the counter devices verify on their own, so the
                                             server's count is the CLI's and stays 0 in the API)
  yiwang_signatures_total{kind, result}      kind: single, batch (the citizen's authorise of cloud signing)
  yiwang_case_events_total{result}           department case events, one per event (a backfill counts each)
  yiwang_sm2_operations_total{op}            op: sign, verify — each SM2 computation (a memoised verify is not one)

Request outcomes are counted from the route (`ROUTES`: URL rule → method, counter, labels) in the
request-metrics hook (app/health.py): one dict lookup a request, the refusal's code read from its
problem body only for a refusal. They go through the request tally (app/request_metrics.py), written
at most once a second, as the request counts are.

Gauges are made on first use (`gauge(name)`), so a process exports only what it measures — an API worker
never shows a calendar year of 0 it never looked up. Where each is measured (and scraped):

  yiwang_db_pool_connections{state}, yiwang_db_pool_max_connections    every process with an app and a
  yiwang_redis_ping_seconds, yiwang_redis_up                           request tally (API workers, the
                                                                       worker), every 5 s from its flush thread
  yiwang_sse_connections                                               the stream server (notify/asgi.py)
  yiwang_outbox_pending_messages, yiwang_outbox_oldest_pending_age_seconds,
  yiwang_certificate_expiry_timestamp_seconds{kind, name}, yiwang_crl_next_update_timestamp_seconds{name},
  yiwang_calendar_last_year_covered                                    the notify worker, every 15 s
                                                                       (app/state_metrics.py)

Under multi-process mode (granian, gunicorn) the pool and Redis gauges add up (`livesum`) or take the
worst (`livemax` / `livemin`) over the live workers; the database-derived ones keep the most recent
measurement (`mostrecent`: every process measures the same rows).
"""
from __future__ import annotations

import re
import threading
from typing import Any

from prometheus_client import Counter, Gauge

from app.request_metrics import TALLY

LOGINS = Counter("yiwang_logins_total", "Logins by method and result (ok or the refusal's problem code)",
                 ["method", "result"])
VERIFICATIONS = Counter("yiwang_verifications_total", "Verifications by kind and result", ["kind", "result"])
SIGNATURES = Counter("yiwang_signatures_total", "Cloud signing authorisations by kind and result", ["kind", "result"])
SM2_OPERATIONS = Counter("yiwang_sm2_operations_total", "SM2 signatures computed and verified", ["op"])
CASE_EVENTS = Counter("yiwang_case_events_total", "Department case events by result", ["result"])

LOGIN_METHODS = ("sms", "wechat", "ncid", "registry", "staff", "refresh")
VERIFICATION_KINDS = ("counter", "offline", "signature")
SIGNATURE_KINDS = ("single", "batch")
SM2_OPS = ("sign", "verify")

# URL rule → (HTTP method, counter, labels before `result`). A renamed route fails the test that
# every rule here exists (tests/kernel/test_business_metrics.py).
ROUTES: dict[str, tuple[str, Counter, tuple[str, ...]]] = {
    "/api/v1/auth/login": ("POST", LOGINS, ("sms",)),
    "/api/v1/auth/wechat": ("POST", LOGINS, ("wechat",)),
    "/api/v1/auth/ncid/login": ("POST", LOGINS, ("ncid",)),
    "/api/v1/me/real-name": ("POST", LOGINS, ("registry",)),
    "/api/v1/auth/staff-login": ("POST", LOGINS, ("staff",)),
    "/api/v1/auth/refresh": ("POST", LOGINS, ("refresh",)),
    "/api/v1/counter/verifications": ("POST", VERIFICATIONS, ("counter",)),
    "/api/v1/verify/signatures": ("POST", VERIFICATIONS, ("signature",)),
    "/api/v1/signing/requests/<request_id>/authorize": ("POST", SIGNATURES, ("single",)),
    "/api/v1/signing/batches/<batch_id>/authorize": ("POST", SIGNATURES, ("batch",)),
    "/api/v1/dept/case-events": ("POST", CASE_EVENTS, ()),  # the backfill counts per event: cases/batch.py
}

# name → (help, labels, multi-process mode)
GAUGES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "yiwang_outbox_pending_messages": ("Outbox rows not yet delivered (pending, due or scheduled)", (), "mostrecent"),
    "yiwang_outbox_oldest_pending_age_seconds": (
        "Seconds since the oldest undelivered outbox row became due (0 when none)", (), "mostrecent"),
    "yiwang_sse_connections": ("Open live notification streams (SSE)", (), "livesum"),
    "yiwang_db_pool_connections": ("Database pool connections by state (in_use, idle)", ("state",), "livesum"),
    "yiwang_db_pool_max_connections": ("Database pool size (DB_POOL_SIZE) per process, added up", (), "livesum"),
    "yiwang_redis_ping_seconds": ("Last measured Redis round trip (PING), the slowest process", (), "livemax"),
    "yiwang_redis_up": ("1 when the last Redis PING answered (the lowest over processes)", (), "livemin"),
    "yiwang_certificate_expiry_timestamp_seconds": (
        "notAfter (unix seconds) of the platform CA, the platform and issuer keys' and the TSA certificates",
        ("kind", "name"), "mostrecent"),
    "yiwang_crl_next_update_timestamp_seconds": ("nextUpdate (unix seconds) of each published CRL", ("name",),
                                                 "mostrecent"),
    "yiwang_calendar_last_year_covered": (
        "The last year the working-day calendar has official data for (from this year on, without a gap)", (),
        "mostrecent"),
}

PUSH = ("yiwang_push_attempts_total", "yiwang_push_quota_waits_total")  # notify/metrics.py
CONTRACT = (
    "yiwang_logins_total", "yiwang_verifications_total", "yiwang_signatures_total", "yiwang_sm2_operations_total",
    "yiwang_case_events_total", *PUSH, *GAUGES,
)
# name → its labels, as the rules may use them
LABELS: dict[str, tuple[str, ...]] = {
    "yiwang_logins_total": ("method", "result"), "yiwang_verifications_total": ("kind", "result"),
    "yiwang_signatures_total": ("kind", "result"), "yiwang_sm2_operations_total": ("op",),
    "yiwang_case_events_total": ("result",), "yiwang_push_attempts_total": ("channel", "result"),
    "yiwang_push_quota_waits_total": ("channel",), **{name: spec[1] for name, spec in GAUGES.items()},
}

PROBLEM_MIMETYPE = "application/problem+json"  # app/errors.PROBLEM_MIMETYPE (not imported: SM2 imports this module)
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_gauges: dict[str, Gauge] = {}
_gauge_lock = threading.Lock()


def gauge(name: str) -> Gauge:
    """The gauge `name` of GAUGES, made on first use in this process."""
    made = _gauges.get(name)
    if made is None:
        with _gauge_lock:
            made = _gauges.get(name)
            if made is None:
                doc, labels, mode = GAUGES[name]
                made = _gauges[name] = Gauge(name, doc, labels, multiprocess_mode=mode)
    return made


def count(counter: Counter, *labels: str) -> None:
    """One outcome on `counter` (tallied, written within a second)."""
    TALLY.count(counter, labels)


def sm2(op: str) -> None:
    """One SM2 computation: op "sign" or "verify"."""
    TALLY.count(SM2_OPERATIONS, (op,))


def result_of(response: Any) -> str:
    """"ok" below 400; else the problem's `code` (read from the body only then), else http_<status>."""
    status = response.status_code
    if status < 400:
        return "ok"
    if response.mimetype == PROBLEM_MIMETYPE:
        import orjson  # here: only a refusal reads its body

        try:
            code = orjson.loads(response.get_data()).get("code")
        except (orjson.JSONDecodeError, AttributeError):
            code = None
        if isinstance(code, str) and _CODE.fullmatch(code):
            return code
    return f"http_{status}"


def count_outcome(rule: str, method: str, response: Any) -> None:
    """The request's outcome on its route's counter, if the route has one (ROUTES)."""
    spec = ROUTES.get(rule)
    if spec is not None and spec[0] == method:
        TALLY.count(spec[1], spec[2] + (result_of(response),))


def initialise() -> None:
    """Every counter's "ok" series at 0 from the start (a rate() over a series born with its first
    sample misses that sample), and the SM2 operations."""
    for method in LOGIN_METHODS:
        LOGINS.labels(method, "ok")
    for kind in VERIFICATION_KINDS:
        VERIFICATIONS.labels(kind, "ok")
    for kind in SIGNATURE_KINDS:
        SIGNATURES.labels(kind, "ok")
    for op in SM2_OPS:
        SM2_OPERATIONS.labels(op)
    CASE_EVENTS.labels("ok")
