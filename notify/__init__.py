"""Notifications (消息通知): the outbox every feature writes to, the worker that delivers it to the
inbox, the live stream and phone pushes."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from notify.push.base import PushChannel


@dataclass
class NotifyState:
    channels: dict[str, PushChannel]  # platform → channel, as configured (PUSH_BACKEND, PUSH_CHANNELS)


def init_app(app: Flask) -> None:
    """Build the push channels chosen by configuration (once per app)."""
    from notify.push import build_channels

    app.extensions["notify"] = NotifyState(channels=build_channels(app.config, app.extensions["redis"]))


def register(api) -> None:
    from notify.routes import blp

    api.register_blueprint(blp)
