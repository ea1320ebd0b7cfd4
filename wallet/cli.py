"""Wallet commands: `flask --app wsgi wallet <command>`."""
from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from app.cli import fail
from app.db import unit_of_work
from app.errors import AppError
from wallet import matters, models, notices
from wallet.presentation import today

wallet_cli = AppGroup("wallet", help="E-licence wallet (电子证照): expiry reminders.")
matters_cli = AppGroup("matters", help="The catalogue of matters (用证事项): list, add, update, deactivate.")
COMMANDS = (wallet_cli, matters_cli)


def remind_expiring() -> int:
    """Queue the about-to-expire notices now due: a licence ending within 30 days (China dates) gets
    the 30-day notice, within 7 days the 7-day one; each once (dedupe key: licence, end date,
    threshold), so a daily run — or a missed day made up later — never repeats one. The number queued."""
    day = today()
    queued = 0
    for licence in models.licences_expiring(day, day + timedelta(days=max(notices.THRESHOLDS))):
        days_left = (licence.valid_until - day).days
        threshold = min(t for t in notices.THRESHOLDS if days_left <= t)
        with unit_of_work():
            queued += notices.expiring(licence, threshold=threshold, days_left=days_left)
    return queued


@wallet_cli.command("remind-expiring")
def remind_expiring_command() -> None:
    """Queue the licence expiry notices (30 and 7 days before valid_until). Run daily."""
    click.echo(f"queued {remind_expiring()} licence expiry notice(s)")


# --- The catalogue of matters (用证事项) ---------------------------------------------------------

def _licence_types(specs: tuple[str, ...]) -> list[dict] | None:
    """`TYPE:field=how,field=how` per licence type → the admin API's shape (None when none given)."""
    if not specs:
        return None
    found = []
    for spec in specs:
        type_code, _, fields = spec.partition(":")
        pairs = [item.partition("=") for item in fields.split(",") if item.strip()]
        found.append({"code": type_code.strip(),
                      "fields": [{"key": key.strip(), "how": how.strip() or "full"} for key, _, how in pairs]})
    return found


_TYPE_HELP = "A licence type it accepts and the fields it shows: TYPE:field=full|masked|tail4,… (repeat per type)."


@matters_cli.command("list")
@click.option("--all", "everything", is_flag=True, help="Inactive matters too.")
def list_matters_command(everything: bool) -> None:
    """The matters: code, active, name, accepted types and fields, legal basis."""
    for item in matters.localized(active_only=not everything):
        types = "; ".join(f"{t['code']}: " + ",".join(f"{f['key']}={f['how']}" for f in t["fields"])
                          for t in item["licence_types"])
        click.echo(f"{item['code']}\t{'active' if item['active'] else 'inactive'}\t{item['name_zh']} / "
                   f"{item['name_en']}\t{types}\t{item['legal_basis_zh']}")


@matters_cli.command("add")
@click.option("--code", required=True)
@click.option("--name-zh", required=True)
@click.option("--name-en", required=True)
@click.option("--basis-zh", required=True, help="The legal basis (法律依据), in Chinese.")
@click.option("--basis-en", required=True, help="The legal basis, in English.")
@click.option("--type", "types", multiple=True, required=True, help=_TYPE_HELP)
def add_matter_command(code: str, name_zh: str, name_en: str, basis_zh: str, basis_en: str,
                       types: tuple[str, ...]) -> None:
    """Add a matter (audited)."""
    try:
        matters.add_matter(actor_kind="cli", actor_id=None, code=code, name_zh=name_zh, name_en=name_en,
                           legal_basis_zh=basis_zh, legal_basis_en=basis_en, licence_types=_licence_types(types))
    except AppError as exc:
        fail(exc)
    click.echo(f"added {code}")


@matters_cli.command("update")
@click.argument("code")
@click.option("--name-zh")
@click.option("--name-en")
@click.option("--basis-zh", help="The legal basis (法律依据), in Chinese.")
@click.option("--basis-en", help="The legal basis, in English.")
@click.option("--type", "types", multiple=True, help=_TYPE_HELP + " Replaces all of them.")
@click.option("--activate", is_flag=True, help="Make an inactive matter active again.")
def update_matter_command(code: str, name_zh: str | None, name_en: str | None, basis_zh: str | None,
                          basis_en: str | None, types: tuple[str, ...], activate: bool) -> None:
    """Change a matter: only what is given (audited with before and after)."""
    try:
        matter = matters.update_matter(actor_kind="cli", actor_id=None, code=code, name_zh=name_zh, name_en=name_en,
                                       legal_basis_zh=basis_zh, legal_basis_en=basis_en,
                                       licence_types=_licence_types(types), active=True if activate else None)
    except AppError as exc:
        fail(exc)
    click.echo(f"updated {code} (version {matter.version})")


@matters_cli.command("deactivate")
@click.argument("code")
def deactivate_matter_command(code: str) -> None:
    """Deactivate a matter: the counter and third parties can no longer ask by it (audited)."""
    try:
        matter = matters.update_matter(actor_kind="cli", actor_id=None, code=code, active=False)
    except AppError as exc:
        fail(exc)
    click.echo(f"deactivated {code} (version {matter.version})")

