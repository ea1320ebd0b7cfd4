"""`flask issuers …`: the issuer registry from the command line (audited as operator flask-cli).

    flask issuers add --uscc 11340100003201174X --name 合肥市公安局交通警察支队 --region 340100 --types driving_licence
    flask issuers list [--all]          departments (active ones unless --all)
    flask issuers types                 the licence type codes a department may be given
    flask issuers update ISSUER [--name … --region … --types a,b --uscc …]
    flask issuers bind-client ISSUER CLIENT_ID / unbind-client ISSUER CLIENT_ID
    flask issuers suspend ISSUER / resume ISSUER

ISSUER is a department's id (iss_…) or its USCC.
"""
from __future__ import annotations

from datetime import date, datetime, time

import click
from flask.cli import AppGroup

from app.cli import fail
from app.clock import CHINA_TZ, rfc3339
from app.errors import AppError
from issuers import service

issuers_cli = AppGroup("issuers", help="Issuing departments (发证机关): USCC, licence types, clients.")
COMMANDS = (issuers_cli,)


def _types(value: str | None) -> list[str] | None:
    return None if value is None else [t for t in (p.strip() for p in value.split(",")) if t]


def _issuer_id(ref: str) -> str:
    found = service.issuer_by_uscc(ref) if len(ref.strip()) == 18 else None
    return found.id if found is not None else ref.strip()


def _line(view: dict) -> str:
    return (f"{view['id']}  {view['uscc'] or '-':18}  {view['region'] or '-':6}  {view['status']:9}  {view['name']}  "
            f"types={','.join(view['types']) or '-'}  clients={','.join(view['clients']) or '-'}")


@issuers_cli.command("add")
@click.option("--uscc", required=True, help="统一社会信用代码 (GB 32100, both check characters)")
@click.option("--name", required=True)
@click.option("--region", required=True, help="GB/T 2260 region code, 6 digits")
@click.option("--types", required=True, help="Comma-separated licence type codes (flask issuers types)")
def issuers_add(uscc: str, name: str, region: str, types: str) -> None:
    """Register an issuing department (active)."""
    try:
        issuer = service.register(uscc_code=uscc, name=name, region=region, types=_types(types))
    except AppError as exc:
        fail(exc)
    click.echo(f"issuer {issuer.id} registered: {issuer.uscc} {issuer.name}")


@issuers_cli.command("list")
@click.option("--all", "show_all", is_flag=True, help="Suspended departments too.")
def issuers_list(show_all: bool) -> None:
    """The registered departments."""
    for view in service.list_views(active_only=not show_all):
        click.echo(_line(view))


@issuers_cli.command("types")
def issuers_types() -> None:
    """The licence type codes of the catalogue."""
    for code in service.catalogue_codes():
        click.echo(code)


@issuers_cli.command("update")
@click.argument("issuer")
@click.option("--name", default=None)
@click.option("--region", default=None)
@click.option("--types", default=None, help="The new list (replaces the old one).")
@click.option("--uscc", default=None, help="Only for a department carried over without one.")
def issuers_update(issuer: str, name: str | None, region: str | None, types: str | None, uscc: str | None) -> None:
    """Change a department's name, region or licence types, or record its USCC."""
    try:
        found = service.update(_issuer_id(issuer), name=name, region=region, types=_types(types), uscc_code=uscc)
    except AppError as exc:
        fail(exc)
    click.echo(_line(service.issuer_view(found)))


@issuers_cli.command("bind-client")
@click.argument("issuer")
@click.argument("client_id")
def issuers_bind(issuer: str, client_id: str) -> None:
    """Let a machine client act for the department."""
    try:
        found = service.bind_client(_issuer_id(issuer), client_id)
    except AppError as exc:
        fail(exc)
    click.echo(f"client {client_id.strip()} acts for {found.id} ({found.name})")


@issuers_cli.command("unbind-client")
@click.argument("issuer")
@click.argument("client_id")
def issuers_unbind(issuer: str, client_id: str) -> None:
    """Stop a machine client acting for the department."""
    try:
        found = service.unbind_client(_issuer_id(issuer), client_id)
    except AppError as exc:
        fail(exc)
    click.echo(f"client {client_id} no longer acts for {found.id}")


@issuers_cli.command("suspend")
@click.argument("issuer")
def issuers_suspend(issuer: str) -> None:
    """Suspend a department: its clients can no longer issue or change licences."""
    try:
        found = service.set_status(_issuer_id(issuer), "suspended")
    except AppError as exc:
        fail(exc)
    click.echo(f"issuer {found.id} suspended")


@issuers_cli.command("resume")
@click.argument("issuer")
def issuers_resume(issuer: str) -> None:
    """Resume a suspended department."""
    try:
        found = service.set_status(_issuer_id(issuer), "active")
    except AppError as exc:
        fail(exc)
    click.echo(f"issuer {found.id} active")


# --- Signing keys (issuers/keys.py) --------------------------------------------------------------------

def _since(value: str) -> datetime:
    """YYYY-MM-DD (00:00 China time) or an RFC 3339 date-time with its offset."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.min, CHINA_TZ)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("YYYY-MM-DD or an RFC 3339 date-time with offset") from None
    if moment.tzinfo is None:
        raise click.BadParameter("a date-time needs its offset, e.g. 2026-11-01T09:30:00+08:00")
    return moment


@issuers_cli.command("keys")
@click.argument("issuer")
def issuers_keys(issuer: str) -> None:
    """A department's signing keys, newest first."""
    try:
        views = service.issuer_keys(_issuer_id(issuer))
    except AppError as exc:
        fail(exc)
    for key in views:
        revoked = f"  revoked since {rfc3339(key['revoked_since'])} ({key['revoked_reason']})" if key["revoked_since"] else ""
        click.echo(f"{key['kid']}  {key['status']:8}  {rfc3339(key['not_before'])} … {rfc3339(key['not_after'])}"
                   f"  cert {key['certificate_serial']}{revoked}")


@issuers_cli.command("rotate-key")
@click.argument("issuer")
def issuers_rotate_key(issuer: str) -> None:
    """A new signing key for the department (ISSUER: id or USCC); the old one keeps verifying."""
    try:
        key = service.rotate_key(_issuer_id(issuer))
    except AppError as exc:
        fail(exc)
    click.echo(f"key {key['kid']} now signs; valid until {rfc3339(key['not_after'])}")


@issuers_cli.command("revoke-key")
@click.argument("kid")
@click.option("--since", "since", required=True, help="YYYY-MM-DD (China time) or RFC 3339: from when it is not trusted")
@click.option("--reason", type=click.Choice(service.REVOCATION_REASONS), required=True)
def issuers_revoke_key(kid: str, since: str, reason: str) -> None:
    """Revoke a key: licences it signed at or after --since are flagged; its certificate is revoked."""
    try:
        key = service.revoke_key(None, kid.strip().lower(), since=_since(since), reason=reason)
    except AppError as exc:
        fail(exc)
    click.echo(f"key {key['kid']} revoked since {rfc3339(key['revoked_since'])} ({reason})")
