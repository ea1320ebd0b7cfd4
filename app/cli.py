"""Admin commands: `flask --app wsgi <group> <command>`."""
from __future__ import annotations

import os
import time
from datetime import timezone
from typing import Callable, Iterable

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.audit_chain import RetentionError, archive, seal, verify, verify_archive_file
from app.calendar_cli import calendar_cli
from app.crypto import platform_keys
from app.crypto.ca import keystore, platform_ca
from app.crypto.x509 import to_pem
from app.db import db, migrate
from app.doctor import render, run_checks
from app.errors import AppError
from app.security.keys import generate_dev_jwt_key

db_cli = AppGroup("db", help="Database migrations.")
demo_cli = AppGroup("demo", help="Development demo data.")
keys_cli = AppGroup("keys", help="Key management.")
ca_cli = AppGroup("ca", help="Platform CA (SM2 certificates, CRL).")  # app/crypto/ca.py
audit_cli = AppGroup("audit", help="Audit trail hash chain (审计): seal, verify, archive.")


def fail(exc: AppError) -> None:
    """An application error as a click error: its sentence and reasons, exit status 1."""
    reasons = "; ".join(f"{k}: {v}" for k, v in (exc.errors or {}).items())
    raise click.ClickException(f"{exc.detail} {reasons}".strip())


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    applied = migrate()
    click.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or '-'}")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Load development demo data (idempotent): each feature's seeder, in the order features load."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("demo data is not loaded in production")
    for seeder in current_app.extensions["demo_seeders"]:
        for line in seeder():
            click.echo(line)


def add_demo_seeder(app: Flask, seeder: Callable[[], Iterable[str]]) -> None:
    """A feature's demo data for `flask demo seed` (it yields one line of report per thing made)."""
    app.extensions.setdefault("demo_seeders", []).append(seeder)


@keys_cli.command("rotate-jwt")
def rotate_jwt() -> None:
    """Development: make a new JWT signing key current (old keys keep verifying)."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("in production, rotate through JWT_SIGNING_KEY / JWT_VERIFY_KEYS")
    kid = generate_dev_jwt_key(os.path.join(current_app.config["VAR_DIR"], "keys", "jwt"))
    click.echo(f"new signing key {kid}; restart the server to use it")


@keys_cli.command("rewrap")
def keys_rewrap() -> None:
    """Re-encrypt every key-store key under the newest KEYSTORE_KEKS entry."""
    try:
        moved = keystore().rewrap(actor=("operator", "flask-cli"))
    except AppError as exc:
        fail(exc)
    usage = ", ".join(f"{kid}: {n}" for kid, n in sorted(keystore().kek_usage().items())) or "-"
    click.echo(f"rewrapped {moved} key(s); keys per KEK: {usage}")


@keys_cli.command("rotate-wrapping-key")
def keys_rotate_wrapping_key() -> None:
    """A new current key-wrapping key (pkcs11: generated in the module; software: how to add a KEK)."""
    if (current_app.config.get("KEYSTORE_BACKEND") or "software") == "software":
        click.echo("software key store: add a new entry at the END of KEYSTORE_KEKS (kid:base64 of 16 random "
                   "bytes, e.g. `python -c 'import base64,secrets;print(base64.b64encode(secrets.token_bytes(16))"
                   ".decode())'`), restart every process, run `flask keys rewrap`, then remove the old entry.")
        return
    from app.crypto.keystore_pkcs11 import rotate_wrapping_key
    try:
        label = rotate_wrapping_key(keystore(), actor=("operator", "flask-cli"))
    except AppError as exc:
        fail(exc)
    wait = current_app.config["PKCS11_REFRESH_SECONDS"]
    click.echo(f"wrapping key {label} generated in the module and current; every process uses it within "
               f"{wait:g} s: wait that long, then run `flask keys rewrap`")


@keys_cli.command("retire-wrapping-key")
@click.argument("wrapping_key_id")
def keys_retire_wrapping_key(wrapping_key_id: str) -> None:
    """Delete an old wrapping key from the PKCS#11 module once no key uses it (after `flask keys rewrap`)."""
    if (current_app.config.get("KEYSTORE_BACKEND") or "software") == "software":
        used = keystore().kek_usage().get(wrapping_key_id, 0)
        if used:
            raise click.ClickException(f"{wrapping_key_id} still wraps {used} key(s): run flask keys rewrap first")
        click.echo(f"no key uses {wrapping_key_id}: remove it from KEYSTORE_KEKS and restart")
        return
    from app.crypto.keystore_pkcs11 import WrappingKeyInUse, retire_wrapping_key
    try:
        retire_wrapping_key(keystore(), wrapping_key_id, actor=("operator", "flask-cli"))
    except WrappingKeyInUse as exc:
        raise click.ClickException(str(exc)) from None
    except AppError as exc:
        fail(exc)
    click.echo(f"wrapping key {wrapping_key_id} deleted from the module")


@keys_cli.command("rotate-platform")
@click.argument("purpose", type=click.Choice(platform_keys.PURPOSES))
def keys_rotate_platform(purpose: str) -> None:
    """Make a new platform signing key current for PURPOSE (the old one verifies until its certificate expires)."""
    try:
        key = platform_keys.rotate(purpose, actor=("operator", "flask-cli"))
    except AppError as exc:
        fail(exc)
    click.echo(f"platform {purpose} key {key.kid} is current; certificate valid until {key.not_after:%Y-%m-%d}")


@ca_cli.command("show")
def ca_show() -> None:
    """Print the platform CA certificate (PEM)."""
    click.echo(platform_ca().certificate_pem(), nl=False)


@ca_cli.command("crl")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--pem", "as_pem", is_flag=True, help="PEM instead of DER")
def ca_crl(out: str, as_pem: bool) -> None:
    """Write the current CRL to a file."""
    der = platform_ca().current_crl()
    with open(out, "wb") as fh:
        fh.write(to_pem("X509 CRL", der).encode() if as_pem else der)
    click.echo(f"CRL written to {out}")


@audit_cli.command("seal")
@click.option("--every", type=float, default=None, help="Keep sealing, this many seconds apart")
def audit_seal(every: float | None) -> None:
    """Give the committed, unsealed audit rows their place in the hash chain."""
    while True:
        with db.connection_context():
            sealed = seal()
        if every is None:
            click.echo(f"sealed {sealed} record(s)")
            return
        time.sleep(every)


@audit_cli.command("verify")
@click.option("--archive", "archive_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Check an archive file instead of the database")
def audit_verify(archive_file: str | None) -> None:
    """Seal, then recompute the chain; exit status 1 on the first changed, deleted or inserted record."""
    if archive_file:
        problems = verify_archive_file(archive_file)
        if problems:
            raise click.ClickException(f"archive {archive_file}: " + "; ".join(problems[:5]))
        click.echo(f"archive {archive_file}: OK")
        return
    with db.connection_context():
        seal()
    result = verify()
    for problem in result.problems[:20]:
        click.echo(str(problem), err=True)
    if not result.ok:
        raise click.ClickException(f"audit chain broken: first problem: {result.problems[0]}")
    click.echo(f"audit chain OK: {result.checked} record(s) checked, head seq {result.head_seq}")


@audit_cli.command("archive")
@click.option("--before", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD (UTC)")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
def audit_archive(before, out: str) -> None:
    """Move sealed records older than --before (at least 180 days ago) to a signed JSONL file."""
    try:
        moved = archive(before=before.replace(tzinfo=timezone.utc), out=out)
    except RetentionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"archived {moved} record(s) to {out}")


@click.command("doctor")
@with_appcontext
def doctor() -> None:
    """Check configuration, keys, migrations, database, Redis, the audit chain and the outbox."""
    checks = run_checks(current_app)
    click.echo(render(checks))
    failed = [c.name for c in checks if c.status == "fail"]
    if failed:
        raise click.ClickException(f"failed: {', '.join(failed)}")


def register(app: Flask) -> None:
    """The kernel's own commands; each feature adds its groups in its init_app (`app.cli.add_command`)."""
    app.extensions.setdefault("demo_seeders", [])
    app.cli.add_command(doctor)
    for group in (db_cli, demo_cli, keys_cli, ca_cli, audit_cli, calendar_cli):
        app.cli.add_command(group)
