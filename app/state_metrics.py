"""The state gauges read from the database — certificate and CRL expiry, the calendar's last covered
year, and what a feature adds (the notify worker: its outbox, the issuers' keys) — refreshed every
REFRESH_EVERY seconds by one thread of a process that has an app and a database: the notify worker
(`flask --app wsgi notify worker`, which serves them on its own METRICS_PORT listener), and under
`make run` each gunicorn worker that runs the in-process notify worker (gunicorn.conf.py).

Not the API workers: granian's main process serves their /metrics from the multi-process directory
without an app, and these rows are the same for every process, so one reader is enough (two workers
each report the same numbers; the rules take `max`). A refresh reads a handful of rows (the active CA,
each platform key's certificate, the CRL, the calendar table) and writes nothing but, when half its
validity has passed, the CRL a relying party would have had re-signed on its next fetch — so the CRL
gauge falls behind only when the CA cannot sign it, which is what its alert is for.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime
from typing import Any, Callable, Iterable

from flask import Flask

from app import calendar
from app.business_metrics import gauge
from app.crypto import platform_keys
from app.crypto.ca import keystore, platform_ca
from app.crypto.ca_models import CaCrl, CertificateRecord, PlatformCa
from app.crypto.sm3 import sm3_hex
from app.db import db, utcnow

log = logging.getLogger(__name__)

REFRESH_EVERY = 15.0  # seconds; the alerts look at hours and days
CA_NAME = "platform"  # the `name` of the platform CA's certificate and of its CRL
Source = Callable[[datetime], None]


def certificates(now: datetime) -> None:
    """notAfter of the active platform CA (kind platform_ca), of each platform key's current certificate
    (kind platform_key, name = its purpose) and of the time-stamping authority's (kind tsa). Nothing is
    created: a purpose without a key yet is left out."""
    expiry = gauge("yiwang_certificate_expiry_timestamp_seconds")
    ca = PlatformCa.get_or_none(PlatformCa.slot == "active")
    if ca is None:
        return
    expiry.labels("platform_ca", CA_NAME).set(ca.not_after.timestamp())
    store = keystore()
    for purpose in platform_keys.PURPOSES:
        key_id = store.newest_active(purpose=f"platform-{purpose}", owner=platform_keys.OWNER)
        if key_id is None:
            continue
        spki_sm3 = sm3_hex(store.info(key_id).public_key_der)
        cert = (CertificateRecord.select(CertificateRecord.not_after).where(CertificateRecord.spki_sm3 == spki_sm3)
                .order_by(CertificateRecord.not_after.desc()).first())
        if cert is not None:
            expiry.labels("tsa" if purpose == "tsa" else "platform_key", purpose).set(cert.not_after.timestamp())


def crl(now: datetime) -> None:
    """nextUpdate of the platform CA's CRL (name "platform"), after asking for it as a relying party does."""
    ca = PlatformCa.get_or_none(PlatformCa.slot == "active")
    if ca is None:
        return
    platform_ca().current_crl()
    latest = CaCrl.select(CaCrl.next_update).where(CaCrl.ca == ca.id).order_by(CaCrl.number.desc()).first()
    if latest is not None:
        gauge("yiwang_crl_next_update_timestamp_seconds").labels(CA_NAME).set(latest.next_update.timestamp())


def last_year_covered(now: datetime) -> int:
    """The last year with official holiday data, counting from this year (China time) without a gap:
    this year − 1 when even this year has none."""
    year = calendar.china_now(now).year
    last = year - 1
    while last < year + 20 and calendar.official_source(last + 1) is not None:
        last += 1
    return last


def calendar_years(now: datetime) -> None:
    gauge("yiwang_calendar_last_year_covered").set(last_year_covered(now))


KERNEL_SOURCES: tuple[Source, ...] = (certificates, crl, calendar_years)


def refresh(app: Flask, sources: Iterable[Source] = (), *, now: datetime | None = None) -> None:
    """Run every source once (the kernel's, then `sources`); one failing is logged and skipped."""
    from app.health import probe_saturation  # here: app.health registers a blueprint on import

    now = now or utcnow()
    with app.app_context(), db.connection_context():
        for source in (*KERNEL_SOURCES, *sources):
            try:
                source(now)
            except Exception as exc:  # noqa: BLE001 — a gauge left as it was beats a worker that stops
                log.warning("state metric not refreshed", extra={"source": source.__name__,
                                                                 "error": type(exc).__name__})
        probe_saturation(app)  # the pool and Redis of this process too (its tally thread may never start)


def start_refresher(app: Flask, sources: Iterable[Source] = (), every: float = REFRESH_EVERY) -> threading.Event:
    """A daemon thread refreshing now and every `every` seconds; set the returned event to stop it."""
    stop, sources = threading.Event(), tuple(sources)

    def loop() -> None:
        while True:
            refresh(app, sources)
            if stop.wait(every):
                return

    threading.Thread(target=loop, name="state-metrics", daemon=True).start()
    return stop


def serve_listener(host: str | None = None):
    """This process's own /metrics on METRICS_PORT (the environment's, as serve.py reads it; unset or 0:
    none), on METRICS_BIND, else `host`, else BIND's host: the worker and the stream server, which have no
    granian or gunicorn in front. Under PROMETHEUS_MULTIPROC_DIR it adds up the directory, as serve.py
    does. prometheus_client's (server, thread), or None (also when the port is taken: logged, and the
    process serves on without it)."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    port = os.environ.get("METRICS_PORT", "")
    if port in ("", "0"):
        return None
    registry: Any = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    address = (os.environ.get("METRICS_BIND") or host
               or os.environ.get("BIND", "127.0.0.1:8000").rpartition(":")[0] or "127.0.0.1")
    try:
        return start_http_server(int(port), addr=address, registry=registry)
    except OSError as exc:  # the port taken (`make run` binds it too on one machine): serve on without it
        log.warning("metrics listener not started", extra={"port": port, "error": type(exc).__name__})
        return None
