"""Admin commands: `flask --app wsgi <group> <command>`."""
from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.db import db
from app.errors import AppError

db_cli = AppGroup("db", help="Database migrations.")
registry_cli = AppGroup("registry", help="Development population registry (人口库).")
staff_cli = AppGroup("staff", help="Counter clerks and administrators.")
clients_cli = AppGroup("clients", help="Machine clients (client credentials).")
demo_cli = AppGroup("demo", help="Development demo data.")
keys_cli = AppGroup("keys", help="Key management.")
ca_cli = AppGroup("ca", help="Platform CA (SM2 certificates, CRL).")  # app/crypto/ca.py
appointments_cli = AppGroup("appointments", help="Service-hall appointments (预约): no-shows, reminders.")
audit_cli = AppGroup("audit", help="Audit trail hash chain (审计): seal, verify, archive.")


def _fail(exc: AppError) -> None:
    reasons = "; ".join(f"{k}: {v}" for k, v in (exc.errors or {}).items())
    raise click.ClickException(f"{exc.detail} {reasons}".strip())


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    from app.db import migrate

    applied = migrate()
    click.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or '-'}")


@registry_cli.command("add")
@click.option("--name", required=True)
@click.option("--id-number", required=True)
def registry_add(name: str, id_number: str) -> None:
    """Add a person to the development registry."""
    from app.identity.devdata import add_registry_entry

    try:
        add_registry_entry(name=name, id_number=id_number)
    except AppError as exc:
        _fail(exc)
    click.echo("registry entry saved")


@staff_cli.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(["counter", "clerk", "admin"]), required=True)
@click.option("--hall", "hall_code", default=None, help="Hall code (clerks)")
def staff_create(username: str, password: str, role: str, hall_code: str | None) -> None:
    """Create a staff account."""
    from app.identity.staff import create_staff

    try:
        staff = create_staff(username=username, password=password, role=role, hall_code=hall_code)
    except AppError as exc:
        _fail(exc)
    click.echo(f"staff {staff.username} ({staff.role}) created: {staff.id}")


@clients_cli.command("create")
@click.option("--name", required=True)
@click.option("--scopes", required=True, help='Space-separated, e.g. "licences:issue cases:write"')
@click.option("--halls", default="", help='Hall codes it acts for, space-separated (a queue system: "halls:write")')
def clients_create(name: str, scopes: str, halls: str) -> None:
    """Register a machine client; prints its id and secret once."""
    from app.identity.staff import create_client

    try:
        client, secret = create_client(name=name, scopes=scopes.split(), halls=halls.split())
    except AppError as exc:
        _fail(exc)
    click.echo(f"client_id={client.client_id}")
    click.echo(f"client_secret={secret}")
    click.echo("The secret is shown only now; it is stored hashed.", err=True)


@clients_cli.command("halls")
@click.argument("client_id")
@click.option("--add", "add", multiple=True, help="bind it to this hall code (repeatable)")
@click.option("--remove", "remove", multiple=True, help="unbind it from this hall code (repeatable)")
def clients_halls(client_id: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Show or change the halls a machine client acts for (audited)."""
    from app.identity.staff import set_client_halls

    try:
        halls = set_client_halls(client_id=client_id, add=list(add), remove=list(remove))
    except AppError as exc:
        _fail(exc)
    click.echo(" ".join(halls) or "(no halls)")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Load development demo data (idempotent)."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("demo data is not loaded in production")
    from app.identity.devdata import seed

    for line in seed():
        click.echo(line)
    from mapsvc.demo import seed_halls

    for line in seed_halls():
        click.echo(line)


@keys_cli.command("rotate-jwt")
def rotate_jwt() -> None:
    """Development: make a new JWT signing key current (old keys keep verifying)."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("in production, rotate through JWT_SIGNING_KEY / JWT_VERIFY_KEYS")
    from app.security.keys import generate_dev_jwt_key

    kid = generate_dev_jwt_key(os.path.join(current_app.config["VAR_DIR"], "keys", "jwt"))
    click.echo(f"new signing key {kid}; restart the server to use it")


@keys_cli.command("rewrap")
def keys_rewrap() -> None:
    """Re-encrypt every key-store key under the newest KEYSTORE_KEKS entry."""
    from app.crypto.ca import keystore

    try:
        moved = keystore().rewrap(actor=("operator", "flask-cli"))
    except AppError as exc:
        _fail(exc)
    usage = ", ".join(f"{kid}: {n}" for kid, n in sorted(keystore().kek_usage().items())) or "-"
    click.echo(f"rewrapped {moved} key(s); keys per KEK: {usage}")


@ca_cli.command("show")
def ca_show() -> None:
    """Print the platform CA certificate (PEM)."""
    from app.crypto.ca import platform_ca

    click.echo(platform_ca().certificate_pem(), nl=False)


@ca_cli.command("crl")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--pem", "as_pem", is_flag=True, help="PEM instead of DER")
def ca_crl(out: str, as_pem: bool) -> None:
    """Write the current CRL to a file."""
    from app.crypto.ca import platform_ca
    from app.crypto.x509 import to_pem

    der = platform_ca().current_crl()
    with open(out, "wb") as fh:
        fh.write(to_pem("X509 CRL", der).encode() if as_pem else der)
    click.echo(f"CRL written to {out}")



@appointments_cli.command("mark-no-shows")
def appointments_mark_no_shows() -> None:
    """Mark appointments whose slot ended without a check-in as no-shows; ban repeat no-shows."""
    from mapsvc.appointment_tasks import mark_no_shows

    marked, banned = mark_no_shows()
    click.echo(f"marked {marked} no-show(s); {banned} new booking ban(s)")


@appointments_cli.command("send-reminders")
def appointments_send_reminders() -> None:
    """Queue the day-before reminders that are due (outbox until notifications exist)."""
    from mapsvc.appointment_tasks import send_reminders

    click.echo(f"queued {send_reminders()} reminder(s)")

@audit_cli.command("seal")
@click.option("--every", type=float, default=None, help="Keep sealing, this many seconds apart")
def audit_seal(every: float | None) -> None:
    """Give the committed, unsealed audit rows their place in the hash chain."""
    import time

    from app.audit_chain import seal

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
    from app.audit_chain import seal, verify, verify_archive_file

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
    from datetime import timezone

    from app.audit_chain import RetentionError, archive

    try:
        moved = archive(before=before.replace(tzinfo=timezone.utc), out=out)
    except RetentionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"archived {moved} record(s) to {out}")


@click.command("doctor")
@with_appcontext
def doctor() -> None:
    """Check configuration, keys, migrations, database, Redis, the audit chain and the outbox."""
    from app.doctor import render, run_checks

    checks = run_checks(current_app)
    click.echo(render(checks))
    failed = [c.name for c in checks if c.status == "fail"]
    if failed:
        raise click.ClickException(f"failed: {', '.join(failed)}")


def register(app: Flask) -> None:
    app.cli.add_command(doctor)
    for group in (db_cli, registry_cli, staff_cli, clients_cli, demo_cli, keys_cli, ca_cli, appointments_cli,
                  audit_cli):
        app.cli.add_command(group)
    from mapsvc.cli import calendar_cli, halls_cli

    app.cli.add_command(halls_cli)
    app.cli.add_command(calendar_cli)
    from notify.cli import notify_cli

    app.cli.add_command(notify_cli)
    from cases.cli import cases_cli

    app.cli.add_command(cases_cli)
