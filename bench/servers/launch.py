"""The WSGI servers bench/servers/compare.py measures, each for the bare baseline and for the app.

    gunicorn-sync     gunicorn -c gunicorn.conf.py, GUNICORN_THREADS=1 (sync workers: the API pool's shape)
    gunicorn-gthread  the same with GUNICORN_THREADS=4 (gthread workers: `make run`'s default)
    granian           granian --interface wsgi, one blocking thread per worker (Rust HTTP/1 front end)

All with the same worker count. The bare baseline runs under each with the same settings
(bench/baseline_gunicorn_conf.py reads gunicorn.conf.py's plain settings; granian gets the
same flags as for the app). The servers all join one embedded Redis the caller started, so
none of them owns it, and each app server gets its own Prometheus multi-process directory, as
gunicorn's `on_starting` makes one (so the app's metrics cost the same under every server, and
several servers can run side by side on one VAR_DIR).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

from server import GunicornServer, ServerError, _pids_in_group  # noqa: E402

SERVERS = ("gunicorn-sync", "gunicorn-gthread", "granian")
GTHREADS = 4


class CommandServer(GunicornServer):
    """A server started by `command()` on 127.0.0.1:<free port>, in its own process group; the same
    start/ready (GET /readyz)/stop/stray checks as GunicornServer."""

    def __init__(self, **kw) -> None:
        super().__init__(conf="", **kw)

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 60.0) -> None:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=REPO, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name}: exited with {self.proc.returncode}\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.2)
        self.stop()
        raise ServerError(f"{self.name}: not ready after {timeout:.0f} s\n{self.log_tail()}")


class GranianServer(CommandServer):
    """`granian --interface wsgi APP`."""

    def __init__(self, *, blocking_threads: int, workers: int, working_dir: str = REPO, **kw) -> None:
        super().__init__(**kw)
        self.blocking_threads, self.workers, self.working_dir = blocking_threads, workers, working_dir

    def command(self) -> list[str]:
        return [os.path.join(os.path.dirname(sys.executable), "granian"), "--interface", "wsgi",
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
                "--blocking-threads", str(self.blocking_threads), "--no-access-log", "--log-level", "warning",
                "--working-dir", self.working_dir, self.app]


class StreamServer(CommandServer):
    """`flask --app wsgi notify stream-server` (asyncio under uvicorn, one process): production's SSE pool."""

    def __init__(self, *, env: dict[str, str], **kw) -> None:
        # uvicorn reads WEB_CONCURRENCY as its worker count, and refuses workers for an app object
        super().__init__(app="wsgi", env={k: v for k, v in env.items() if k != "WEB_CONCURRENCY"}, **kw)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "flask", "--app", "wsgi", "notify", "stream-server", "--host", "127.0.0.1",
                "--port", str(self.port)]


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: GunicornServer) -> float:
    """User + system CPU seconds used so far by every process in the server's group (master and
    workers, all their threads): the server's own cost, whatever share of a busy machine it got."""
    total = 0
    for pid in _pids_in_group(server.proc.pid):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / _TICK


def make(kind: str, *, bare: bool, env: dict[str, str], workers: int, log_path: str) -> GunicornServer:
    """A server of `kind` for the bare baseline (`bare`) or the app (wsgi:app)."""
    env = dict(env, WEB_CONCURRENCY=str(workers))
    name = f"{kind} {'bare' if bare else 'app'}"
    if not bare:  # what gunicorn.conf.py's on_starting does, one directory per server (they share VAR_DIR)
        metrics_dir = os.path.join(os.path.dirname(log_path), f"prometheus-{kind}")
        os.makedirs(metrics_dir, exist_ok=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    if kind == "granian":
        return GranianServer(name=name, app="baseline_app:app" if bare else "wsgi:app", env=env, log_path=log_path,
                             workers=workers, blocking_threads=1, working_dir=BENCH if bare else REPO)
    env["GUNICORN_THREADS"] = str(GTHREADS if kind == "gunicorn-gthread" else 1)
    if bare:
        return GunicornServer(name=name, conf=os.path.join(BENCH, "baseline_gunicorn_conf.py"), app="baseline_app:app",
                              env=env, log_path=log_path, extra_args=["--pythonpath", BENCH])
    return GunicornServer(name=name, conf=os.path.join(REPO, "gunicorn.conf.py"), app="wsgi:app", env=env,
                          log_path=log_path)


def finish(doc: dict, markdown: str, json_path: str, workdir: str, *, keep: bool) -> None:
    """The end of a run: the markdown printed, whether the servers stopped cleanly, the JSON written,
    the working directory removed (or kept)."""
    doc["markdown"] = markdown
    print()
    print(markdown)
    print(f"\nclean stop: {'yes' if not doc['strays'] else doc['strays']}")
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    with open(json_path, "w") as fh:
        json.dump(doc, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"results: {os.path.relpath(json_path, REPO)}")
    if keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
