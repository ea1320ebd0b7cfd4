"""`flask --app wsgi notify …`: the worker, dead-letter replay, counts."""
from __future__ import annotations

import json
import signal
import threading

import click
import uvicorn
from flask import current_app
from flask.cli import AppGroup

from app import state_metrics
from app.db import db
from notify import metrics
from notify.asgi import StreamServer
from notify.tasks import NotifyWorker, replay_dead
from notify.tasks import stats as counts

notify_cli = AppGroup("notify", help="Notifications: worker, dead letters (死信), statistics.")
COMMANDS = (notify_cli,)


@notify_cli.command("worker")
@click.option("--once", is_flag=True, help="Handle what is due, then exit.")
def worker(once: bool) -> None:
    """Deliver the outbox: inbox entries, live events, pushes (runs until SIGTERM/SIGINT)."""
    app = current_app._get_current_object()
    runner = NotifyWorker(app)
    if once:
        click.echo(f"handled {runner.drain()} row(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # the outbox, certificate, CRL and calendar gauges, served on this process's METRICS_PORT
    state_metrics.serve_listener()
    refresher = state_metrics.start_refresher(app, metrics.STATE_SOURCES)
    runner.run(stop)
    refresher.set()


@notify_cli.command("stream-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
def stream_server(host: str, port: int) -> None:
    """Serve GET /api/v1/notifications/stream on asyncio (one process, no thread per stream)."""
    server = StreamServer(current_app._get_current_object())
    state_metrics.serve_listener(host)  # yiwang_sse_connections (notify/asgi.py) on METRICS_PORT
    uvicorn.run(server, host=host, port=port, lifespan="on", access_log=False, log_config=None,
                timeout_graceful_shutdown=20, timeout_keep_alive=5)


@notify_cli.command("replay")
@click.option("--outbox-id", type=int, default=None, help="Only this outbox row and its deliveries.")
def replay(outbox_id: int | None) -> None:
    """Re-queue dead letters (outbox rows and push deliveries) for another round of attempts."""
    with db.connection_context():
        rows, deliveries = replay_dead(outbox_id=outbox_id)
    click.echo(f"re-queued {rows} outbox row(s) and {deliveries} delivery(ies)")


@notify_cli.command("stats")
def stats() -> None:
    """Counts by status (outbox, deliveries, push attempts per channel) as JSON."""
    with db.connection_context():
        click.echo(json.dumps(counts(), sort_keys=True))
