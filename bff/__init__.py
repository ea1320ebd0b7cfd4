"""Mobile backend-for-frontend: home screen, authorised proxies (授权代理), client conventions."""
from __future__ import annotations

from flask import Flask


def init_proxies(app: Flask) -> None:
    """The per-request grant check for proxy tokens and the record of their requests."""
    from bff import proxy_hooks

    proxy_hooks.init_app(app)


def register_proxies(api) -> None:
    from bff.proxy_routes import blp

    api.register_blueprint(blp)


def init_conventions(app: Flask) -> None:
    """The client version gate (426) and the BFF's ETag/304 and gzip (bff/conventions.py)."""
    from bff import conventions

    conventions.init_app(app)


def register_home(api) -> None:
    from bff.routes import blp

    api.register_blueprint(blp)
