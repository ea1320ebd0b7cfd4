"""Notifications (消息通知): the outbox every feature writes to, the worker that delivers it to the
inbox, the live stream and phone pushes."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from flask import Flask

from notify.push.base import PushChannel

if TYPE_CHECKING:
    from notify.limits import ProcessStreams


@dataclass
class NotifyState:
    channels: dict[str, PushChannel]  # platform → channel, as configured (PUSH_BACKEND, PUSH_CHANNELS)
    streams: ProcessStreams  # this process's open live streams (STREAM_MAX_PER_PROCESS)
    # The live streams' clocks (heartbeats and leases); tests move them instead of sleeping.
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time


def init_app(app: Flask) -> None:
    """Build the push channels chosen by configuration (once per app); subscribe to the end of login
    sessions (their push devices are dropped). Connecting again is a no-op (blinker)."""
    from app.identity.signals import session_ended
    from notify.limits import ProcessStreams
    from notify.push import build_channels

    app.extensions["notify"] = NotifyState(channels=build_channels(app.config, app.extensions["redis"]),
                                           streams=ProcessStreams(app.config["STREAM_MAX_PER_PROCESS"]))
    session_ended.connect(_drop_session_devices)


def _drop_session_devices(sender, *, session_id: str) -> None:
    from notify.service import drop_session_devices  # the service imports identity models: not at init

    drop_session_devices(session_id=session_id)


def register(api) -> None:
    from notify.routes import blp

    api.register_blueprint(blp)
