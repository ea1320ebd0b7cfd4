"""Authorised proxies (授权代理 / 亲友代办): grants, acceptance, acting for a relative."""
from __future__ import annotations

from flask import Flask

from app.cli import add_demo_seeder
from proxies import demo, hooks, routes


def init_app(app: Flask, api) -> None:
    """The per-request grant check for proxy tokens and the record of their requests; the API."""
    hooks.init_app(app)
    api.register_blueprint(routes.blp)
    add_demo_seeder(app, demo.seed)
