"""Appointments (预约): slots from a hall's hours, booking, cancellation, check-in, no-show rules."""
from __future__ import annotations

from flask import Flask

from app.cli import add_demo_seeder
from appointments import cli, demo, routes


def init_app(app: Flask, api) -> None:
    api.register_blueprint(routes.blp)
    for group in cli.COMMANDS:
        app.cli.add_command(group)
    add_demo_seeder(app, demo.seed)
