"""SM2 cloud signing (电子云签) and third-party verification (验签).

Citizens enrol (PIN + key in the key store + certificate from the platform CA), create signing
requests and authorise each with their PIN; relying parties verify through `POST /verify/signatures`
or offline with the CA certificate, the CRL and OpenSSL.
"""
from __future__ import annotations

from flask import Flask

from app.cli import add_demo_seeder
from app.security.pii import derive_key
from signing import cli, demo, pki_routes, report_cli, report_routes, routes  # noqa: F401 - report_cli: its command
from signing import timestamp_routes


def init_app(app: Flask, api) -> None:
    """Derive the PIN pepper (HMAC-SM3 key) from the data master key; register the blueprints and
    the commands (`flask signing remind-expiring`)."""
    app.extensions["signing_pin_key"] = derive_key(app.extensions["keys"].data_master_key, "signing/pin-pepper")
    api.register_blueprint(routes.blp)
    api.register_blueprint(routes.verify_blp)
    api.register_blueprint(timestamp_routes.blp)  # RFC 3161 time-stamping, /timestamps
    api.register_blueprint(report_routes.blp)  # GET /verify/reports/{id}(.pdf)
    api.register_blueprint(pki_routes.pki_blp)  # ca.cer, OCSP
    for group in cli.COMMANDS:
        app.cli.add_command(group)
    add_demo_seeder(app, demo.seed)
