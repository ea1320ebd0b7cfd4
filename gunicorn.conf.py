"""gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app` (what `make run` uses). Production's API
runs `python serve.py` (granian, same environment; bench/README.md "Servers"); this file stays the
development server (its hooks below) and a working alternative for production.

The master process starts the embedded Redis server (so it outlives worker
restarts), applies migrations once, and prepares Prometheus' multi-process
directory so /metrics adds up every worker. It binds two addresses: the API (`BIND`) and the
internal metrics listener (`METRICS_PORT`, the only one /metrics answers on).
"""
import multiprocessing
import os
import shutil

bind = [os.environ.get("BIND", "127.0.0.1:8000")]
# The internal listener for /metrics (app/health.py answers it on no other port), bound when
# METRICS_PORT is set (deploy/k8s/configmap.yaml; locally `METRICS_PORT=9100 make run`): the public
# bind's host with that port, unless METRICS_BIND names an address. Unset: no second bind, so two
# servers (or test rigs) on one machine do not fight over it.
_metrics_port = os.environ.get("METRICS_PORT", "")
if _metrics_port not in ("", "0"):
    bind.append(os.environ.get("METRICS_BIND") or f"{bind[0].rpartition(':')[0] or '127.0.0.1'}:{_metrics_port}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
# Threads (gthread workers): a live notification stream (SSE) served here holds a thread for its life.
# Production serves the stream from `flask --app wsgi notify stream-server` (asyncio, no thread per
# stream; deploy/k8s/stream.yaml) and the API pool with GUNICORN_THREADS=1 (sync workers): the API's
# requests are CPU-bound Python, and threads sharing one GIL measured 20–50 % slower per worker
# (bench/README.md). The default of 4 keeps `make run` (one pool for everything) able to hold a few:
# `make run` is the development shape, where a stream does hold a thread (at most half of them, below);
# production's API pool holds none (bench/servers/sse_hold.py measures that shape with 1,000 streams).
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app logs each request as JSON, with masking


def on_starting(server):
    # Streams may take at most half of a worker's threads (then 503 stream_capacity with Retry-After), so
    # the API keeps the rest: 2 of 4 under `make run`, none on the sync API pool (streams go elsewhere).
    os.environ.setdefault("STREAM_MAX_PER_PROCESS", str(server.cfg.threads // 2))
    # prometheus_client picks single- or multi-process mode when it is first imported, and importing the
    # app imports it: the directory is set before the app is loaded (VAR_DIR as app/config.py reads it).
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        metrics_dir = os.path.join(os.environ.get("VAR_DIR") or "./var", "prometheus")
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.makedirs(metrics_dir, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from app import config, db as app_db, redis as app_redis  # import here: reading this file must not load the app

    settings = config.load_settings()
    if not settings["REDIS_URL"]:
        server._yiwang_redis = app_redis.embedded_redis(settings["VAR_DIR"])
    if settings["APP_ENV"] == "development" and settings["AUTO_MIGRATE"]:
        app_db.db.initialize(app_db.make_database(settings["DATABASE_URL"]))
        app_db.migrate()
        app_db.db.close()
    os.environ["AUTO_MIGRATE"] = "0"  # done once here, not in every worker


def post_worker_init(worker):
    """Development: each server process also runs a notify worker thread (outbox → inbox, live
    events, pushes to the log) and, as the worker does, refreshes the state gauges (outbox, certificates,
    CRL, calendar: app/state_metrics.py) for this /metrics; production runs `flask --app wsgi notify
    worker` on its own."""
    app = worker.wsgi
    if app.config["APP_ENV"] == "development" and app.config["NOTIFY_WORKER_IN_PROCESS"]:
        from app import state_metrics  # import here: the features load with the app, in the worker
        from notify.metrics import STATE_SOURCES
        from notify.service import start_background_worker

        start_background_worker(app)
        state_metrics.start_refresher(app, STATE_SOURCES)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # import here: only after on_starting set its directory

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Stop the embedded Redis server if this master started it (even if a worker still held a
    connection to it), removing only what it created: a server the next `make run` started
    meanwhile keeps its registry (app/redis.py)."""
    embedded = getattr(server, "_yiwang_redis", None)
    if embedded is not None:
        from app.redis import stop_embedded_server  # import here: as in on_starting

        stop_embedded_server(embedded)
