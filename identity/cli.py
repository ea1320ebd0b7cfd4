"""Identity commands: `flask --app wsgi registry|staff|clients …` (registered by identity.init_app)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import fail
from app.errors import AppError
from identity.devdata import add_registry_entry
from identity.staff import create_client, create_staff, set_client_halls

registry_cli = AppGroup("registry", help="Development population registry (人口库).")
staff_cli = AppGroup("staff", help="Counter clerks and administrators.")
clients_cli = AppGroup("clients", help="Machine clients (client credentials).")
COMMANDS = (registry_cli, staff_cli, clients_cli)


@registry_cli.command("add")
@click.option("--name", required=True)
@click.option("--id-number", required=True)
def registry_add(name: str, id_number: str) -> None:
    """Add a person to the development registry."""
    try:
        add_registry_entry(name=name, id_number=id_number)
    except AppError as exc:
        fail(exc)
    click.echo("registry entry saved")


@staff_cli.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(["counter", "clerk", "admin"]), required=True)
@click.option("--hall", "hall_code", default=None, help="Hall code (clerks)")
def staff_create(username: str, password: str, role: str, hall_code: str | None) -> None:
    """Create a staff account."""
    try:
        staff = create_staff(username=username, password=password, role=role, hall_code=hall_code)
    except AppError as exc:
        fail(exc)
    click.echo(f"staff {staff.username} ({staff.role}) created: {staff.id}")


@clients_cli.command("create")
@click.option("--name", required=True)
@click.option("--scopes", required=True, help='Space-separated, e.g. "licences:issue cases:write"')
@click.option("--halls", default="", help='Hall codes it acts for, space-separated (a queue system: "halls:write")')
def clients_create(name: str, scopes: str, halls: str) -> None:
    """Register a machine client; prints its id and secret once."""
    try:
        client, secret = create_client(name=name, scopes=scopes.split(), halls=halls.split())
    except AppError as exc:
        fail(exc)
    click.echo(f"client_id={client.client_id}")
    click.echo(f"client_secret={secret}")
    click.echo("The secret is shown only now; it is stored hashed.", err=True)


@clients_cli.command("halls")
@click.argument("client_id")
@click.option("--add", "add", multiple=True, help="bind it to this hall code (repeatable)")
@click.option("--remove", "remove", multiple=True, help="unbind it from this hall code (repeatable)")
def clients_halls(client_id: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Show or change the halls a machine client acts for (audited)."""
    try:
        halls = set_client_halls(client_id=client_id, add=list(add), remove=list(remove))
    except AppError as exc:
        fail(exc)
    click.echo(" ".join(halls) or "(no halls)")
