"""Service map (政务服务地图): halls, opening hours, queue lengths, nearby search."""
from __future__ import annotations

from flask import Flask

from app.cli import add_demo_seeder
from mapsvc import cli, demo, routes


def init_app(app: Flask, api) -> None:
    """The halls blueprint (nearby, detail, queue lengths), the halls commands, the demo halls."""
    api.register_blueprint(routes.blp)
    for group in cli.COMMANDS:
        app.cli.add_command(group)
    add_demo_seeder(app, demo.seed_halls)
