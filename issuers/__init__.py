"""The issuer registry (发证机关): issuing departments by their USCC, the licence types each may
issue, their status and the machine clients they act through (issue 17)."""
from __future__ import annotations

from flask import Flask

from app.cli import add_demo_seeder


def init_app(app: Flask, api) -> None:
    """The admin API (/api/v1/admin/issuers), the `flask issuers …` commands, the demo departments."""
    # import here: the routes' schemas list the wallet's licence types (wallet.service), and the wallet
    # imports issuers.service, which loads this package first: importing the rooms when the app is built
    # (not when the package is) keeps `import wallet` and `import issuers` working in either order.
    from issuers import cli, demo, routes, trust_routes
    api.register_blueprint(routes.blp)
    api.register_blueprint(trust_routes.blp)  # /.well-known/yiwang/issuers, /api/v1/admin/issuers/{id}/keys
    routes.init_issuing_check(app)
    for group in cli.COMMANDS:
        app.cli.add_command(group)
    add_demo_seeder(app, demo.seed)
