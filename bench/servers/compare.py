"""Which WSGI server: bare Flask and the app under gunicorn sync, gunicorn gthread and granian, driven by wrk.

    make bench-servers                                    # all three servers, 10 s per measurement
    .venv/bin/python bench/servers/compare.py --servers granian,gunicorn-sync --duration 5

Every server gets the same worker count (default: CPU count); all are started side by side and
measured in turn, request by request, for `--rounds` rounds (the median run is kept), so that a busy
moment of a shared machine falls on every server alike. Under each, with the same settings:
GET /bare of the bare Flask app (bench/baseline_app.py), then the app (one SQLite file and one
embedded Redis for the whole run, the citizens of bench/load/prepare.py: L2, a licence, four cases
each): GET /api/v1/me, GET /api/v1/map/halls/nearby, POST a licence presentation (the write
endpoint: one transaction with its audit row, the nonce in Redis), GET /api/v1/bff/home, and the
mixed mobile load (bench/load/mix.lua): closed loop for its ceiling, then paced at `--paced-fraction`
(0.7) of it for the p99. Closed-loop runs use `--connections` (16) and one wrk thread (wrk shares the
machine's CPUs with the server). Each figure is reported as × the bare endpoint under the SAME server.

The app runs as the mixed load does (bench/load/mixed.py SERVER_ENV: per-IP limits off, LOG_LEVEL
WARNING) with the notification worker in its own process (`flask notify worker`), as in production.
Results: bench/results/servers-latest.json and a Markdown table on stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
sys.path[:0] = [REPO, BENCH, os.path.join(BENCH, "load"), HERE]

import launch  # noqa: E402
import loadgen  # noqa: E402
import mixed  # noqa: E402
import run as bench_run  # noqa: E402
from server import ServerError, processes_using  # noqa: E402

ENDPOINTS = (  # (kind for one.lua, label, expected status, target × bare)
    ("me", "GET /api/v1/me", 200, 0.5),
    ("nearby", "GET /api/v1/map/halls/nearby", 200, 0.5),
    ("present", "POST /api/v1/wallet/licences/{id}/presentations", 201, 0.5),
    ("home", "GET /api/v1/bff/home", 200, 0.3),
)
MIXED_TARGET, P99_TARGET_MS = 0.3, 50.0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--servers", default=",".join(launch.SERVERS), help=f"comma-separated: {', '.join(launch.SERVERS)}")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers for every server (default: CPUs)")
    p.add_argument("--duration", type=float, default=10, help="seconds per measurement (default 10)")
    p.add_argument("--connections", type=int, default=16, help="closed-loop wrk connections (default 16)")
    p.add_argument("--paced-connections", type=int, default=128, help="connections of the paced mixed run (128)")
    p.add_argument("--paced-fraction", type=float, default=0.7, help="paced mixed rate / its closed-loop max (0.7)")
    p.add_argument("--rounds", type=int, default=2, help="rounds over all servers; the median run is kept (2)")
    p.add_argument("--paced-rate", type=float, default=0,
                   help="pace the mixed load at this rate (req/s) on every server instead of a fraction of each one's max")
    p.add_argument("--pool", type=int, default=200, help="citizens prepared (default 200)")
    p.add_argument("--only", default="", help="comma-separated subset of: me,nearby,present,home,mixed")
    p.add_argument("--json", default=os.path.join(BENCH, "results", "servers-latest.json"))
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = p.parse_args(argv)
    args.server_list = [s.strip() for s in args.servers.split(",") if s.strip()]
    bad = [s for s in args.server_list if s not in launch.SERVERS]
    if bad:
        p.error(f"unknown server(s): {bad}")
    if not loadgen.wrk_path():
        p.error("wrk is not on PATH (apt-get install -y wrk)")
    args.only_set = {s.strip() for s in args.only.split(",") if s.strip()}
    return args


def wrk_one(port: int, kind: str, data_dir: str, expect: int, args, seconds: float | None = None,
            pause_ms: int = 0, server=None) -> dict:
    """One closed-loop wrk run of bench/servers/one.lua (or paced: each connection pauses `pause_ms`);
    with `server`, also the CPU it used per answered request (`cpu_ms`)."""
    seconds = seconds or args.duration
    cpu0 = launch.cpu_seconds(server) if server else 0.0
    cmd = ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", os.path.join(HERE, "one.lua"), f"http://127.0.0.1:{port}/", "--", kind, data_dir, str(expect), str(pause_ms)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    r = json.loads(line.split(" ", 1)[1])
    cpu = launch.cpu_seconds(server) - cpu0 if server else None
    errors = r["unexpected_status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return {"rps": round(r["requests"] / (r["duration_us"] / 1e6), 1), "p50_ms": round(r["p50_us"] / 1000, 2),
            "p99_ms": round(r["p99_us"] / 1000, 2), "errors": errors,
            "cpu_ms": round(1000 * cpu / r["requests"], 3) if cpu is not None and r["requests"] else None,
            "error_kinds": {k: v for k, v in {**r["by_status"], "socket": errors - r["unexpected_status"]}.items() if v}}


def _loadavg() -> float:
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


def _print(kind: str, label: str, r: dict) -> None:
    print(f"    {kind:<17} {label}: {r['rps']:,.0f} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
          f"server CPU {r['cpu_ms']} ms/request (load {r['load']})"
          f"{', errors ' + str(r['error_kinds']) if r['errors'] else ''}", flush=True)


def measure_round(n: int, args, env: dict[str, str], workdir: str, data_dir: str, bare: dict, app: dict,
                  runs: dict) -> None:
    """One round: each request against every server in turn (so a busy moment of the machine falls on
    all of them alike, not on one server's whole series)."""
    first = n == 0
    for ep, label, expect in [("bare", "GET /bare", 200)] + [e[:3] for e in ENDPOINTS]:
        if ep != "bare" and args.only_set and ep not in args.only_set:
            continue
        for kind in args.server_list:
            server = bare[kind] if ep == "bare" else app[kind]
            if first:  # warm-up: imports, caches, connections
                wrk_one(server.port, ep, data_dir, expect, args, seconds=2)
            r = dict(wrk_one(server.port, ep, data_dir, expect, args, server=server), load=_loadavg())
            runs.setdefault(kind, {}).setdefault(ep, []).append(r)
            _print(kind, label, r)
    if args.only_set and "mixed" not in args.only_set:
        return
    for kind in args.server_list:
        port = app[kind].port
        cpu0 = launch.cpu_seconds(app[kind])  # Phase.run prepares in a process of its own, not the server's
        ceiling = mixed.Phase(f"{kind}-ceiling-{n}", rate=0, seconds=args.duration,
                              connections=args.connections).run(port, data_dir, workdir, env)["overall"]
        ceiling["cpu_ms"] = round(1000 * (launch.cpu_seconds(app[kind]) - cpu0) / max(1, ceiling["answers"]), 3)
        rate = round(args.paced_rate or ceiling["rps"] * args.paced_fraction)
        paced = dict(cpu_ms=None, **mixed.Phase(f"{kind}-paced-{n}", rate=rate, seconds=args.duration,
                            connections=args.paced_connections).run(port, data_dir, workdir, env)["overall"])
        keep = ("rps", "p50_ms", "p99_ms", "errors", "error_kinds", "cpu_ms")
        runs[kind].setdefault("mixed", []).append(dict({k: ceiling[k] for k in keep}, load=_loadavg()))
        runs[kind].setdefault("mixed_paced", []).append(dict({k: paced[k] for k in keep}, target_rps=rate,
                                                             load=_loadavg()))
        _print(kind, "mixed, closed loop", runs[kind]["mixed"][-1])
        _print(kind, f"mixed, paced at {rate:,}/s", runs[kind]["mixed_paced"][-1])


def median_run(rs: list[dict]) -> dict:
    """The run with the median rate (the lower middle one of an even count), its figures kept together."""
    ordered = sorted(rs, key=lambda r: r["rps"])
    return dict(ordered[(len(ordered) - 1) // 2], rounds=[r["rps"] for r in rs])


def markdown(doc: dict) -> str:
    servers = list(doc["servers"])
    targets = [("bare", "GET /bare (bare Flask)", "1×")] + [(ep, label, f"≥ {t}×") for ep, label, _, t in ENDPOINTS]
    targets.append(("mixed", "mixed mobile load, closed loop", f"≥ {MIXED_TARGET}×"))

    def get(s: str, key: str) -> dict | None:
        return doc["servers"][s].get(key)

    def flag(r: dict) -> str:
        return f" ⚠ {r['errors']} errors" if r["errors"] else ""

    def cell(s: str, key: str) -> str:
        r, bare = get(s, key), get(s, "bare")
        if not r:
            return "–"
        return f"{r['rps']:,.0f} ({r['rps'] / bare['rps']:.2f}×), {r['p50_ms']:.1f} / {r['p99_ms']:.1f}{flag(r)}"

    def cpu_cell(s: str, key: str) -> str:
        r, bare = get(s, key), get(s, "bare")
        if not r or not r.get("cpu_ms") or not bare.get("cpu_ms"):
            return "–"
        return f"{r['cpu_ms']:.2f} ({bare['cpu_ms'] / r['cpu_ms']:.2f}×)"

    rows = ["req/s (× bare Flask under the same server), p50 / p99 ms; closed loop, "
            f"{doc['connections']} connections, the lower-middle of {doc['rounds']} round(s) by req/s:", "",
            "| request | " + " | ".join(servers) + " | target |", "|---|" + "---:|" * len(servers) + "---:|"]
    for key, label, target in targets:
        rows.append(f"| {label} | " + " | ".join(cell(s, key) for s in servers) + f" | {target} |")
    paced = []
    for s in servers:
        r = get(s, "mixed_paced")
        paced.append(f"{r['rps']:,.0f} of {r['target_rps']:,}/s, {r['p50_ms']:.1f} / {r['p99_ms']:.1f}{flag(r)}"
                     if r else "–")
    paced_label = f"{doc['paced_rate']:g} req/s" if doc.get("paced_rate") else f"{doc['paced_fraction']:.0%} of its max"
    rows.append(f"| mixed, paced at {paced_label} | " + " | ".join(paced) +
                f" | p99 ≤ {P99_TARGET_MS:.0f} ms |")
    rows += ["", "Server CPU per request, ms (bare's ÷ this: the × bare the server would reach with the CPUs to "
             "itself, whatever share of a busy machine it got):", "",
             "| request | " + " | ".join(servers) + " |", "|---|" + "---:|" * len(servers)]
    for key, label, _ in targets:
        rows.append(f"| {label} | " + " | ".join(cpu_cell(s, key) for s in servers) + " |")
    return "\n".join(rows)


def main(argv=None) -> int:
    args = parse_args(argv)
    # a background run ignores SIGINT: SIGTERM then stops the servers on the way out (finally)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="yiwang-servers-")
    var_dir, data_dir = os.path.join(workdir, "var"), os.path.join(workdir, "data")
    os.makedirs(var_dir)
    os.makedirs(data_dir)
    base = bench_run.base_env(argparse.Namespace(workers=args.workers, threads=1))
    env = dict(base, VAR_DIR=var_dir, AUTO_MIGRATE="0", NOTIFY_WORKER_IN_PROCESS="0", **mixed.SERVER_ENV)
    print(f"YiWang bench/servers: {', '.join(args.server_list)} | {args.workers} workers each, {os.cpu_count()} CPUs | "
          f"{args.duration:g} s per measurement, {args.connections} connections | {loadgen.wrk_version()} | "
          f"SQLite + embedded Redis", flush=True)
    from app.redis import embedded_redis, stop_embedded_server  # import here: only the run starts the server

    redis_server = embedded_redis(var_dir)  # one for the run: every server joins it, none owns it
    worker, bare, app, runs = None, {}, {}, {}
    doc = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "git": bench_run.git_info(),
           "cpus": os.cpu_count(), "workers": args.workers, "duration_s": args.duration,
           "connections": args.connections, "paced_fraction": args.paced_fraction, "paced_rate": args.paced_rate, "gthread_threads": launch.GTHREADS,
           "rounds": args.rounds,
           "versions": versions(), "servers": {}, "strays": []}
    try:
        mig = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=REPO, env=env,
                             capture_output=True, text=True)
        if mig.returncode != 0:
            raise ServerError(f"flask db upgrade failed\n{mig.stdout}\n{mig.stderr}")
        t0 = time.monotonic()
        mixed.prepare(env, "people", data_dir, str(args.pool))
        print(f"prepared {args.pool} citizens in {time.monotonic() - t0:.0f} s", flush=True)
        worker = mixed.Worker(env, os.path.join(workdir, "worker.log"))
        for kind in args.server_list:  # all up at once: an idle server costs nothing
            bare[kind] = launch.make(kind, bare=True, env=base, workers=args.workers,
                                     log_path=os.path.join(workdir, f"{kind}-bare.log"))
            bare[kind].start()
            app[kind] = launch.make(kind, bare=False, env=env, workers=args.workers,
                                    log_path=os.path.join(workdir, f"{kind}-app.log"))
            app[kind].start()
        for n in range(args.rounds):
            print(f"- round {n + 1} of {args.rounds}", flush=True)
            mixed.prepare(env, "phase", data_dir, "10", os.path.join(workdir, "logins-unused.txt"))  # fresh tokens
            measure_round(n, args, env, workdir, data_dir, bare, app, runs)
        doc["servers"] = {kind: {ep: median_run(rs) for ep, rs in by_ep.items()} for kind, by_ep in runs.items()}
    except (ServerError, RuntimeError) as exc:
        print(f"\nbench failed: {exc}", file=sys.stderr)
        print(f"logs kept in {workdir}", file=sys.stderr)
        return 1
    finally:
        for server in [*bare.values(), *app.values()]:
            server.stop()
            doc["strays"] += server.strays
        if worker:
            worker.stop()
        stop_embedded_server(redis_server)
    time.sleep(1)
    doc["strays"] += processes_using(workdir)
    launch.finish(doc, markdown(doc), args.json, workdir, keep=args.keep)
    return 0


def versions() -> dict:
    found = {}
    for name in ("flask", "gunicorn", "granian"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


if __name__ == "__main__":
    sys.exit(main())
