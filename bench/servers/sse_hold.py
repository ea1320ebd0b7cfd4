"""SSE must not hold an API worker: ordinary requests' latency with 0 and with 1,000 open live streams.

    make bench-sse-hold
    .venv/bin/python bench/servers/sse_hold.py --streams 1000 --duration 10

Production's shape on one machine: the API pool (`--api-server`, default granian as serve.py runs it:
one app thread per worker, workers = CPU count; or gunicorn-sync, gunicorn-gthread), the stream server (`flask --app wsgi notify stream-server`,
asyncio, STREAM_MAX_PER_PROCESS as deploy/k8s/stream.yaml) and the notification worker, on one SQLite
file and one embedded Redis. wrk drives GET /api/v1/me (bench/servers/one.lua) against the API, closed
loop and paced at `--paced-fraction` of the closed-loop rate, three times: with no stream open, with
`--streams` streams open (each authenticated with a citizen's bearer token, as the app's clients do; at
most 3 per citizen, the per-citizen cap), and after they are closed. Then one notice for each of
`--notify` citizens goes through the outbox and the worker, and every stream of those citizens must
receive it as a live `event: notification` (and every other stream must still be open).
Results: bench/results/sse-hold-latest.json and a Markdown table.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
sys.path[:0] = [REPO, BENCH, os.path.join(BENCH, "load"), HERE]

import compare  # noqa: E402
import launch  # noqa: E402
import mixed  # noqa: E402
import run as bench_run  # noqa: E402
from server import ServerError, processes_using  # noqa: E402

STREAM = "/api/v1/notifications/stream"
PER_USER = 3  # STREAM_MAX_PER_USER's default: a 4th stream of one citizen would close the oldest


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--streams", type=int, default=1000, help="open streams (default 1000)")
    p.add_argument("--notify", type=int, default=20, help="citizens sent a live notice while streams are open (20)")
    p.add_argument("--api-server", default="granian", choices=launch.SERVERS, help="the API pool's server (granian)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="API workers (default: CPU count)")
    p.add_argument("--duration", type=float, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument("--paced-fraction", type=float, default=0.5, help="paced rate / closed-loop rate (default 0.5)")
    p.add_argument("--json", default=os.path.join(BENCH, "results", "sse-hold-latest.json"))
    p.add_argument("--keep", action="store_true")
    return p.parse_args(argv)


class Stream:
    """One SSE stream over a raw asyncio connection: the status, then lines until it ends."""

    def __init__(self, index: int, token: str, user: str) -> None:
        self.index, self.token, self.user = index, token, user
        self.status: int | None = None
        self.notified_at: float | None = None
        self.ended: str | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self, port: int) -> None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write((f"GET {STREAM} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                           f"Authorization: Bearer {self.token}\r\n\r\n").encode())
        await self.writer.drain()
        self.status = int((await reader.readline()).split()[1])
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        self.task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            async for line in reader:
                if line.startswith(b"event: notification") and self.notified_at is None:
                    self.notified_at = time.monotonic()
                elif line.startswith(b"event: end"):
                    self.ended = "end event"
            self.ended = self.ended or "closed by the server"
        except (ConnectionError, asyncio.CancelledError):
            self.ended = self.ended or "connection error"

    def close(self) -> None:
        if self.writer:
            self.task.cancel()
            self.writer.close()


async def open_all(streams: list[Stream], port: int, parallel: int = 50) -> float:
    gate = asyncio.Semaphore(parallel)
    t0 = time.monotonic()

    async def one(s: Stream) -> None:
        async with gate:
            try:
                await asyncio.wait_for(s.open(port), 30)
            except (OSError, asyncio.TimeoutError, ValueError, IndexError) as exc:
                s.ended = f"open failed: {type(exc).__name__}"

    await asyncio.gather(*(one(s) for s in streams))
    return time.monotonic() - t0


def measure(port: int, data_dir: str, args, label: str, pause_ms: int) -> dict:
    out = {"closed": compare.wrk_one(port, "me", data_dir, 200, args),
           "paced": compare.wrk_one(port, "me", data_dir, 200, args, pause_ms=pause_ms)}
    paced = out["paced"]
    print(f"  {label}: closed loop {out['closed']['rps']:,.0f} req/s, p50 {out['closed']['p50_ms']} ms, p99 "
          f"{out['closed']['p99_ms']} ms; paced {paced['rps']:,.0f} req/s, p50 {paced['p50_ms']} ms, p99 "
          f"{paced['p99_ms']} ms", flush=True)
    return out


async def scenario(args, env, workdir: str, data_dir: str, api, stream_server) -> dict:
    with open(os.path.join(data_dir, "citizens.tsv")) as fh:
        tokens = [line.split("\t")[0] for line in fh if line.strip()]
    with open(os.path.join(data_dir, "users.txt")) as fh:
        users = [line.strip() for line in fh if line.strip()]
    result: dict = {}
    await asyncio.to_thread(compare.wrk_one, api.port, "me", data_dir, 200, args, 5)  # warm-up: every citizen, several times
    closed0 = await asyncio.to_thread(compare.wrk_one, api.port, "me", data_dir, 200, args)
    pause_ms = max(1, round(1000 * args.connections / (closed0["rps"] * args.paced_fraction)))
    result["paced_pause_ms"] = pause_ms
    result["before"] = {"closed": closed0, "paced": await asyncio.to_thread(
        compare.wrk_one, api.port, "me", data_dir, 200, args, None, pause_ms)}
    print(f"  0 streams: closed loop {closed0['rps']:,.0f} req/s, p99 {closed0['p99_ms']} ms; paced "
          f"{result['before']['paced']['rps']:,.0f} req/s, p99 {result['before']['paced']['p99_ms']} ms", flush=True)

    streams = [Stream(i, tokens[i % len(tokens)], users[i % len(users)]) for i in range(args.streams)]
    took = await open_all(streams, stream_server.port)
    opened = [s for s in streams if s.status == 200 and not s.ended]
    statuses: dict[str, int] = {}
    for s in streams:
        key = str(s.status) if s.status else (s.ended or "?")
        statuses[key] = statuses.get(key, 0) + 1
    result["streams"] = {"asked": args.streams, "open": len(opened), "statuses": statuses,
                         "open_seconds": round(took, 1), "stream_server_rss_mb": mixed.rss_mb([stream_server.proc.pid])}
    print(f"  opened {len(opened)} of {args.streams} streams in {took:.1f} s {statuses}; stream server RSS "
          f"{result['streams']['stream_server_rss_mb']} MB", flush=True)
    result["during"] = await asyncio.to_thread(measure, api.port, data_dir, args, f"{len(opened)} streams open", pause_ms)

    chosen = users[:args.notify]
    targets = [s for s in opened if s.user in set(chosen)]
    t0 = time.monotonic()  # an upper bound: the queueing process' own start-up is counted
    await asyncio.to_thread(sse_prepare, env, "notice", *chosen)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(s.notified_at is None for s in targets):
        await asyncio.sleep(0.1)
    got = [s for s in targets if s.notified_at is not None]
    still_open = [s for s in opened if not s.ended]
    result["event"] = {"citizens": len(chosen), "streams": len(targets), "received": len(got),
                       "slowest_s": round(max((s.notified_at - t0 for s in got), default=0), 2),
                       "others_still_open": len([s for s in still_open if s not in targets]),
                       "others": len(opened) - len(targets),
                       "wrong_receivers": len([s for s in opened if s not in targets and s.notified_at])}
    print(f"  live notice to {len(chosen)} citizens: {len(got)} of {len(targets)} streams received it (slowest "
          f"{result['event']['slowest_s']} s after the queueing process started); {result['event']['others_still_open']} of "
          f"{result['event']['others']} other streams still open, {result['event']['wrong_receivers']} got it wrongly",
          flush=True)
    for s in streams:
        s.close()
    await asyncio.sleep(1)
    result["after"] = await asyncio.to_thread(measure, api.port, data_dir, args, "after closing", pause_ms)
    return result


def sse_prepare(env: dict[str, str], *args: str) -> None:
    out = subprocess.run([sys.executable, os.path.join(HERE, "sse_prepare.py"), *args], cwd=REPO, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise ServerError(f"sse_prepare {args[0]} failed\n{out.stdout}\n{out.stderr}")


def markdown(doc: dict) -> str:
    r = doc["result"]
    rows = ["| GET /api/v1/me | req/s closed loop | p50 / p99 ms closed loop | paced req/s | p50 / p99 ms paced |",
            "|---|---:|---:|---:|---:|"]
    for key, label in (("before", "0 streams"), ("during", f"{r['streams']['open']} streams open"),
                       ("after", "0 streams (after)")):
        c, p = r[key]["closed"], r[key]["paced"]
        rows.append(f"| {label} | {c['rps']:,.0f} | {c['p50_ms']:.1f} / {c['p99_ms']:.1f} | {p['rps']:,.0f} | "
                    f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f} |")
    e = r["event"]
    rows.append("")
    rows.append(f"Live notice to {e['citizens']} citizens while open: {e['received']} of {e['streams']} of their streams "
                f"received it (the slowest {e['slowest_s']} s after the queueing process started, its start-up "
                f"included); {e['others_still_open']} of {e['others']} other streams still open. Stream server RSS "
                f"with the streams open: {r['streams']['stream_server_rss_mb']} MB; paced: each connection pauses "
                f"{r['paced_pause_ms']} ms after an answer.")
    return "\n".join(rows)


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="yiwang-sse-")
    var_dir, data_dir = os.path.join(workdir, "var"), os.path.join(workdir, "data")
    os.makedirs(var_dir)
    os.makedirs(data_dir)
    base = bench_run.base_env(argparse.Namespace(workers=args.workers, threads=1))
    env = dict(base, VAR_DIR=var_dir, AUTO_MIGRATE="0", NOTIFY_WORKER_IN_PROCESS="0", **mixed.SERVER_ENV,
               STREAM_MAX_PER_PROCESS=str(max(2000, args.streams + 100)), DB_POOL_SIZE="16")
    print(f"YiWang bench/servers/sse_hold: {args.streams} streams | API {args.api_server} × {args.workers}, stream server "
          f"(asyncio), notify worker | {os.cpu_count()} CPUs, one machine", flush=True)
    from app.redis import embedded_redis, stop_embedded_server  # import here: only the run starts the server

    redis_server = embedded_redis(var_dir)
    procs: list = []
    doc: dict = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "git": bench_run.git_info(),
                 "cpus": os.cpu_count(), "api_server": args.api_server, "workers": args.workers, "duration_s": args.duration,
                 "connections": args.connections}
    try:
        mig = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=REPO, env=env,
                             capture_output=True, text=True)
        if mig.returncode != 0:
            raise ServerError(f"flask db upgrade failed\n{mig.stdout}\n{mig.stderr}")
        sse_prepare(env, "citizens", str(math.ceil(args.streams / PER_USER)), data_dir)
        api = launch.make(args.api_server, bare=False, env=env, workers=args.workers,
                          log_path=os.path.join(workdir, "api.log"))
        api.start()
        procs.append(api)
        stream_server = launch.StreamServer(name="stream server", env=env, log_path=os.path.join(workdir, "stream.log"))
        stream_server.start()
        procs.append(stream_server)
        worker = mixed.Worker(env, os.path.join(workdir, "worker.log"))
        procs.append(worker)
        doc["result"] = asyncio.run(scenario(args, env, workdir, data_dir, api, stream_server))
    except (ServerError, RuntimeError) as exc:
        print(f"\nbench failed: {exc}", file=sys.stderr)
        print(f"logs kept in {workdir}", file=sys.stderr)
        return 1
    finally:
        for proc in reversed(procs):
            proc.stop()
        stop_embedded_server(redis_server)
    time.sleep(1)
    doc["strays"] = [s for p in procs for s in getattr(p, "strays", [])] + processes_using(workdir)
    launch.finish(doc, markdown(doc), args.json, workdir, keep=args.keep)
    e = doc["result"]["event"]
    ok = doc["result"]["streams"]["open"] == args.streams and e["received"] == e["streams"] and \
        e["others_still_open"] == e["others"] and not e["wrong_receivers"]
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
