"""Liveness/readiness probes and Prometheus metrics (request count and latency per endpoint).

`/metrics` answers only on the internal listener: a request that arrived on another port gets the
404 of an unknown path. gunicorn binds METRICS_PORT beside the public port (gunicorn.conf.py), the
Ingress routes only the public one, and SERVER_PORT is the port of the socket the request came in
on (gunicorn and werkzeug take it from the listener, not from a header) — so nothing from outside
the cluster reaches it, without a scrape credential to hand out and rotate.
"""
from __future__ import annotations

import logging
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from app.db import db
from app.redis import get_redis
from app.request_metrics import RequestTally

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

REQUESTS = Counter("yiwang_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram("yiwang_http_request_duration_seconds", "HTTP request latency", ["method", "endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
# Staff password logins: a throttle starting (scope pair = username + address, user = username from
# any address) is what an alert rule fires on; refusals count what the limits turned away.
TALLY = RequestTally(REQUESTS, LATENCY)  # one per process, as the metrics themselves
STAFF_LOGIN_THROTTLED = Counter("yiwang_staff_login_throttled_total",
                                "Staff logins throttled after repeated failures (alert on increase)", ["scope"])
STAFF_LOGIN_REFUSED = Counter("yiwang_staff_login_refused_total",
                              "Staff logins refused before any password check", ["reason"])


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    checks = {}
    try:
        with db.connection_context():
            db.execute_sql("SELECT 1")  # raw SQL: the readiness probe's round trip
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the reason goes to the log
        log.warning("readiness: database unreachable", extra={"error": type(exc).__name__})
        checks["database"] = "unreachable"
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        log.warning("readiness: redis unreachable", extra={"error": type(exc).__name__})
        checks["redis"] = "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return {"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503


@bp.get("/metrics")
def metrics():
    port = current_app.config["METRICS_PORT"]
    if not port or request.environ.get("SERVER_PORT") != str(port):
        abort(404)  # the public listener: as if there were no such path
    TALLY.flush()  # this process's last second too (other workers' within about two: app/request_metrics.py)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # gunicorn: merge every worker's samples
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def init_metrics(app: Flask) -> None:
    """Count and time every request per endpoint (the URL rule, never the path), tallied in the process
    and written at most once a second (app/request_metrics.py). The time is taken from
    `g.request_started`, set by the request-id hook, the app's first (app/__init__.py)."""
    tally = TALLY

    @app.after_request
    def _observe(response):
        req = request._get_current_object()
        rule = req.url_rule
        started = g.get("request_started")
        tally.add(req.method, rule.rule if rule is not None else "<unmatched>", response.status_code,
                  None if started is None else time.perf_counter() - started)
        return response
