"""Reading a bench/load run: the answers wrk wrote, percentiles per kind and per minute, the CPU
samples beside them, the verdicts (sustained step, flat p99) and the printed report."""
from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections import defaultdict

EXPECT = {"present": 201, "event": 202}  # every other kind answers 200
TITLES = {"home": "home screen", "nearby": "nearby halls", "cases": "case list", "notes": "notification list",
          "wallet": "wallet list", "present": "show a licence (QR)", "verify": "counter verification",
          "login": "SMS-code login (new phone)", "me": "profile", "event": "department case event"}


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def summarise(rows: list[tuple[str, int, int, int]], seconds: float) -> dict:
    lat = sorted(r[2] / 1000 for r in rows)
    errors = [r for r in rows if r[3] != EXPECT.get(r[0], 200)]
    by_status: dict[str, int] = defaultdict(int)
    for r in errors:
        by_status[f"{r[0]} {r[3]}"] += 1
    return {"answers": len(rows), "rps": round(len(rows) / seconds, 1) if seconds else 0.0,
            "p50_ms": round(percentile(lat, 50), 1), "p90_ms": round(percentile(lat, 90), 1),
            "p99_ms": round(percentile(lat, 99), 1), "max_ms": round(lat[-1], 1) if lat else 0.0,
            "errors": len(errors), "error_kinds": dict(by_status)}


class CpuSampler:
    """Once a second, the machine's CPU split from /proc/stat (busy, iowait, steal: time the
    hypervisor gave to someone else) and the SQLite WAL file's size, stamped with time.monotonic(),
    so that a slow minute can be told apart: the app's own work, a disk flush, or a noisy host."""

    FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")

    def __init__(self, wal_path: str | None) -> None:
        self.wal_path, self.samples, self._stop = wal_path, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _read() -> dict[str, int]:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:9]]
        return dict(zip(CpuSampler.FIELDS, values))

    def _run(self) -> None:
        last = self._read()
        while not self._stop.wait(1.0):
            now = self._read()
            delta = {k: now[k] - last[k] for k in now}
            total = sum(delta.values()) or 1
            try:
                wal_mb = os.path.getsize(self.wal_path) / 2**20 if self.wal_path else None
            except OSError:
                wal_mb = None
            self.samples.append({"t": time.monotonic(),
                                 "busy": round(100 * (total - delta["idle"] - delta["iowait"]) / total, 1),
                                 "iowait": round(100 * delta["iowait"] / total, 1),
                                 "steal": round(100 * delta["steal"] / total, 1),
                                 "wal_mb": None if wal_mb is None else round(wal_mb, 1)})
            last = now

    def __enter__(self) -> "CpuSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def read_answers(prefix: str) -> list[tuple[str, int, int, int]]:
    rows = []
    directory, stem = os.path.dirname(prefix), os.path.basename(prefix)
    for name in sorted(os.listdir(directory)):
        if name.startswith(stem) and name.endswith(".csv"):
            with open(os.path.join(directory, name)) as fh:
                for line in fh:
                    parts = line.rstrip("\n").split(",")
                    if len(parts) == 4:
                        rows.append((parts[0], int(parts[1]), int(parts[2]), int(parts[3])))
    return rows


def rebase(rows: list[tuple[str, int, int, int]]) -> tuple[list[tuple[str, int, int, int]], float]:
    """Send times from the first request (µs), and that first send time (monotonic seconds)."""
    t0 = min((r[1] for r in rows), default=0)
    return [(k, t - t0, lat, st) for k, t, lat, st in rows], t0 / 1e6


def slowest_seconds(rows, samples, t0: float, n: int = 5) -> list[dict]:
    """The `n` seconds with the worst p99, each beside that second's CPU sample."""
    by_second: dict[int, list[float]] = defaultdict(list)
    for r in rows:
        by_second[r[1] // 1_000_000].append(r[2] / 1000)
    worst = sorted(by_second, key=lambda s: percentile(sorted(by_second[s]), 99), reverse=True)[:n]
    out = []
    for second in sorted(worst):
        sample = min(samples, key=lambda c: abs(c["t"] - t0 - second - 1), default={})
        out.append({"second": second, "p99_ms": round(percentile(sorted(by_second[second]), 99), 1),
                    "answers": len(by_second[second]), **{k: v for k, v in sample.items() if k != "t"}})
    return out


def sustained(result: dict, slo_ms: float) -> bool:
    o = result["overall"]
    return o["errors"] == 0 and o["rps"] >= 0.97 * result["target_rps"] and o["p99_ms"] <= slo_ms


def flat(minutes: list[dict]) -> tuple[bool, str]:
    p99 = [m["p99_ms"] for m in minutes]
    if len(p99) < 6:
        return False, "fewer than 6 minutes: not judged"
    median = statistics.median(p99)
    first, last = statistics.median(p99[:3]), statistics.median(p99[-3:])
    worst = max(p99)
    ok = worst <= 1.5 * median and last <= 1.25 * first + 5
    return ok, (f"minute p99 median {median:.1f} ms, worst {worst:.1f} ms ({worst / median:.2f}× median), "
                f"first three {first:.1f} ms → last three {last:.1f} ms")


def print_report(report: dict, bare: float) -> None:
    print("\n| phase | target req/s | answered req/s | p50 ms | p99 ms | errors | verdict |")
    print("|---|---:|---:|---:|---:|---:|---|")
    c = report.get("ceiling")
    if c:
        o = c["overall"]
        print(f"| closed loop ({c['connections']} conn.) | — | {o['rps']:,.0f} | {o['p50_ms']} | {o['p99_ms']} | "
              f"{o['errors']} | ceiling ({o['rps'] / bare:.2f}× bare {bare:,.0f}) |")
    for r in report["steps"]:
        o = r["overall"]
        print(f"| {r['name']} | {r['target_rps']:,} | {o['rps']:,.0f} | {o['p50_ms']} | {o['p99_ms']} | {o['errors']} | "
              f"{'sustained' if r['sustained'] else 'not sustained'} |")
    s = report.get("soak")
    if not s:
        return
    o = s["overall"]
    print(f"| soak {s['seconds'] / 60:.0f} min | {s['target_rps']:,} | {o['rps']:,.0f} | {o['p50_ms']} | {o['p99_ms']} | "
          f"{o['errors']} | {'passed' if s['passed'] else 'FAILED'} |")
    print("\nsoak, per minute (CPU: the whole machine, from /proc/stat):\n\n"
          "| minute | req/s | p50 ms | p99 ms | max ms | errors | CPU busy % | iowait max % | steal max % |\n"
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in s["minutes"]:
        print(f"| {m['minute']} | {m['rps']:,.0f} | {m['p50_ms']} | {m['p99_ms']} | {m['max_ms']} | {m['errors']} | "
              f"{m['cpu_busy']} | {m['iowait_max']} | {m['steal_max']} |")
    print(f"\np99 flat: {'yes' if s['flat'] else 'NO'} ({s['flat_detail']})")
    print("\nslowest seconds: " + "; ".join(
        f"s{w['second']}: p99 {w['p99_ms']} ms, CPU busy {w.get('busy')} %, iowait {w.get('iowait')} %, "
        f"steal {w.get('steal')} %, WAL {w.get('wal_mb')} MB" for w in s["slowest_seconds"]))
    print("\nsoak, per request kind:\n\n| kind | answers | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|")
    for kind, k in s["by_kind"].items():
        print(f"| {TITLES[kind]} | {k['answers']:,} | {k['p50_ms']} | {k['p99_ms']} | {k['errors']} |")
    b, a = s["before"], s["after"]
    print(f"\nAPI workers' memory: {b['workers_rss_mb']} MB → {a['workers_rss_mb']} MB; notifications before "
          f"{json.dumps(b['notify'], sort_keys=True)}; after {json.dumps(a['notify'], sort_keys=True)}")
