"""E-licence wallet (电子证照): the licence catalogue, issuance by departments, the holder's wallet."""
from __future__ import annotations

from flask import Flask

from app.cli import add_demo_seeder
from identity.service import real_name_verified
from orgs.service import enterprise_registered
from wallet import cli, counter_page, demo, issuance, routes
from wallet.offline import cli as offline_cli


def init_app(app: Flask, api) -> None:
    """The wallet's API, the counter page and commands (`flask wallet remind-expiring`); licences
    parked for a person are attached (and their notices queued) when that person passes real-name
    verification, and those parked for a USCC when that enterprise registers (connecting the same
    receiver again is a no-op: blinker)."""
    api.register_blueprint(routes.blp)
    app.register_blueprint(counter_page.bp)
    cli.wallet_cli.add_command(offline_cli.verify_offline)  # flask wallet verify-offline
    for group in cli.COMMANDS:
        app.cli.add_command(group)
    real_name_verified.connect(issuance.on_real_name_verified)
    enterprise_registered.connect(issuance.on_enterprise_registered)  # licences parked for its USCC (issue 19)
    add_demo_seeder(app, demo.seed)
