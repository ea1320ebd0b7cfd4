"""The API server in production: granian (WSGI interface), `python serve.py` (the Dockerfile's CMD).

granian's HTTP/1.1 front end is Rust (parsing, keep-alive, the accept loop), so each request spends
its Python time in the app only; measured beside gunicorn's sync and gthread workers with the same
worker count (bench/servers/compare.py, bench/README.md "Servers"), it used less server CPU per
request on every endpoint (a quarter of gunicorn sync's on bare Flask, ~40 % on GET /api/v1/me),
and answered more. The same environment as gunicorn.conf.py (which `make run` keeps using, for
its development hooks, and which stays a working alternative: `gunicorn -c gunicorn.conf.py wsgi:app`):

  BIND             the API's address (default 127.0.0.1:8000; the image sets 0.0.0.0:8000)
  WEB_CONCURRENCY  worker processes (default: CPU count), each one thread running the app
                   (`GUNICORN_THREADS=1`'s shape: the app's requests are CPU-bound Python, one GIL)
  METRICS_PORT     the internal /metrics listener (deploy/k8s/configmap.yaml), on BIND's host unless
                   METRICS_BIND names an address: served here in the main process, adding up every
                   worker's samples (Prometheus multi-process mode, its directory made fresh at start,
                   before any worker imports the app). The API's own /metrics stays 404 on BIND.

Streams are not served here (STREAM_MAX_PER_PROCESS defaults to 0: the route answers 503
stream_capacity): production serves them from `flask --app wsgi notify stream-server` (asyncio,
deploy/k8s/stream.yaml), so no stream holds a worker. gunicorn's 30 s worker timeout has no granian
equivalent; a request is bounded by the database's and Redis' own timeouts and the Ingress' read
timeout, and a worker that dies is respawned. gunicorn's request-line and header limits are the
Ingress' header buffers here; the body's limit is the app's MAX_CONTENT_LENGTH under either server.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path

from granian import Granian
from granian.constants import Interfaces


def _host_port(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    return host or "127.0.0.1", int(port)


def _metrics_dir() -> None:
    """As gunicorn.conf.py's on_starting: prometheus_client picks multi-process mode when first imported."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        path = os.path.join(os.environ.get("VAR_DIR") or "./var", "prometheus")
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _LiveWorkers:
    """The directory's samples, after dropping the `live*` gauges (DB pool, Redis round trip:
    app/business_metrics.py) of workers that died: granian respawns a worker without gunicorn's
    child_exit hook, and a dead worker's pool must not stay in the sum."""

    def __init__(self, path: str) -> None:
        from prometheus_client import multiprocess

        self._path, self._inner = path, multiprocess.MultiProcessCollector(None, path)

    def collect(self):
        from prometheus_client import multiprocess

        for name in os.listdir(self._path):
            if name.startswith("gauge_live") and name.endswith(".db"):
                pid = name[:-3].rpartition("_")[2]
                if pid.isdigit() and not _alive(int(pid)):
                    multiprocess.mark_process_dead(int(pid), self._path)
        return self._inner.collect()


def _metrics_listener(host: str) -> None:
    port = os.environ.get("METRICS_PORT", "")
    if port in ("", "0"):
        return
    from prometheus_client import CollectorRegistry, start_http_server  # after the directory is set

    registry = CollectorRegistry()
    registry.register(_LiveWorkers(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    start_http_server(int(port), addr=os.environ.get("METRICS_BIND") or host, registry=registry)


def main() -> None:
    host, port = _host_port(os.environ.get("BIND", "127.0.0.1:8000"))
    os.environ.setdefault("STREAM_MAX_PER_PROCESS", "0")
    os.environ.setdefault("AUTO_MIGRATE", "0")  # production migrates in a Job before the rollout (deploy/k8s/migrate-job.yaml)
    _metrics_dir()
    _metrics_listener(host)
    Granian("wsgi:app", address=host, port=port, interface=Interfaces.WSGI,
            workers=int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count())), blocking_threads=1,
            respawn_failed_workers=True, workers_kill_timeout=20, log_access=False,
            working_dir=Path(__file__).resolve().parent).serve()


if __name__ == "__main__":
    main()
