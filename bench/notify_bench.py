"""Notifications end to end: the worker's throughput (outbox → inbox + push) and the latency from
enqueue to an SSE client, beside a raw Redis PUBLISH → subscriber round trip in the same run.
See bench/README.md (Notifications).

    .venv/bin/python bench/notify_bench.py [--notices 20000] [--users 50] [--rate 1000] [--seconds 10]
                                     [--clients 20] [--workers 1] [--database-url URL --redis-url URL]

Set-up: a fresh VAR_DIR (SQLite + embedded Redis unless URLs are given), `users` citizens with one
FCM device each (quiet hours off, so pushes go out whatever the hour), the development log push
channel (a real channel doing everything but the HTTP call; see tests/notify/test_adapters.py for
the providers). Then:
  1. throughput: `notices` queued through `notify.service.enqueue` (200 a unit of work), then
     `workers` × `flask notify worker` processes started; timed until every outbox row is done and
     every delivery is sent → notices/s (each notice = an inbox entry + a live event + a push);
  2. latency: a gunicorn server (gthread, GUNICORN_THREADS=64) with `clients` SSE streams, one per
     user; the same worker(s) running; notices enqueued at `rate`/s for `seconds`, each carrying its
     enqueue time; every SSE client records now − that time → p50/p99;
  3. raw Redis: PUBLISH → a subscriber in this process, same Redis, 2,000 messages → p50/p99.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO]

from app import create_app  # noqa: E402
from app.db import db, execute, unit_of_work  # noqa: E402
from app.security.tokens import Principal  # noqa: E402
from notify.service import TOKEN_COLUMN, enqueue  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--notices", type=int, default=20000)
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--rate", type=int, default=1000, help="notices/s enqueued in the latency phase")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--workers", type=int, default=1, help="notify worker processes")
    p.add_argument("--database-url", default="")
    p.add_argument("--redis-url", default="")
    p.add_argument("--json", default=os.path.join(HERE, "results", "notify.json"))
    return p.parse_args(argv)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.var = tempfile.mkdtemp(prefix="yiwang-bench-notify-")
        self.env = {**os.environ, "APP_ENV": "development", "VAR_DIR": self.var, "LOG_LEVEL": "WARNING",
                    "NOTIFY_WORKER_IN_PROCESS": "0", "AUTO_MIGRATE": "0", "DATABASE_URL": args.database_url,
                    "REDIS_URL": args.redis_url}
        os.environ.update({k: v for k, v in self.env.items() if k != "AUTO_MIGRATE"})
        self.app = create_app({"AUTO_MIGRATE": True})
        self.procs: list[subprocess.Popen] = []

    def setup_users(self) -> list[str]:
        """Devices and preferences written straight into notify's tables: register_device would
        announce each new device with a notice of its own (and check each token's shape)."""
        users = [f"u_bench{n:04d}" for n in range(self.args.users)]
        cipher = self.app.extensions["pii"]
        with self.app.app_context(), db.connection_context(), unit_of_work():
            if self.args.database_url:
                for table in ("notify_inbox", "notify_delivery", "notify_push_attempt", "notify_outbox",
                              "notify_device", "notify_preference"):
                    execute(f'DELETE FROM "{table}"')  # raw SQL: a shared database starts empty
            for n, user in enumerate(users):
                # raw SQL: bench set-up, straight into the tables (see the docstring)
                execute('INSERT INTO "notify_device" (id, user_id, platform, token_bidx, token_enc, token_hint, '
                        'created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)',
                        (f"dev_bench{n:04d}", user, "fcm", f"bench{n}",
                         cipher.encrypt(f"fcm-bench-{n:04d}-" + "x" * 40, TOKEN_COLUMN), "…xxxx"))
                # raw SQL: as above
                execute('INSERT INTO "notify_preference" (user_id, disabled_channels, quiet_hours, updated_at) '
                        'VALUES (?, ?, ?, CURRENT_TIMESTAMP)', (user, "[]", False))
        return users

    def enqueue(self, users: list[str], count: int, start: int, stamp: bool = False) -> None:
        with self.app.app_context(), db.connection_context():
            for base in range(start, start + count, 200):
                with unit_of_work():
                    for n in range(base, min(base + 200, start + count)):
                        enqueue(user_id=users[n % len(users)], kind="case_status", title="办件进度：已受理",
                                body="您办理的「个体工商户设立登记」状态更新为：已受理。", dedupe_key=f"bench:{n}",
                                data={"t": repr(time.time())} if stamp else {"case_no": f"HF{n}"})

    def count(self, sql: str) -> int:
        with self.app.app_context(), db.connection_context():
            return int(execute(sql).fetchone()[0])

    def start_workers(self) -> None:
        for _ in range(self.args.workers):
            self.procs.append(subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "notify", "worker"],
                                               cwd=REPO, env=self.env))

    def throughput(self, users: list[str]) -> dict:
        n = self.args.notices
        started = time.perf_counter()
        self.enqueue(users, n, 0)
        enqueue_s = time.perf_counter() - started
        started = time.perf_counter()
        self.start_workers()
        # raw SQL: the bench watches the worker's progress from outside, by counting rows
        while self.count('SELECT COUNT(*) FROM "notify_delivery" WHERE status = \'sent\'') < n:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        inbox = self.count('SELECT COUNT(*) FROM "notify_inbox"')  # raw SQL: as above
        return {"notices": n, "inbox": inbox, "enqueue_per_s": round(n / enqueue_s), "seconds": round(elapsed, 2),
                "delivered_per_s": round(n / elapsed)}

    def latency(self, users: list[str]) -> dict:
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=REPO,
                                  env={**self.env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
                                       "GUNICORN_THREADS": "64"})
        self.procs.append(server)
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                requests.get(url + "/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        tokens = self.app.extensions["tokens"]
        samples: list[float] = []
        lock = threading.Lock()
        ready = threading.Barrier(self.args.clients + 1)
        stop = threading.Event()

        def client(user: str) -> None:
            token, _ = tokens.issue(Principal(kind="citizen", id=user))
            with requests.get(url + "/api/v1/notifications/stream", headers={"Authorization": f"Bearer {token}"},
                              stream=True, timeout=(5, 30)) as response:
                ready.wait()
                for line in response.iter_lines(decode_unicode=True):
                    if line.startswith("data: "):
                        sent = float(json.loads(line[6:])["data"]["t"])
                        with lock:
                            samples.append(time.time() - sent)
                    if stop.is_set():
                        return

        threads = [threading.Thread(target=client, args=(u,), daemon=True) for u in users[:self.args.clients]]
        for t in threads:
            t.start()
        ready.wait(timeout=30)
        time.sleep(0.5)
        watched = users[:self.args.clients]
        total = int(self.args.rate * self.args.seconds)
        batch = max(1, self.args.rate // 20)  # 20 commits a second
        started = time.perf_counter()
        for k in range(0, total, batch):
            self.enqueue(watched, min(batch, total - k), self.args.notices + k, stamp=True)
            delay = started + (k + batch) / self.args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        deadline = time.monotonic() + 30
        while len(samples) < total and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        ms = [s * 1000 for s in samples]
        return {"rate": self.args.rate, "seconds": self.args.seconds, "clients": self.args.clients, "sent": total,
                "received": len(ms), "p50_ms": round(pct(ms, 0.5), 1), "p99_ms": round(pct(ms, 0.99), 1),
                "max_ms": round(max(ms), 1) if ms else None}

    def raw_redis(self) -> dict:
        client = self.app.extensions["redis"]
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe("bench:raw")
        samples = []
        for _ in range(2000):
            started = time.perf_counter()
            client.publish("bench:raw", "x")
            while pubsub.get_message(timeout=1) is None:
                pass
            samples.append((time.perf_counter() - started) * 1000)
        pubsub.close()
        return {"messages": 2000, "p50_ms": round(statistics.median(samples), 3), "p99_ms": round(pct(samples, 0.99), 3)}

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.var, ignore_errors=True)


def main(argv=None) -> None:
    args = parse_args(argv)
    bench = Bench(args)
    try:
        users = bench.setup_users()
        result = {"setup": {"database": "postgresql" if args.database_url else "sqlite",
                            "redis": "server" if args.redis_url else "embedded", "workers": args.workers,
                            "cpus": os.cpu_count()}}
        result["throughput"] = bench.throughput(users)
        print("throughput:", result["throughput"], flush=True)
        result["sse_latency"] = bench.latency(users)
        print("enqueue → SSE:", result["sse_latency"], flush=True)
        result["raw_redis_publish"] = bench.raw_redis()
        print("raw PUBLISH → subscriber:", result["raw_redis_publish"], flush=True)
    finally:
        bench.close()
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as fh:
        json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
