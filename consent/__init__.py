"""Consent-based online verification (用证授权): a third party asks a citizen to disclose a matter's
fields; the citizen approves (with a step-up) or refuses in the app; the verifier receives an SM2
signed disclosure by direct_post and on its poll. See `service.py` for the model (OpenID4VP 1.0)
and where YiWang differs."""
from __future__ import annotations

from flask import Flask

from consent import cli, routes

DEFAULTS = {
    "CONSENT_REQUEST_TTL": 300,  # seconds a request waits for the citizen (a verifier may ask 60–900)
    "CONSENT_DISCLOSURE_TTL": 600,  # the signed disclosure's exp − iat
    "CONSENT_PER_CLIENT_HOUR": 1000,  # requests a verifier may make per hour
    "CONSENT_PER_CITIZEN_HOUR": 5,  # requests a verifier may make to one phone per hour (no notice flood)
    "CONSENT_DELIVERY_TIMEOUT": (3.0, 5.0),  # direct_post (connect, read) seconds
    "CONSENT_DELIVERY_MAX_ATTEMPTS": 10,  # then `failed` (the verifier can still poll)
    "CONSENT_ISSUER": "https://yiwang.gov.cn",  # the disclosure's `iss`
}


def init_app(app: Flask, api) -> None:
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    # http response_uris only where nothing real is at stake (the tests' local fake server)
    app.config.setdefault("CONSENT_ALLOW_HTTP_RESPONSE_URI", app.config.get("APP_ENV") in ("development", "testing"))
    api.register_blueprint(routes.blp)
    app.cli.add_command(cli.consent_cli)
