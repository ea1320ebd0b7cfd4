"""Load generators: `wrk` when it is on PATH, otherwise a Python one.

Both keep a fixed number of connections busy for a fixed time, closed-loop (a
connection sends its next request when the previous answer is in), only to
127.0.0.1, and answer a `Measurement`: completed requests, elapsed time, the
latency percentiles, and errors (answers other than the expected status,
socket errors, timeouts, and — for one-shot bodies — requests sent after the
prepared bodies ran out).
"""
from __future__ import annotations

import http.client
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import time
from array import array
from collections import Counter
from dataclasses import asdict, dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_REQUESTS_PER_CONNECTION = 1_000_000  # the Python generator's hard bound, besides time


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    expect_status: int
    body: str | None = None  # the same body every time (or none)
    bodies: list[str] | None = None  # one body per request, each used once
    bodies_file: str | None = None  # the same bodies, one per line (for wrk)
    per_request: bool = False  # each body is a whole request line: PATH\tName: value...\tBODY


def split_request_line(line: str, headers: dict[str, str]) -> tuple[str, dict[str, str], str]:
    """(path, headers, body) of a per-request line: the fixed headers plus the line's own."""
    parts = line.split("\t")
    own = dict(headers)
    for part in parts[1:-1]:
        name, _, value = part.partition(": ")
        own[name] = value
    return parts[0], own, parts[-1]


@dataclass
class Measurement:
    generator: str
    requests: int
    elapsed_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: int
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    def as_dict(self) -> dict:
        return dict(asdict(self), rps=round(self.rps, 1))


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0].split(" [")[0] if text else "wrk"


# --- wrk -------------------------------------------------------------------------------------

def run_wrk(port: int, req: Request, *, duration: float, concurrency: int, threads: int) -> Measurement:
    threads = max(1, min(threads, concurrency))
    args = [req.method, req.path, str(req.expect_status), req.bodies_file or "-",
            "1" if req.bodies_file and req.bodies is not None else "0", str(threads), "1" if req.per_request else "0"]
    if req.body is not None and not req.bodies_file:
        raise ValueError("wrk runs take bodies from a file: write the fixed body to one")
    args += [f"{k}={v}" for k, v in req.headers.items()]
    cmd = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(duration))}s", "--timeout", "10s",
           "-s", os.path.join(HERE, "wrk_bodies.lua"), f"http://127.0.0.1:{port}{req.path}", "--", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    match = re.search(r"^BENCH_JSON (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    r = json.loads(match.group(1))
    kinds = {**r["by_status"], "connect": r["connect"], "read": r["read"], "write": r["write"],
             "timeout": r["timeout"], "bodies_exhausted": r["exhausted"]}
    kinds = {k: v for k, v in kinds.items() if v}
    # unexpected_status already covers wrk's own status>=400 count; requests sent after the bodies ran
    # out reuse a body, so the server rejects them and they are errors too (and the run is flagged).
    errors = r["unexpected_status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return Measurement("wrk", r["requests"], r["duration_us"] / 1e6, r["p50_us"] / 1000, r["p90_us"] / 1000,
                       r["p99_us"] / 1000, r["mean_us"] / 1000, r["max_us"] / 1000, errors, kinds)


# --- Python ----------------------------------------------------------------------------------

def _connection_loop(port, req: Request, bodies, start_at, stop_at, max_requests, queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies = array("d")
    kinds: Counter[str] = Counter()
    while time.monotonic() < start_at:
        time.sleep(0.001)
    i = 0
    while i < max_requests and time.monotonic() < stop_at:
        if bodies is not None:
            if i >= len(bodies):
                kinds["bodies_exhausted"] += 1
                break
            body = bodies[i]
        else:
            body = req.body
        i += 1
        path, headers = req.path, req.headers
        if req.per_request and body is not None:
            path, headers, body = split_request_line(body, req.headers)
        t0 = time.perf_counter()
        try:
            conn.request(req.method, path, body=body.encode() if body is not None else None, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != req.expect_status:
                kinds[f"status_{resp.status}"] += 1
        except (OSError, http.client.HTTPException) as exc:  # the connection reopens on the next request
            kinds[type(exc).__name__] += 1
            conn.close()
        latencies.append(time.perf_counter() - t0)
    conn.close()
    queue.put((latencies.tobytes(), dict(kinds), time.monotonic()))


def _percentile(sorted_values, q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q / 100 * len(sorted_values)) - 1))]


def run_python(port: int, req: Request, *, duration: float, concurrency: int,
               per_connection_limit: int = MAX_REQUESTS_PER_CONNECTION) -> Measurement:
    """`concurrency` processes, one keep-alive connection each (http.client reconnects when the
    server closes it), all starting together, for `duration` s or `per_connection_limit` requests."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    start_at = time.monotonic() + 0.5 + 0.02 * concurrency
    stop_at = start_at + duration
    procs = []
    for k in range(concurrency):
        bodies = req.bodies[k::concurrency] if req.bodies is not None else None
        p = ctx.Process(target=_connection_loop, args=(port, req, bodies, start_at, stop_at, per_connection_limit, queue),
                        daemon=True)
        p.start()
        procs.append(p)
    results = [queue.get(timeout=duration + 60) for _ in procs]
    for p in procs:
        p.join(10)
    latencies = array("d")
    kinds: Counter[str] = Counter()
    for raw, k, _ in results:
        part = array("d")
        part.frombytes(raw)
        latencies.extend(part)
        kinds.update(k)
    values = sorted(latencies)
    elapsed = max(end for _, _, end in results) - start_at
    errors = sum(v for k, v in kinds.items() if k != "bodies_exhausted")  # running out is flagged, not an answer
    ms = 1000.0
    return Measurement("python", len(values), elapsed, _percentile(values, 50) * ms, _percentile(values, 90) * ms,
                       _percentile(values, 99) * ms, (sum(values) / len(values) * ms) if values else 0.0,
                       (values[-1] * ms) if values else 0.0, errors, dict(kinds))


def warm_up(port: int, req: Request, *, concurrency: int, per_connection: int) -> Measurement:
    """A few requests on every connection before measuring (Python generator, bounded by count)."""
    return run_python(port, req, duration=60, concurrency=concurrency, per_connection_limit=per_connection)
