"""Authorised proxies (授权代理 / 亲友代办): grants, acceptance, acting for a relative."""
from __future__ import annotations

from flask import Flask

from proxies import hooks, routes


def init_app(app: Flask, api) -> None:
    """The per-request grant check for proxy tokens and the record of their requests; the API."""
    hooks.init_app(app)
    api.register_blueprint(routes.blp)
