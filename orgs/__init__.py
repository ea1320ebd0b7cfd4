"""Enterprises (企业, issue 19): registration by the legal representative against the business
registry, the enterprises a citizen may act for, and (orgs/agents.py, H6) their agents (经办人)."""
from __future__ import annotations

import importlib
from types import ModuleType

from flask import Flask


def _optional(name: str) -> ModuleType | None:
    """A module of this feature that may not be there yet (the agents part lands separately)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def init_app(app: Flask, api) -> None:
    """The enterprise API, the business registry, `flask orgs`, the demo seed; the agents' hooks
    (the "enterprise" delegation check) and routes when present."""
    from app.cli import add_demo_seeder
    from orgs import cli, demo, providers, routes

    providers.init_app(app)
    api.register_blueprint(routes.blp)
    app.cli.add_command(cli.orgs_cli)
    add_demo_seeder(app, demo.seed)
    hooks = _optional("orgs.hooks")
    if hooks is not None:
        hooks.init_app(app)
    agent_routes = _optional("orgs.agent_routes")
    if agent_routes is not None:
        api.register_blueprint(agent_routes.blp)
