"""Case progress (办件进度): department events, the citizen's timeline, 好差评."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Subscribe to identity signals: cases parked for a person are attached (and their notices
    queued) when that person passes real-name verification. Connecting again is a no-op (blinker)."""
    from app.identity.signals import real_name_verified
    from cases.tasks import on_real_name_verified

    real_name_verified.connect(on_real_name_verified)


def register(api) -> None:
    from cases.routes import blp

    api.register_blueprint(blp)
