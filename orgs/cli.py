"""`flask orgs …`: the development business registry (BIZREG_BACKEND=dev; refused in production)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from orgs import service as orgs

orgs_cli = AppGroup("orgs", help="Enterprises (企业) and the development business registry.")
dev_registry_cli = AppGroup("dev-registry", help="The development business registry (orgs_dev_registry).")
orgs_cli.add_command(dev_registry_cli)


@dev_registry_cli.command("add")
@click.option("--uscc", required=True, help="统一社会信用代码 (18 characters, checked in full)")
@click.option("--name", required=True, help="the entity's registered name")
@click.option("--lr-name", required=True, help="the legal representative's name")
@click.option("--lr-id-number", required=True, help="the legal representative's ID number (stored as a blind index)")
@click.option("--entity-type", default="有限责任公司", show_default=True)
@click.option("--status", default="1", show_default=True, type=click.Choice(["1", "2", "3", "4", "9"]),
              help="1 存续/在业, 2 吊销, 3 注销, 4 迁出, 9 其他")
def add_entry(uscc: str, name: str, lr_name: str, lr_id_number: str, entity_type: str, status: str) -> None:
    """Add (or replace) a market entity in the development business registry."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("the development business registry is not used in production")
    try:
        code = orgs.add_dev_registry_entry(uscc=uscc, name=name, lr_name=lr_name, lr_id_number=lr_id_number,
                                           entity_type=entity_type, status=status)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"dev registry: {code} {name} (status {status})")
