"""What each workload of deploy/k8s/ needs: memory (RSS) and CPU, measured on the real processes.

    .venv/bin/python bench/footprint.py                   # ~1-2 minutes; prints a Markdown table
    .venv/bin/python bench/footprint.py --requests 600 --json bench/results/footprint-latest.json

Starts, on one SQLite file and one embedded Redis (development adapters, as bench/servers does):
the API (`python serve.py`, WEB_CONCURRENCY=2, the pod's shape), `flask --app wsgi notify worker`,
`flask --app wsgi notify stream-server` and `flask --app wsgi audit seal --every 5` (the sealer's
Deployment), each in its own process group. The API is warmed with `--requests` mixed requests (the
citizens of bench/load/prepare.py: /api/v1/me, nearby halls, home, cases, inbox, licences, a licence
presentation) over a few connections; then every group's RSS is read (/proc/<pid>/status VmRSS, summed
over the group: granian's main process and its workers) and its CPU seconds (utime+stime) before and
after the warm-up, so the API's CPU per request is its own whatever else the machine was doing.

The Kubernetes requests are set from these figures (deploy/k8s/README.md "Resources"): memory request ≈
steady RSS + ~50 % headroom (a worker's heap grows with its caches), the limit 2× the request; CPU for the
API = CPU per request × the target rate per pod; the others by their idle+busy draw. RSS of the same
processes in the image differs little (same Python, same wheels), but a run on the production database
driver (psycopg pool) adds a few MiB per process.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO, HERE]

from server import _pids_in_group  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")
ENV = {"APP_ENV": "development", "AUTO_MIGRATE": "0", "NOTIFY_WORKER_IN_PROCESS": "0", "LOG_LEVEL": "WARNING",
       "LOGIN_PER_IP_MINUTE": "1000000000", "MAP_PER_IP_MINUTE": "1000000000", "PYTHONUNBUFFERED": "1"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=400, help="mixed API requests for the warm-up (default 400)")
    p.add_argument("--connections", type=int, default=4, help="client threads (default 4)")
    p.add_argument("--pool", type=int, default=30, help="citizens prepared (default 30)")
    p.add_argument("--json", default="", help="also write the figures here")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Group:
    """A command in its own process group; RSS and CPU are summed over the group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: str) -> None:
        self.name, self.log = name, open(log_path, "ab")
        self.proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def pids(self) -> list[int]:
        return _pids_in_group(self.proc.pid)

    def rss_mib(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as fh:
                    total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
            except (OSError, StopIteration):
                continue
        return total / 1024

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / _TICK

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(25)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass
        self.log.close()


def wait_ready(url: str, group: Group, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group.alive():
            raise RuntimeError(f"{group.name} exited with {group.proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{group.name}: {url} not ready after {timeout:.0f} s")


def _requests(data_dir: str) -> list[tuple[str, str, str]]:
    """(method, path, token) for one citizen each, in the mix of bench/load/mix.lua (reads dominate)."""
    with open(os.path.join(data_dir, "citizens.tsv")) as fh:
        citizens = [line.rstrip("\n").split("\t") for line in fh if line.strip()]
    lat, lng = "31.8206", "117.2272"  # central Hefei, where prepare.py puts the bench halls
    mix = []
    for token, licence_id, *_ in citizens:
        mix += [("GET", "/api/v1/me", token), ("GET", f"/api/v1/map/halls/nearby?lat={lat}&lng={lng}&radius_m=5000", token),
                ("GET", f"/api/v1/bff/home?lat={lat}&lng={lng}", token), ("GET", "/api/v1/cases?limit=20", token),
                ("GET", "/api/v1/notifications?limit=20", token), ("GET", "/api/v1/wallet/licences", token),
                ("POST", f"/api/v1/wallet/licences/{licence_id}/presentations", token)]
    return mix


def warm(base: str, mix: list[tuple[str, str, str]], total: int, connections: int) -> dict[int, int]:
    """`total` requests drawn from `mix` over `connections` threads; the count of each status."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    rng = random.Random(21)
    plan = [rng.choice(mix) for _ in range(total)]

    def run(share: list[tuple[str, str, str]]) -> None:
        for method, path, token in share:
            request = urllib.request.Request(base + path, method=method, data=b"{}" if method == "POST" else None,
                                             headers={"Authorization": f"Bearer {token}",
                                                      "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=30) as r:
                    status = r.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=run, args=(plan[i::connections],)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="yiwang-footprint-")
    var_dir, data_dir = os.path.join(workdir, "var"), os.path.join(workdir, "data")
    os.makedirs(var_dir)
    os.makedirs(data_dir)
    from app.config import DEFAULTS  # the developer's own settings must not leak into the measurement
    env = {k: v for k, v in os.environ.items() if k not in DEFAULTS and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(ENV, VAR_DIR=var_dir)
    from app.redis import embedded_redis, stop_embedded_server  # only the run starts the server

    redis_server = embedded_redis(var_dir)
    groups: dict[str, Group] = {}
    try:
        for step in (["-m", "flask", "--app", "wsgi", "db", "upgrade"],
                     [os.path.join(HERE, "load", "prepare.py"), "people", data_dir, str(args.pool)],
                     [os.path.join(HERE, "load", "prepare.py"), "phase", data_dir, "1", os.path.join(workdir, "l.txt")]):
            done = subprocess.run([sys.executable, *step], cwd=REPO, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(step[:3])} failed\n{done.stdout}\n{done.stderr}")
        api_port, stream_port = free_port(), free_port()
        api_env = dict(env, BIND=f"127.0.0.1:{api_port}", WEB_CONCURRENCY="2", METRICS_PORT=str(free_port()))
        log = lambda name: os.path.join(workdir, f"{name}.log")  # noqa: E731
        groups["api"] = Group("api (serve.py, 2 workers)", [sys.executable, "serve.py"], api_env, log("api"))
        groups["worker"] = Group("notify worker", [sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker"],
                                 env, log("worker"))
        groups["stream"] = Group("stream server", [sys.executable, "-m", "flask", "--app", "wsgi", "notify",
                                                   "stream-server", "--host", "127.0.0.1", "--port", str(stream_port)],
                                 env, log("stream"))
        groups["sealer"] = Group("audit sealer", [sys.executable, "-m", "flask", "--app", "wsgi", "audit", "seal",
                                                  "--every", "5"], env, log("sealer"))
        wait_ready(f"http://127.0.0.1:{api_port}/readyz", groups["api"])
        wait_ready(f"http://127.0.0.1:{stream_port}/healthz", groups["stream"])
        time.sleep(3)  # the worker and the sealer have built their apps
        idle = {k: (g.rss_mib(), g.cpu_seconds()) for k, g in groups.items()}
        started = time.monotonic()
        statuses = warm(f"http://127.0.0.1:{api_port}", _requests(data_dir), args.requests, args.connections)
        elapsed = time.monotonic() - started
        time.sleep(2)  # the worker delivers the presentations' notices, the sealer seals their audit rows
        busy = {k: (g.rss_mib(), g.cpu_seconds()) for k, g in groups.items()}
        for name, g in groups.items():
            if not g.alive():
                raise RuntimeError(f"{g.name} exited during the run; log {log(name)}")
    except RuntimeError as exc:
        print(f"footprint failed: {exc}\nlogs kept in {workdir}", file=sys.stderr)
        return 1
    finally:
        for g in groups.values():
            g.stop()
        stop_embedded_server(redis_server)
    ok = sum(n for s, n in statuses.items() if s < 400)
    api_cpu = busy["api"][1] - idle["api"][1]
    doc = {"requests": args.requests, "statuses": statuses, "seconds": round(elapsed, 2),
           "api_cpu_ms_per_request": round(api_cpu / args.requests * 1000, 2),
           "processes": {k: {"name": groups[k].name, "rss_idle_mib": round(idle[k][0], 1),
                             "rss_after_mib": round(busy[k][0], 1),
                             "cpu_s_during_warmup": round(busy[k][1] - idle[k][1], 2)} for k in groups}}
    print(f"YiWang footprint: {args.requests} mixed API requests in {elapsed:.1f} s over {args.connections} "
          f"connections ({ok} answered < 400: {dict(sorted(statuses.items()))})\n")
    print("| process | RSS idle | RSS after warm-up | CPU during warm-up |")
    print("|---|---:|---:|---:|")
    for k, row in doc["processes"].items():
        print(f"| {row['name']} | {row['rss_idle_mib']} MiB | {row['rss_after_mib']} MiB | {row['cpu_s_during_warmup']} s |")
    print(f"\nAPI CPU per request: {doc['api_cpu_ms_per_request']} ms (both workers and granian's main process)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=2)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok >= args.requests * 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
