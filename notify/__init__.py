"""Notifications (消息通知): the outbox every feature writes to, the worker that delivers it to the
inbox, the live stream and phone pushes."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from flask import Flask

from app.doctor import add_check
from identity.service import session_ended
from notify import cli, routes, service
from notify.limits import ProcessStreams
from notify.push import build_channels
from notify.push.base import PushChannel


@dataclass
class NotifyState:
    channels: dict[str, PushChannel]  # platform → channel, as configured (PUSH_BACKEND, PUSH_CHANNELS)
    streams: ProcessStreams  # this process's open live streams (STREAM_MAX_PER_PROCESS)
    # The live streams' clocks (heartbeats and leases); tests move them instead of sleeping.
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time


def init_app(app: Flask, api) -> None:
    """Build the push channels chosen by configuration (once per app); the devices, inbox,
    preferences and live-stream API; the worker's commands; the end of a login session drops its
    push devices (connecting again is a no-op: blinker)."""
    app.extensions["notify"] = NotifyState(channels=build_channels(app.config, app.extensions["redis"]),
                                           streams=ProcessStreams(app.config["STREAM_MAX_PER_PROCESS"]))
    api.register_blueprint(routes.blp)
    for group in cli.COMMANDS:
        app.cli.add_command(group)
    session_ended.connect(_drop_session_devices)
    add_check(app, service.outbox_check)  # flask doctor: the backlog


def _drop_session_devices(sender, *, session_id: str) -> None:
    service.drop_session_devices(session_id=session_id)
