"""YiWang cryptography benchmark: SM2 sign/verify per backend, SM3 and SM4-GCM throughput, each
beside `openssl speed` measured in the same run on the same (pinned) CPU. See bench/README.md,
section "Cryptography (bench/crypto.py)".

    .venv/bin/python bench/crypto.py [--seconds 3] [--backend all|NAME[,NAME]] [--warmup 0.5]
                                     [--cpu N|-1] [--openssl PATH] [--json bench/results/crypto.json]

Single process, single thread, one CPU. Each item runs for a fixed time after a warm-up; the
figure is completed calls ÷ wall-clock time. Missing the goal is printed, not an exit status.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO]

DEFAULT_RESULTS = os.path.join(HERE, "results", "crypto.json")
from crypto_const import FAST_BACKEND, GOAL_RATIO, KIB8, MIB, MSG_LEN  # noqa: E402,F401

from crypto_cases import (  # noqa: E402
    ITEMS, backend_names, bulk_cases, e_case, load_ours, measure, openssl_bulk, openssl_sm2, openssl_version, raw_bulk_cases, raw_sm2_cases, sm2_cases,
)
from crypto_report import _fmt, markdown, table  # noqa: E402


# --------------------------------------------------------------------------- main

def git_info() -> dict:
    def git(*a):
        out = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip()
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=3.0, help="seconds measured per item (default 3), split "
                   "evenly over the rounds; openssl speed gets the same per test and round, in whole seconds (≥ 1)")
    p.add_argument("--rounds", type=int, default=3, help="rounds (default 3): each runs the openssl baseline, then "
                   "every item; each figure is its best round")
    p.add_argument("--warmup", type=float, default=0.2, help="unmeasured seconds before each measurement (default 0.2)")
    p.add_argument("--backend", default="all", help="'all' or a comma-separated list of SM2 backends")
    p.add_argument("--cpu", type=int, default=None, help="CPU to pin this process and openssl speed to "
                   "(default: the allowed CPU idlest over 0.3 s; -1: do not pin)")
    p.add_argument("--openssl", default="openssl", help="openssl executable (default: openssl on PATH)")
    p.add_argument("--json", default=DEFAULT_RESULTS, help="where to write the results (default bench/results/crypto.json)")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or args.rounds < 1:
        p.error("--seconds and --rounds must be positive, --warmup not negative")
    return args


def least_busy_cpu(allowed: set[int], sample: float = 0.3) -> int:
    """The allowed CPU with the most idle time over `sample` seconds (/proc/stat), else the first."""
    def idle() -> dict[int, tuple[int, int]]:
        out = {}
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu") and line[3].isdigit():
                    name, *vals = line.split()
                    v = [int(x) for x in vals]
                    out[int(name[3:])] = (v[3] + v[4], sum(v))
        return out
    try:
        a = idle()
        time.sleep(sample)
        b = idle()
        share = {c: (b[c][0] - a[c][0]) / max(1, b[c][1] - a[c][1]) for c in allowed if c in a and c in b}
        return max(sorted(share), key=lambda c: share[c])
    except (OSError, ValueError, IndexError):
        return min(allowed)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.timezone.utc)
    pinned = None
    if args.cpu != -1 and hasattr(os, "sched_setaffinity"):
        allowed = os.sched_getaffinity(0)
        pinned = args.cpu if args.cpu is not None else least_busy_cpu(allowed)
        os.sched_setaffinity(0, {pinned})  # openssl speed, a child, inherits it
    exe = shutil.which(args.openssl) or args.openssl
    per_round = args.seconds / args.rounds
    o_sec = max(1, round(per_round))
    errors: list[str] = []

    ours, err = load_ours()
    if err:
        errors.append(f"app.crypto does not import:\n{err}")
    backends: list[str] = []
    if ours:
        known = backend_names(ours["sm2"])
        if args.backend == "all":
            backends = known
        else:
            backends = [b.strip() for b in args.backend.split(",") if b.strip()]
            unknown = [b for b in backends if b not in known]
            if unknown:
                print(f"unknown or unavailable backend(s): {', '.join(unknown)}; available: {', '.join(known)}",
                      file=sys.stderr)
                return 2

    # What to measure: (item, backend, our callable, bytes per call, library label, library callable).
    jobs = []
    for b in backends:
        try:
            cases = sm2_cases(ours["sm2"], b)
        except Exception:  # noqa: BLE001
            errors.append(f"SM2 backend {b}: {traceback.format_exc(limit=2).strip()}")
            continue
        try:
            raw_label, raw = raw_sm2_cases(b)
        except Exception:  # noqa: BLE001 - a reference column only
            raw_label, raw = "", {}
        for item, fn in cases.items():
            jobs.append((item, b, fn, 0, raw_label, raw.get(item)))
    if backends:
        fn = e_case(ours["sm2"], backends[0])
        if fn is not None:
            jobs.append(("sm2.e", "—", fn, 0, "", None))
    if ours:
        try:
            bulk = bulk_cases(ours)
        except Exception:  # noqa: BLE001
            errors.append(f"SM3/SM4: {traceback.format_exc(limit=2).strip()}")
            bulk = {}
        raw_bulk = raw_bulk_cases()
        for item, (fn, nbytes) in bulk.items():
            label, rfn = raw_bulk.get(item, ("", None))
            jobs.append((item, "—", fn, nbytes, label, rfn))

    # Rounds: in each, the openssl baseline then every item (ours, then the library directly), so
    # that a busy spell on a shared machine hits both sides; each figure is its best round.
    print(f"{openssl_version(exe).split(' (')[0] or exe}; {len(jobs)} items × {args.rounds} round(s) of "
          f"{per_round:g} s (+{args.warmup:g} s warm-up), openssl speed {o_sec} s per test per round; "
          f"pinned to CPU {pinned}", file=sys.stderr)
    ossl_rounds: list[dict] = []
    ours_rounds: dict[tuple, list] = {(j[0], j[1]): [] for j in jobs}
    raw_rounds: dict[tuple, list] = {(j[0], j[1]): [] for j in jobs}
    for r in range(args.rounds):
        o = {"sm2": openssl_sm2(exe, o_sec),
             "sm3.8k": openssl_bulk(exe, o_sec, ["sm3"], KIB8),
             "sm3.1m": openssl_bulk(exe, o_sec, ["sm3"], MIB),
             "sm4.8k": openssl_bulk(exe, o_sec, ["sm4-gcm", "sm4-ctr", "sm4-cbc"], KIB8)}
        ossl_rounds.append(o)
        print(f"round {r + 1}: openssl sm2 sign/s {o['sm2'].get('sign', '—')}, verify/s {o['sm2'].get('verify', '—')}",
              file=sys.stderr)
        for item, b, fn, nbytes, raw_label, rfn in jobs:
            m = measure(fn, per_round, args.warmup, nbytes)
            ours_rounds[(item, b)].append(m)
            if rfn is not None:
                raw_rounds[(item, b)].append(measure(rfn, per_round, args.warmup, nbytes))
            print(f"  {item:18} {b:8} {_fmt(m['value'], ITEMS[item][1]):>8} {ITEMS[item][1]}", file=sys.stderr)

    # The baseline: best round per test.
    ossl: dict = {}
    for key in ("sm2", "sm3.8k", "sm3.1m", "sm4.8k"):
        got = [o[key] for o in ossl_rounds if "error" not in o[key]]
        if not got:
            e = ossl_rounds[0][key]
            errors.append(f"openssl {key}: {e['error']} ({e['command']})")
            ossl[key] = {**e, "rounds": ossl_rounds and [o[key] for o in ossl_rounds]}
        elif key == "sm2":
            ossl[key] = {"command": got[0]["command"], "sign": max(g["sign"] for g in got),
                         "verify": max(g["verify"] for g in got),
                         "rounds": [{"sign": g["sign"], "verify": g["verify"]} for g in got]}
        else:
            ossl[key] = {**got[0], "value": max(g["value"] for g in got), "rounds": [g["value"] for g in got]}

    def ossl_value(key):
        if key is None:
            return None, ""
        if key.startswith("sm2."):
            return ossl["sm2"].get(key.split(".")[1]), ""
        o = ossl[key]
        if "value" not in o:
            return None, ""
        note = "" if o["algorithm"].lower() == "sm4-gcm" or not key.startswith("sm4") else \
            f"{o['algorithm']}; no SM4-GCM in this openssl"
        return o["value"], note

    results = []
    for item, b, fn, nbytes, raw_label, rfn in jobs:
        label, unit, okey = ITEMS[item]
        ms = ours_rounds[(item, b)]
        m = max(ms, key=lambda x: x["value"])
        rms = raw_rounds[(item, b)]
        rm = max(rms, key=lambda x: x["value"]) if rms else None
        o, note = ossl_value(okey)
        results.append({
            "item": item, "what": label, "backend": b, "unit": unit,
            "ours": m["value"], "us_per_call": m["us_per_call"],
            "rounds": [{k: x[k] for k in ("value", "calls", "elapsed_s", "cpu_s")} for x in ms],
            "cpu_share": min(x["cpu_s"] / x["elapsed_s"] for x in ms),
            "raw": rm["value"] if rm else None, "raw_label": raw_label if rm else None,
            "raw_rounds": [x["value"] for x in rms],
            "openssl": o, "openssl_note": note,
            "ratio": m["value"] / o if o else None,
        })

    # The goal, and what the Z‖M hashing costs (sign − sign_digest, verify − verify_digest).
    by = {(r["item"], r["backend"]): r for r in results}
    goals = []
    fast = FAST_BACKEND if FAST_BACKEND in backends else None
    if fast:
        ratios = {k: by[(f"sm2.{k}", fast)]["ratio"] if (f"sm2.{k}", fast) in by else None for k in ("sign", "verify")}
        goals.append({"backend": fast, "ratio": GOAL_RATIO, "ratios": ratios,
                      "met": all(v is not None and v >= GOAL_RATIO for v in ratios.values())})
    z_cost = {}
    for b in backends:
        if all((f"sm2.{k}", b) in by for k in ("sign", "sign_digest", "verify", "verify_digest")):
            s, sd = by[("sm2.sign", b)]["us_per_call"], by[("sm2.sign_digest", b)]["us_per_call"]
            v, vd = by[("sm2.verify", b)]["us_per_call"], by[("sm2.verify_digest", b)]["us_per_call"]
            z_cost[b] = {"sign_us": s - sd, "sign_total_us": s, "verify_us": v - vd, "verify_total_us": v,
                         "e_us": by[("sm2.e", "—")]["us_per_call"] if ("sm2.e", "—") in by else None}

    argv_shown = " ".join(sys.argv[1:] if argv is None else argv)
    doc = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": (".venv/bin/python bench/crypto.py " + argv_shown).strip(),
        "git": git_info(),
        "machine": {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "platform": platform.platform(),
                    "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "pinned_cpu": pinned,
        "seconds": args.seconds, "rounds": args.rounds, "warmup_s": args.warmup, "openssl_seconds": o_sec,
        "message_bytes": MSG_LEN,
        "versions": {"python": platform.python_version(), "openssl": openssl_version(exe).split(" (")[0],
                     "tongsuopy": version("tongsuopy"), "gmssl": version("gmssl"),
                     "cryptography": version("cryptography")},
        "backends": backends,
        "openssl": ossl,
        "results": results,
        "goals": goals,
        "z_cost": z_cost,
        "errors": errors,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")

    sys.stderr.flush()
    print(table(doc))
    print()
    print("Markdown for bench/README.md:")
    print()
    print(markdown(doc))
    print()
    print(f"JSON: {os.path.relpath(args.json)}")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
