"""E-licence wallet (电子证照): the licence catalogue, issuance by departments, the holder's wallet."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Subscribe the wallet to identity signals: licences parked for a person are attached when that
    person passes real-name verification. Connecting the same receiver again is a no-op (blinker)."""
    from app.identity.signals import real_name_verified
    from wallet.issuance import on_real_name_verified

    real_name_verified.connect(on_real_name_verified)
