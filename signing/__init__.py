"""SM2 cloud signing (电子云签) and third-party verification (验签).

Citizens enrol (PIN + key in the key store + certificate from the platform CA), create signing
requests and authorise each with their PIN; relying parties verify through `POST /verify/signatures`
or offline with the CA certificate, the CRL and OpenSSL.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Derive the PIN pepper (HMAC-SM3 key) from the data master key; register the blueprints."""
    from app.security.pii import derive_key

    app.extensions["signing_pin_key"] = derive_key(app.extensions["keys"].data_master_key, "signing/pin-pepper")


def register(api) -> None:
    from signing.routes import blp, verify_blp

    api.register_blueprint(blp)
    api.register_blueprint(verify_blp)
