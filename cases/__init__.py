"""Case progress (办件进度): department events, the citizen's timeline, 好差评."""
from __future__ import annotations

from flask import Flask

from app.cli import add_demo_seeder
from cases import cli, demo, routes, tasks
from identity.service import real_name_verified
from orgs.service import enterprise_registered


def init_app(app: Flask, api) -> None:
    """The cases API and commands; cases parked for a person are attached (and their notices queued)
    when that person passes real-name verification (connecting again is a no-op: blinker)."""
    api.register_blueprint(routes.blp)
    for group in cli.COMMANDS:
        app.cli.add_command(group)
    real_name_verified.connect(tasks.on_real_name_verified)
    enterprise_registered.connect(tasks.on_enterprise_registered)  # cases parked for its USCC (issue 19)
    add_demo_seeder(app, demo.seed)
