"""`flask --app wsgi doctor`: is this installation fit to serve? (运维自检)

Each check answers ok, warn or fail with a short, secret-free message. `fail` means a production
start would be refused or the service cannot work; `warn` means it runs but something is off
(development settings that production would refuse, pending outbox rows, an unsealed backlog).
Configuration problems are listed one a line. When the configuration is so wrong that the app cannot
be built (a production start missing its secrets), `flask doctor` never runs: the CLI prints the
same list from the ConfigError instead (app/config.py), without a traceback.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask
from peewee_migrate import Router

from app.audit import AuditEvent
from app.audit_chain import AuditChainHead
from app.config import ConfigError, check_config
from app.crypto.keystore import WrapperProblem
from app.db import MIGRATIONS_DIR, db
from app.redis import describe
from app.security.keys import load_key_material, load_keystore_keks


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    message: str
    millis: float | None = None
    details: tuple[str, ...] = ()  # one line each under the check (e.g. every configuration problem)


def _config(app: Flask) -> Check:
    settings: dict[str, Any] = dict(app.config)
    production = settings["APP_ENV"] == "production"
    try:
        check_config({**settings, "APP_ENV": "production"})
    except ConfigError as exc:
        # Outside production this is what a production start with these settings would refuse.
        count = f"{len(exc.problems)} problem(s)"
        return Check("config", "fail" if production else "warn",
                     f"{exc.headline}: {count}" if production
                     else f"{settings['APP_ENV']}: production would refuse: {count}", details=tuple(exc.problems))
    return Check("config", "ok", f"{settings['APP_ENV']}: nothing a production start would refuse")


def _keys(app: Flask) -> Check:
    try:
        keys = load_key_material(app.config)
        software = (app.config.get("KEYSTORE_BACKEND") or "software") == "software"
        keks = load_keystore_keks(app.config) if software else []
    except Exception as exc:  # any unreadable key is the finding; the text names the setting, not the key
        return Check("keys", "fail", f"cannot load: {type(exc).__name__}: {exc}")
    if software and not keks:
        return Check("keys", "fail", "no key store KEK")
    kek_text = f"{len(keks)} KEK(s)" if software else "KEKs in the PKCS#11 module"
    return Check("keys", "ok", f"JWT kid {keys.jwt_kid}, {len(keys.jwt_verify_keys)} verify key(s), "
                               f"data key loaded, {kek_text}")


def _keystore(app: Flask) -> Check:
    """The key store back end (KEYSTORE_BACKEND): its wrapping keys answer and a wrap/unwrap round trip works."""
    started = time.perf_counter()
    wrapper = app.extensions["keystore"].wrapper
    try:
        if hasattr(wrapper, "check"):  # pkcs11: module, token, login, the key's attributes, a round trip
            message = wrapper.check()
        else:
            probe = b"yiwang/keystore/doctor"
            kid, blob = wrapper.wrap(probe, probe)
            if wrapper.unwrap(kid, blob, probe) != probe:
                raise WrapperProblem("wrap/unwrap round trip failed")
            message = f"software: {len(wrapper.ids())} SM4 KEK(s), current {kid}, round trip ok"
    except WrapperProblem as exc:  # its sentence is secret-free by contract
        return Check("keystore", "fail", str(exc), (time.perf_counter() - started) * 1000)
    except Exception as exc:  # anything else: only its kind
        return Check("keystore", "fail", f"{type(exc).__name__}", (time.perf_counter() - started) * 1000)
    return Check("keystore", "ok", message, (time.perf_counter() - started) * 1000)


def _pki(app: Flask) -> Check:
    """Where the CA's certificates send relying parties for revocation (CRL, OCSP) and the CA certificate."""
    base = (app.config.get("PKI_BASE_URL") or "").rstrip("/")
    if not base:
        return Check("pki", "fail", "PKI_BASE_URL is not set: certificates name no CRL or OCSP URL")
    urls = f"{base}/api/v1/signing/{{crl,ocsp,ca.cer}}"
    if not base.startswith("https://"):
        return Check("pki", "fail" if app.config["APP_ENV"] == "production" else "warn",
                     f"{urls}: not https (production refuses)")
    return Check("pki", "ok", f"certificates point to {urls}")


def _timed(name: str, probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        message = probe()
    except Exception as exc:  # unreachable: report the kind of failure
        return Check(name, "fail", f"unreachable: {type(exc).__name__}", (time.perf_counter() - started) * 1000)
    return Check(name, "ok", message, (time.perf_counter() - started) * 1000)


def _database() -> str:
    with db.connection_context():
        db.execute_sql("SELECT 1")  # raw SQL: the database probe's round trip
    return type(db.obj).__name__


def _redis(app: Flask) -> str:
    client = app.extensions["redis"]
    client.ping()
    return f"PING ok; {describe(client)}"


def _migrations() -> Check:
    with db.connection_context():
        pending = Router(db, migrate_dir=str(MIGRATIONS_DIR)).diff
    if pending:
        return Check("migrations", "fail", f"{len(pending)} pending: {', '.join(pending)} (flask db upgrade)")
    return Check("migrations", "ok", "all applied")


def _audit_chain() -> Check:
    with db.connection_context():
        head = AuditChainHead.get_or_none(AuditChainHead.id == 1)
        unsealed = AuditEvent.select().where(AuditEvent.seq.is_null()).count()
    if head is None:
        return Check("audit chain", "warn" if unsealed else "ok", f"not started; {unsealed} unsealed record(s)")
    sealed = head.sealed_at.isoformat(timespec="seconds") if head.sealed_at else "never"
    return Check("audit chain", "warn" if unsealed > 1000 else "ok",
                 f"head seq {head.seq} ({head.chain_hash[:12]}…), last seal {sealed}, {unsealed} unsealed")


def add_check(app: Flask, check: Callable[[], Check | None]) -> None:
    """A feature's own check (e.g. its backlog), run after the kernel's when the database answers;
    it returns a Check, or None when it has nothing to say."""
    app.extensions.setdefault("doctor_checks", []).append(check)


def run_checks(app: Flask) -> list[Check]:
    """Every check, in order; those needing the database are skipped when it is unreachable."""
    checks = [_config(app), _keys(app), _timed("database", _database), _timed("redis", lambda: _redis(app)),
              _pki(app)]
    if checks[2].status == "ok":
        for check in (_migrations, _audit_chain, *app.extensions.get("doctor_checks", ())):
            try:
                with db.connection_context():
                    found = check()
            except Exception as exc:  # e.g. a table missing before migrations: report, keep going
                found = Check(check.__name__.strip("_").replace("_", " "), "fail", type(exc).__name__)
            if found is not None:
                checks.append(found)
    return [*checks[:2], _keystore(app), *checks[2:]]


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'check'.ljust(width)}  status  time      detail"]
    for c in checks:
        took = f"{c.millis:7.1f}ms" if c.millis is not None else " " * 9
        lines.append(f"{c.name.ljust(width)}  {c.status.upper().ljust(6)}  {took} {c.message}")
        lines += [f"{' ' * (width + 19)}- {detail}" for detail in c.details]
    return "\n".join(lines)
