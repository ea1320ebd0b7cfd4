"""The capacity model (issue 21): what a 50-million-user province needs at peak, from measured costs.

    .venv/bin/python bench/capacity.py [--n 40] [--rps 20000] [--out var/capacity.json]

For each journey of the peak mix it measures, in-process through the same prepared requests as
bench/icount (the demo data, SQLite in WAL mode, the embedded Redis):

- SQL statements per request, split into reads (SELECT), writes (INSERT/UPDATE/DELETE) and
  transactions (COMMIT), from SQLite's own trace callback on every connection;
- Redis commands per request, from the server's own `total_commands_processed` (INFO), minus the
  INFO calls themselves.

It takes instructions per request from the last `make icount-check` / `make bench-icount` run
(var/icount-check.json, else the budget in bench/icount/budget.toml, which is ~2 % above the run it
was set from), and converts instructions into server CPU time with the ratio measured under granian by
`make bench-servers` on 6 December 2026 (README "Performance by instruction count": server CPU per
request beside the same requests' instruction counts). The peak mix and the request rate are
assumptions, stated in MIX below and in the README's capacity model; everything else is measured.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import sys
import threading
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "icount"))  # the icount driver: its settings, cases and prepare()

import driver  # noqa: E402  (sets PROMETHEUS_MULTIPROC_DIR and VAR before the app is imported)

# Server CPU per request under granian (ms) beside the same request's instructions (millions): README
# "Performance by instruction count", the bench-servers run and the icount run of 6 December 2026.
MEASURED_CPU = {"me": (0.96, 1.39), "nearby": (1.94, 1.99), "presentation": (3.53, 3.28), "home": (2.83, 3.12)}
MS_PER_MINSTR = sum(ms / mi for ms, mi in MEASURED_CPU.values()) / len(MEASURED_CPU)

# The peak mix: the mixed mobile workload's (bench/load, README "Benchmarks": per 100 requests home 22, nearby
# 18, case list 12, notification list 12, wallet list 8, show a licence 7, counter verification 7, SMS login 5,
# profile 5, department case event 4), with one of the home screens given to a third-party signature
# verification, which that workload lacks. The list reads (cases, notifications, wallet) are costed as /me plus
# one more read: single-account reads of the same shape ("other_reads").
MIX = {
    "home": 0.21,
    "nearby": 0.18,
    "other_reads": 0.32,
    "presentation": 0.07,
    "counter_verification": 0.07,
    "login": 0.05,
    "me": 0.05,
    "case_event": 0.04,
    "third_party_verification": 0.01,
}
NOTICES_PER_WORKER_S = 3979  # make bench-notify on PostgreSQL + Redis: notices/s one worker process delivers
CASES = [c for c in MIX if c != "other_reads"]
HEADROOM = 0.65   # CPU utilisation the HPA aims at (deploy/k8s: averageUtilization 65)
ZONES = 3         # pods spread over three zones: losing one leaves two thirds
POD_CPU_REQUEST = 0.65  # cores an API pod requests (deploy/k8s/api.yaml: 650m, from bench/footprint.py)


class SqlTally:
    """Every statement SQLite runs, through its trace callback on each connection the app opens."""

    def __init__(self) -> None:
        self.reads = self.writes = self.commits = 0
        self.lock = threading.Lock()
        self._connect = sqlite3.connect

    def install(self) -> None:
        def connect(*args, **kwargs):
            conn = self._connect(*args, **kwargs)
            conn.set_trace_callback(self.seen)
            return conn
        sqlite3.connect = connect

    def seen(self, sql: str) -> None:
        head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        with self.lock:
            if head in ("SELECT", "WITH"):
                self.reads += 1
            elif head in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
                self.writes += 1
            elif head in ("COMMIT", "RELEASE", "END"):
                self.commits += 1

    def snapshot(self) -> tuple[int, int, int]:
        with self.lock:
            return self.reads, self.writes, self.commits


def instructions() -> tuple[dict[str, float], str]:
    path = os.path.join(REPO, "var", "icount-check.json")
    if os.path.exists(path):
        with open(path) as fh:
            data = json.load(fh)
        cases = data.get("cases", data)
        out = {}
        for name, value in cases.items():
            per = value.get("instructions") if isinstance(value, dict) else value
            if isinstance(per, (int, float)):
                out[name] = per / 1e6
        if all(c in out for c in CASES):
            return out, path
    with open(os.path.join(HERE, "icount", "budget.toml"), "rb") as fh:
        budget = tomllib.load(fh)
    return {k: v["max"] / 1e6 for k, v in budget.items() if isinstance(v, dict)}, "bench/icount/budget.toml (max)"


def measure(n: int) -> dict[str, dict[str, float]]:
    from app import create_app
    from app.db import migrate

    sql = SqlTally()
    sql.install()
    app = create_app({**driver._env_settings(), "LOG_LEVEL": "WARNING"})  # costs, not log lines, are counted
    with app.app_context():
        migrate()
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    warm = 5
    requests = driver.prepare(app, CASES, n + warm)
    driver.warm_tokens(app, requests)
    redis = app.extensions["redis"]
    out: dict[str, dict[str, float]] = {}
    for name in CASES:
        call = driver.caller(app, name)
        batch = requests[name]
        for req in batch[:warm]:
            call(req)
        r0, w0, c0 = sql.snapshot()
        k0 = int(redis.info("stats")["total_commands_processed"])
        for req in batch[warm:warm + n]:
            call(req)
        r1, w1, c1 = sql.snapshot()
        k1 = int(redis.info("stats")["total_commands_processed"])
        out[name] = {"sql_reads": (r1 - r0) / n, "sql_writes": (w1 - w0) / n, "commits": (c1 - c0) / n,
                     "redis_commands": (k1 - k0 - 1) / n}  # the second INFO is counted by the time it answers
    return out


def model(costs: dict, minstr: dict, rps: float) -> dict:
    rows = []
    totals = {"cpu_ms": 0.0, "sql_reads": 0.0, "sql_writes": 0.0, "commits": 0.0, "redis_commands": 0.0}
    for name, share in MIX.items():
        if name == "other_reads":
            base = dict(costs["me"])
            base["sql_reads"] += 1
            mi = minstr["me"] * 1.2
        else:
            base, mi = costs[name], minstr[name]
        cpu_ms = MEASURED_CPU[name][0] if name in MEASURED_CPU else mi * MS_PER_MINSTR
        row = {"journey": name, "share": share, "rps": rps * share, "minstr": mi, "cpu_ms": cpu_ms, **base}
        rows.append(row)
        totals["cpu_ms"] += share * cpu_ms
        for key in ("sql_reads", "sql_writes", "commits", "redis_commands"):
            totals[key] += share * base[key]
    busy_cores = rps * totals["cpu_ms"] / 1000
    notices = rps * MIX["case_event"]  # each case event one notice to its citizen (proxies add a few)
    cores = busy_cores / HEADROOM * ZONES / (ZONES - 1)
    return {
        "rps": rps, "rows": rows, "mean_cpu_ms": totals["cpu_ms"], "busy_cores": busy_cores,
        "cores_with_headroom": cores, "pods": math.ceil(cores / POD_CPU_REQUEST),
        "sql_reads_per_s": rps * totals["sql_reads"], "sql_writes_per_s": rps * totals["sql_writes"],
        "commits_per_s": rps * totals["commits"], "redis_ops_per_s": rps * totals["redis_commands"],
        "ms_per_minstr": MS_PER_MINSTR, "notices_per_s": notices,
        "worker_processes": math.ceil(notices / NOTICES_PER_WORKER_S / HEADROOM * ZONES / (ZONES - 1)),
    }


def report(result: dict, source: str) -> str:
    lines = [f"Peak {result['rps']:,.0f} req/s; instructions from {source}; "
             f"{result['ms_per_minstr']:.2f} ms of granian server CPU per million instructions "
             "(mean of the four requests measured both ways).", "",
             "| journey | share | req/s | M instr | CPU ms | SQL reads | SQL writes | commits | Redis cmds |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['journey']} | {r['share']:.0%} | {r['rps']:,.0f} | {r['minstr']:.2f} | {r['cpu_ms']:.2f} | "
                     f"{r['sql_reads']:.1f} | {r['sql_writes']:.1f} | {r['commits']:.1f} | {r['redis_commands']:.1f} |")
    lines += ["", f"- mean server CPU per request: {result['mean_cpu_ms']:.2f} ms → {result['busy_cores']:.0f} busy cores "
              f"at peak; at {HEADROOM:.0%} utilisation and surviving the loss of one of {ZONES} zones: "
              f"{result['cores_with_headroom']:.0f} cores of requests = {result['pods']} API pods of "
              f"{POD_CPU_REQUEST * 1000:.0f}m",
              f"- PostgreSQL: {result['sql_reads_per_s']:,.0f} reads/s, {result['sql_writes_per_s']:,.0f} row writes/s "
              f"in {result['commits_per_s']:,.0f} commits/s",
              f"- Redis: {result['redis_ops_per_s']:,.0f} commands/s",
              f"- notify workers: {result['notices_per_s']:,.0f} notices/s at {NOTICES_PER_WORKER_S:,}/s per process "
              f"→ {result['worker_processes']} worker process(es) with the same headroom (the Deployment runs 2)"]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--rps", type=float, default=20000)
    ap.add_argument("--out", default=os.path.join(REPO, "var", "capacity.json"))
    args = ap.parse_args()
    minstr, source = instructions()
    costs = measure(args.n)
    result = model(costs, minstr, args.rps)
    result["costs"], result["instructions_source"] = costs, source
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    print(report(result, source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
