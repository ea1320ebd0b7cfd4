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
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest, multiprocess

from app import business_metrics
from app.db import db
from app.redis import get_redis
from app.request_metrics import LATENCY, REQUESTS, TALLY  # noqa: F401 — REQUESTS and LATENCY: this module's API

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

# Staff password logins: a throttle starting (scope pair = username + address, user = username from
# any address) is what an alert rule fires on; refusals count what the limits turned away.
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


def probe_saturation(app: Flask) -> None:
    """This process's database pool (in use, idle, its size) and a timed Redis PING: the saturation
    gauges (app/business_metrics.py), run every PROBE_EVERY seconds from the tally's flush thread — never
    on a request. A PING that fails sets yiwang_redis_up to 0 and leaves the last round trip."""
    pool = db.obj
    in_use, idle = getattr(pool, "_in_use", None), getattr(pool, "_connections", None)
    if in_use is not None and idle is not None:  # peewee's pooled databases (SQLite and PostgreSQL here)
        connections = business_metrics.gauge("yiwang_db_pool_connections")
        connections.labels("in_use").set(len(in_use))
        connections.labels("idle").set(len(idle))
        business_metrics.gauge("yiwang_db_pool_max_connections").set(pool._max_connections)
    up = business_metrics.gauge("yiwang_redis_up")
    started = time.perf_counter()
    try:
        app.extensions["redis"].ping()
    except Exception as exc:  # noqa: BLE001 — any failure is "down"; the kind goes to the log
        log.debug("saturation probe: redis unreachable", extra={"error": type(exc).__name__})
        up.set(0)
        return
    business_metrics.gauge("yiwang_redis_ping_seconds").set(time.perf_counter() - started)
    up.set(1)


PROBE_EVERY = 5.0  # seconds between saturation probes of a process


def init_metrics(app: Flask) -> None:
    """Count and time every request per endpoint (the URL rule, never the path), tallied in the process
    and written at most once a second (app/request_metrics.py); count the business outcome of the
    routes that have one (app/business_metrics.py ROUTES). The time is taken from
    `g.request_started`, set by the request-id hook, the app's first (app/__init__.py)."""
    tally, routes, count_outcome = TALLY, business_metrics.ROUTES, business_metrics.count_outcome
    business_metrics.initialise()
    tally.every("saturation", PROBE_EVERY, lambda: probe_saturation(app))

    @app.after_request
    def _observe(response):
        req = request._get_current_object()
        rule = req.url_rule
        started = g.get("request_started")
        endpoint = rule.rule if rule is not None else "<unmatched>"
        tally.add(req.method, endpoint, response.status_code,
                  None if started is None else time.perf_counter() - started)
        if endpoint in routes:  # the few routes with a business outcome; one lookup for the rest
            count_outcome(endpoint, req.method, response)
        return response
