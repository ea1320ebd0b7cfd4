"""Identity (实名认证): citizens, staff and machine clients; login, tokens, real-name levels."""
from __future__ import annotations

from flask import Flask

from app.cli import add_demo_seeder
from app.security.auth import IdentityHooks, use_identity
from identity import (
    assurance, assurance_routes, cli, dev_routes, devdata, models, ncid_routes, providers, routes, session_routes,
)


def init_app(app: Flask, api) -> None:
    """The identity providers (SMS, registry, WeChat, liveness), what authentication asks of identity
    (revoked sessions, assurance levels), the login, profile and session blueprints, the development
    tools (development and testing only) and the commands."""
    providers.init_providers(app)
    use_identity(app, IdentityHooks(session_revoked=models.session_is_revoked,
                                    revocations_since=models.revocations_since,
                                    require_level=assurance.level_hook))
    api.register_blueprint(routes.auth_blp)
    api.register_blueprint(routes.me_blp)
    api.register_blueprint(ncid_routes.auth_blp)  # 网号: login, link, step-up, identity consents
    api.register_blueprint(ncid_routes.me_blp)
    api.register_blueprint(assurance_routes.me_blp)  # /me/assurance, /me/step-up…, /me/identity-codes
    api.register_blueprint(assurance_routes.counter_blp)  # /counter/identity-checks (clerks, L4)
    api.register_blueprint(session_routes.blp)  # /me/sessions: list, revoke one with its proxy grants
    if app.config["APP_ENV"] in ("development", "testing"):
        api.register_blueprint(dev_routes.blp)
    for group in cli.COMMANDS:
        app.cli.add_command(group)
    add_demo_seeder(app, devdata.seed)
