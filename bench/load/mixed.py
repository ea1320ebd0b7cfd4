"""Mixed mobile workload: the maximum sustainable rate, then a soak at a fraction of it.

    make bench-load                                   # capacity search + 10-minute soak at 70 %
    .venv/bin/python bench/load/mixed.py --soak-seconds 120 --step-seconds 20   # a quick look
    .venv/bin/python bench/load/mixed.py --database-url postgresql://postgres@127.0.0.1:5432/test \
        --redis-url redis://127.0.0.1:6379/15

One production-shaped server (gunicorn with `gunicorn.conf.py`, sync workers, workers = CPU
count) plus one notification worker (`flask notify worker`), on the embedded SQLite + Redis or
on PostgreSQL + a Redis server. Load comes from wrk with bench/load/mix.lua: per 100 requests,
home 22, nearby halls 18, case list 12, notification list 12, wallet list 8, show a licence 7,
counter verification of a QR text shown earlier in the run 7, SMS-code login of a new phone 5,
profile 5 and a department's case event 4 (whose notice the worker delivers to the inbox while
the run goes on). Requests are paced open-loop: wrk sends on a schedule whatever the answers do,
so a server that falls behind shows as a longer queue (latency), not as a politely lower rate.

1. Bare baseline: the bare Flask endpoint, closed loop, under the same server settings.
2. Capacity: one closed-loop minute-fraction to find the ceiling, then paced steps at 60 %, 70 %,
   ... of it. A step is *sustained* when the answered rate is ≥ 97 % of the target, every answer is
   the expected one and the p99 is within the SLO (`--slo-ms`, default 500 ms). The maximum
   sustainable rate is the highest sustained step.
3. Soak: `--soak-fraction` (0.7) of that rate for `--soak-seconds` (600), reported per minute;
   passed when there are 0 errors and the p99 is flat (no minute's p99 above 1.5 × the median
   minute's, and the last three minutes' median within 1.25 × the first three's, + 5 ms).
   The workers' memory and the notification backlog are read before and after.

Results go to bench/results/load-latest.json; the Markdown table printed at the end is the one
in the README.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
REPO = os.path.dirname(BENCH)
sys.path[:0] = [REPO, BENCH]

import loadgen  # noqa: E402
import run as bench_run  # noqa: E402
from server import GunicornServer, ServerError, processes_using  # noqa: E402

sys.path.insert(0, HERE)
from analysis import (CpuSampler, flat, print_report, read_answers, rebase, slowest_seconds,  # noqa: E402
                      summarise, sustained)

KINDS = ("home", "nearby", "cases", "notes", "wallet", "present", "verify", "login", "me", "event")
LOGIN_SHARE = 0.05
SERVER_ENV = {
    # All load comes from 127.0.0.1: the per-IP limits for login and the public map would end the run.
    "LOGIN_PER_IP_MINUTE": "1000000000", "MAP_PER_IP_MINUTE": "1000000000",
    "SMS_CODE_TTL": "3600",  # codes are written before each phase
    "LOG_LEVEL": "WARNING",
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers (default: CPU count)")
    p.add_argument("--threads", type=int, default=1, help="GUNICORN_THREADS (default 1: the API pool's shape)")
    p.add_argument("--connections", type=int, default=128, help="wrk connections for paced phases (default 128)")
    p.add_argument("--closed-connections", type=int, default=16, help="connections for the closed-loop ceiling")
    p.add_argument("--step-seconds", type=float, default=30, help="seconds per capacity step (default 30)")
    p.add_argument("--steps", default="0.6,0.7,0.8,0.9,1.0,1.1",
                   help="capacity steps as fractions of the closed-loop ceiling (default 0.6,...,1.1)")
    p.add_argument("--rate", type=float, default=0, help="skip the search: take this as the maximum sustainable rate")
    p.add_argument("--soak-seconds", type=float, default=600, help="soak length (default 600; 0 skips the soak)")
    p.add_argument("--soak-fraction", type=float, default=0.7, help="soak rate as a fraction of the maximum (0.7)")
    p.add_argument("--slo-ms", type=float, default=500, help="p99 a sustained step must stay within (default 500)")
    p.add_argument("--pool", type=int, default=300, help="citizens with a licence and cases (default 300)")
    p.add_argument("--database-url", default="", help="PostgreSQL instead of a fresh SQLite file")
    p.add_argument("--redis-url", default="", help="a Redis server instead of the embedded one")
    p.add_argument("--json", default=os.path.join(BENCH, "results", "load-latest.json"))
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, answers)")
    args = p.parse_args(argv)
    if not loadgen.wrk_path():
        p.error("wrk is not on PATH (apt-get install -y wrk)")
    args.step_fractions = [float(x) for x in args.steps.split(",") if x.strip()]
    return args


# --- one wrk phase ---------------------------------------------------------------------------

class Phase:
    """One wrk run of mix.lua at `rate` (0: closed loop) for `seconds`; answers parsed from its CSVs."""

    def __init__(self, name: str, *, rate: float, seconds: float, connections: int, wal_path: str | None = None) -> None:
        self.name, self.rate, self.seconds, self.connections = name, rate, seconds, connections
        self.wal_path = wal_path

    def run(self, port: int, data_dir: str, workdir: str, env: dict[str, str]) -> dict:
        expected = (self.rate or 3000) * self.seconds * LOGIN_SHARE * 1.3 + 200
        login_file = os.path.join(workdir, f"logins-{self.name}.txt")
        prepare(env, "phase", data_dir, str(int(expected)), login_file)
        prefix = os.path.join(workdir, f"answers-{self.name}-")
        cmd = ["wrk", "-t", "1", "-c", str(self.connections), "-d", f"{max(1, round(self.seconds))}s", "--timeout", "10s",
               "-s", os.path.join(HERE, "mix.lua"), f"http://127.0.0.1:{port}/",
               "--", data_dir, str(self.rate), f"{self.name}-{os.getpid()}", "1", login_file, prefix]
        started = time.monotonic()
        with CpuSampler(self.wal_path) as cpu:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=self.seconds + 120)
        elapsed = time.monotonic() - started
        if out.returncode != 0 or "LOAD_JSON" not in out.stdout:
            raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        wrk = json.loads(out.stdout.split("LOAD_JSON ", 1)[1].splitlines()[0])
        rows, t0 = rebase(read_answers(prefix))
        socket_errors = wrk["connect"] + wrk["read"] + wrk["write"] + wrk["timeout"]
        overall = summarise(rows, self.seconds)
        overall["errors"] += socket_errors
        if socket_errors:
            overall["error_kinds"]["socket (connect/read/write/timeout)"] = socket_errors
        by_kind = {k: summarise([r for r in rows if r[0] == k], self.seconds) for k in KINDS}
        minutes, slow_seconds = [], []
        if self.seconds >= 120:
            for m in range(int(self.seconds // 60)):
                window = [r for r in rows if m * 60e6 <= r[1] < (m + 1) * 60e6]
                samples = [c for c in cpu.samples if m * 60 <= c["t"] - t0 < (m + 1) * 60]
                minutes.append(dict(summarise(window, 60), minute=m + 1,
                                    cpu_busy=round(statistics.fmean(c["busy"] for c in samples), 1) if samples else None,
                                    iowait_max=max((c["iowait"] for c in samples), default=None),
                                    steal_max=max((c["steal"] for c in samples), default=None)))
            slow_seconds = slowest_seconds(rows, cpu.samples, t0)
        return {"name": self.name, "target_rps": self.rate, "seconds": self.seconds, "wall_s": round(elapsed, 1),
                "connections": self.connections, "overall": overall, "by_kind": by_kind, "minutes": minutes,
                "slowest_seconds": slow_seconds, "wrk": wrk}


def prepare(env: dict[str, str], *args: str) -> None:
    out = subprocess.run([sys.executable, os.path.join(HERE, "prepare.py"), *args], cwd=REPO, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise ServerError(f"preparing ({args[0]}) failed\n{out.stdout}\n{out.stderr}")


# --- the servers -----------------------------------------------------------------------------

class Worker:
    """`flask --app wsgi notify worker` in its own process group."""

    def __init__(self, env: dict[str, str], log_path: str) -> None:
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker"], cwd=REPO,
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass
        self.log.close()


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return round(total / 1024, 1)


def notify_stats(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "notify", "stats"], cwd=REPO, env=env,
                         capture_output=True, text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (out.stderr or out.stdout)[-300:]}


# --- main ------------------------------------------------------------------------------------

def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="yiwang-load-")
    data_dir = os.path.join(workdir, "data")
    var_dir = os.path.join(workdir, "var")
    os.makedirs(data_dir)
    os.makedirs(var_dir)
    base = bench_run.base_env(argparse.Namespace(workers=args.workers, threads=args.threads))
    env = dict(base, VAR_DIR=var_dir, AUTO_MIGRATE="0", **SERVER_ENV)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    started_at = datetime.now(timezone.utc)
    print(f"YiWang bench/load: mixed mobile workload | {args.workers} workers × {args.threads} thread(s), "
          f"{os.cpu_count()} CPUs | database {'PostgreSQL' if args.database_url else 'SQLite (embedded)'}, "
          f"Redis {'server' if args.redis_url else 'embedded'} | {loadgen.wrk_version()}", flush=True)

    baseline = bench_run.run_baseline(argparse.Namespace(duration=10, concurrency=args.closed_connections, warmup=5,
                                                         wrk_threads=1), base, workdir, "wrk")["measurement"]
    print(f"bare baseline (closed loop, {args.closed_connections} connections): {baseline.rps:,.0f} req/s, "
          f"p99 {baseline.p99_ms:.1f} ms", flush=True)

    mig = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=REPO, env=env,
                         capture_output=True, text=True)
    if mig.returncode != 0:
        raise ServerError(f"flask db upgrade failed\n{mig.stdout}\n{mig.stderr}")
    server = GunicornServer(name="app", conf=os.path.join(REPO, "gunicorn.conf.py"), app="wsgi:app", env=env,
                            log_path=os.path.join(workdir, "gunicorn.log"), var_dir=var_dir)
    server.start()
    worker = Worker(env, os.path.join(workdir, "worker.log"))
    report: dict = {"started_at": started_at.isoformat(timespec="seconds"), "cpus": os.cpu_count(),
                    "workers": args.workers, "threads": args.threads, "slo_ms": args.slo_ms,
                    "database": "postgresql" if args.database_url else "sqlite",
                    "redis": "server" if args.redis_url else "embedded", "bare_rps": round(baseline.rps, 1),
                    "steps": [], "soak": None}
    try:
        t0 = time.monotonic()
        prepare(env, "people", data_dir, str(args.pool))
        print(f"prepared {args.pool} citizens (licence, 4 cases each), halls, clerk, department in "
              f"{time.monotonic() - t0:.0f} s", flush=True)
        Phase("warmup", rate=0, seconds=10, connections=args.closed_connections).run(server.port, data_dir, workdir, env)

        best = args.rate
        if not best:
            ceiling = Phase("ceiling", rate=0, seconds=args.step_seconds, connections=args.closed_connections)
            c = ceiling.run(server.port, data_dir, workdir, env)
            report["ceiling"] = c
            print(f"closed-loop ceiling: {c['overall']['rps']:,.0f} req/s ({c['overall']['rps'] / baseline.rps:.2f}× bare), "
                  f"p99 {c['overall']['p99_ms']:.0f} ms, errors {c['overall']['errors']}", flush=True)
            for fraction in args.step_fractions:
                rate = round(c["overall"]["rps"] * fraction)
                r = Phase(f"step{int(fraction * 100)}", rate=rate, seconds=args.step_seconds,
                          connections=args.connections).run(server.port, data_dir, workdir, env)
                r["sustained"] = sustained(r, args.slo_ms)
                report["steps"].append(r)
                o = r["overall"]
                print(f"  step {fraction:.0%} → target {rate:,} req/s: answered {o['rps']:,.0f}/s, p50 {o['p50_ms']:.0f} ms, "
                      f"p99 {o['p99_ms']:.0f} ms, errors {o['errors']} {o['error_kinds'] or ''} → "
                      f"{'sustained' if r['sustained'] else 'NOT sustained'}", flush=True)
                if not r["sustained"]:
                    break
                best = rate
        report["max_sustainable_rps"] = best
        print(f"maximum sustainable rate: {best:,.0f} req/s ({best / baseline.rps:.2f}× the bare endpoint's "
              f"closed-loop rate)", flush=True)

        if args.soak_seconds > 0 and best:
            rate = round(best * args.soak_fraction)
            before = {"workers_rss_mb": rss_mb(server.worker_pids()), "notify": notify_stats(env)}
            print(f"soak: {rate:,} req/s ({args.soak_fraction:.0%}) for {args.soak_seconds:.0f} s ...", flush=True)
            wal = None if args.database_url else os.path.join(var_dir, "yiwang.db-wal")
            s = Phase("soak", rate=rate, seconds=args.soak_seconds, connections=args.connections, wal_path=wal).run(
                server.port, data_dir, workdir, env)
            time.sleep(5)  # let the worker finish what the last seconds enqueued
            after = {"workers_rss_mb": rss_mb(server.worker_pids()), "notify": notify_stats(env)}
            s["before"], s["after"] = before, after
            s["flat"], s["flat_detail"] = flat(s["minutes"])
            s["passed"] = s["overall"]["errors"] == 0 and s["flat"]
            report["soak"] = s
        print_report(report, baseline.rps)
    finally:
        worker.stop()
        server.stop()
        left = processes_using(workdir)
        report["strays"] = server.strays + left
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1, ensure_ascii=False, default=str)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"clean stop: {'yes' if not report['strays'] else report['strays']}; results: {args.json}")
    soak = report.get("soak")
    return 0 if (soak is None or soak["passed"]) and not report["strays"] else 2


if __name__ == "__main__":
    sys.exit(main())
