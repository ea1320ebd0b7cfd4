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
import gc
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO]

DEFAULT_RESULTS = os.path.join(HERE, "results", "crypto.json")
GOAL_RATIO = 0.8
FAST_BACKEND = "tongsuo"
MSG_LEN = 32
KIB8 = 8192
MIB = 1 << 20
MB = 1e6  # MB/s in 10^6 bytes, as `openssl speed` counts (its "1000s of bytes")


# --------------------------------------------------------------------------- measuring

def measure(fn, seconds: float, warmup: float, nbytes: int = 0) -> dict:
    """Call fn() for `warmup` s unmeasured, then for `seconds` s measured (in batches of about
    5 ms, so the clock is read rarely). Returns calls, elapsed wall and CPU time, rate."""
    fn()
    n = 1
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < warmup:
        fn()
        n += 1
    took = time.perf_counter() - t0
    per_call = took / n if warmup > 0 and took > 0 else 0.0
    batch = max(1, int(0.005 / per_call)) if per_call else 1
    gc.collect()
    calls = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        t1 = time.perf_counter()
        if t1 >= deadline:
            break
    elapsed = t1 - t0
    cpu = time.process_time() - c0
    per_s = calls / elapsed
    return {
        "calls": calls,
        "elapsed_s": round(elapsed, 4),
        "cpu_s": round(cpu, 4),
        "per_s": per_s,
        "value": per_s * nbytes / MB if nbytes else per_s,
        "us_per_call": 1e6 / per_s,
    }


# --------------------------------------------------------------------------- openssl speed

def _openssl_run(exe: str, args: list[str], seconds: int) -> tuple[str, str]:
    cmd = [exe, "speed", "-elapsed", "-seconds", str(seconds), "-mr", *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 10 + 60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return " ".join(cmd), f"ERROR {e}"
    if p.returncode != 0:
        return " ".join(cmd), "ERROR " + (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[0][:200]
    return " ".join(cmd), p.stdout


def openssl_sm2(exe: str, seconds: int) -> dict:
    cmd, out = _openssl_run(exe, ["sm2"], seconds)
    # machine-readable: +F7:<idx>:<bits>:<curve>:<sign/s>:<verify/s>
    m = re.search(r"^\+F\d*:\d+:256:\w*SM2\w*:([\d.]+):([\d.]+)\s*$", out, re.M | re.I)
    if not m:
        return {"command": cmd, "error": out if out.startswith("ERROR") else "no SM2 line in the output"}
    return {"command": cmd, "sign": float(m.group(1)), "verify": float(m.group(2))}


def openssl_bulk(exe: str, seconds: int, names: list[str], nbytes: int) -> dict:
    """First of `names` that this openssl knows (-evp NAME), MB/s at `nbytes` per call."""
    tried = []
    for name in names:
        cmd, out = _openssl_run(exe, ["-bytes", str(nbytes), "-evp", name], seconds)
        # machine-readable: +F:<idx>:<name>:<bytes/s>
        m = re.search(r"^\+F:\d+:([^:]+):([\d.]+)\s*$", out, re.M)
        if m:
            return {"command": cmd, "algorithm": m.group(1), "value": float(m.group(2)) / MB,
                    "not_available": tried}
        tried.append(name)
    return {"command": cmd, "error": f"none of {', '.join(names)} available", "not_available": tried}


def openssl_version(exe: str) -> str:
    try:
        return subprocess.run([exe, "version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


# --------------------------------------------------------------------------- the code under test

def load_ours() -> tuple[dict, str]:
    """Import the app's crypto modules; returns ({name: module-or-object}, error text)."""
    try:
        from app.crypto import sm2 as sm2mod
        from app.crypto.sm3 import sm3
        from app.crypto.sm4 import sm4_gcm_decrypt, sm4_gcm_encrypt
    except Exception:  # noqa: BLE001 - reported, not raised
        return {}, traceback.format_exc(limit=3).strip()
    return {"sm2": sm2mod, "sm3": sm3, "sm4_gcm_encrypt": sm4_gcm_encrypt,
            "sm4_gcm_decrypt": sm4_gcm_decrypt}, ""


def backend_names(sm2mod) -> list[str]:
    b = sm2mod.available_backends()
    return list(b.keys()) if isinstance(b, dict) else list(b)


def sm2_cases(sm2mod, backend: str) -> dict:
    """Callables for one backend, after checking that what they compute is right."""
    key = sm2mod.SM2PrivateKey.generate(backend=backend)
    pub = key.public_key()
    msg = os.urandom(MSG_LEN)
    e = os.urandom(32)  # any 32 bytes: the digest path costs the same whatever e is
    sig = key.sign(msg)
    dsig = key.sign_digest(e)
    other = bytes([msg[0] ^ 1]) + msg[1:]
    checks = {
        "verify(sign(m), m)": pub.verify(sig, msg) is True,
        "verify(sign(m), m') is False": pub.verify(sig, other) is False,
        "verify_digest(sign_digest(e), e)": pub.verify_digest(dsig, e) is True,
        "verify_digest(sign_digest(e), e') is False": pub.verify_digest(dsig, bytes([e[0] ^ 1]) + e[1:]) is False,
    }
    bad = [k for k, ok in checks.items() if not ok]
    if bad:
        raise AssertionError("wrong result: " + "; ".join(bad))
    return {
        "sm2.sign": lambda: key.sign(msg),
        "sm2.verify": lambda: pub.verify(sig, msg),
        "sm2.sign_digest": lambda: key.sign_digest(e),
        "sm2.verify_digest": lambda: pub.verify_digest(dsig, e),
    }


def raw_sm2_cases(backend: str) -> tuple[str, dict]:
    """The same operations straight through the library a backend wraps (no app code)."""
    msg = os.urandom(MSG_LEN)
    if backend == "tongsuo":
        from tongsuopy.crypto import hashes
        from tongsuopy.crypto.asymciphers import ec
        k = ec.generate_private_key(ec.SM2())
        pk = k.public_key()
        alg = ec.ECDSA(hashes.SM3())
        sig = k.sign(msg, alg)
        pk.verify(sig, msg, alg)
        return "tongsuopy", {"sm2.sign": lambda: k.sign(msg, alg), "sm2.verify": lambda: pk.verify(sig, msg, alg)}
    if backend == "gmssl":
        from gmssl import func, sm2
        d = func.random_hex(64)
        pub = sm2.CryptSM2(private_key=d, public_key="")._kg(int(d, 16), sm2.default_ecc_table["g"])
        c = sm2.CryptSM2(private_key=d, public_key=pub)
        e = os.urandom(32)
        sig = c.sign_with_sm3(msg)
        dsig = c.sign(e, func.random_hex(64))
        assert c.verify_with_sm3(sig, msg) and c.verify(dsig, e)
        return "gmssl", {
            "sm2.sign": lambda: c.sign_with_sm3(msg),
            "sm2.verify": lambda: c.verify_with_sm3(sig, msg),
            "sm2.sign_digest": lambda: c.sign(e, func.random_hex(64)),
            "sm2.verify_digest": lambda: c.verify(dsig, e),
        }
    return "", {}


def e_case(sm2mod, backend: str):
    """public_key().digest(m) = SM3(Z‖M): what sign/verify add to the digest path (None if absent)."""
    pub = sm2mod.SM2PrivateKey.generate(backend=backend).public_key()
    if not hasattr(pub, "digest"):
        return None
    msg = os.urandom(MSG_LEN)
    return lambda: pub.digest(msg)


def bulk_cases(ours: dict) -> dict:
    sm3 = ours["sm3"]
    enc, dec = ours["sm4_gcm_encrypt"], ours["sm4_gcm_decrypt"]
    if sm3(b"abc").hex() != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0":
        raise AssertionError("sm3(b'abc') is not the GB/T 32905 test vector")
    k16 = os.urandom(16)
    aad = b"yiwang-bench"
    b8, b1m = os.urandom(KIB8), os.urandom(MIB)
    blob = enc(k16, b8, aad)
    if dec(k16, blob, aad) != b8:
        raise AssertionError("sm4_gcm_decrypt(sm4_gcm_encrypt(x)) != x")
    if enc(k16, b8, aad) == blob:
        raise AssertionError("sm4_gcm_encrypt gave the same output twice (nonce reuse?)")
    return {
        "sm3.8k": (lambda: sm3(b8), KIB8),
        "sm3.1m": (lambda: sm3(b1m), MIB),
        "sm4gcm.enc.8k": (lambda: enc(k16, b8, aad), KIB8),
        "sm4gcm.dec.8k": (lambda: dec(k16, blob, aad), KIB8),
    }


def raw_bulk_cases() -> dict:
    import hashlib
    out = {}
    b8, b1m = os.urandom(KIB8), os.urandom(MIB)
    try:
        hashlib.new("sm3")
        out["sm3.8k"] = ("hashlib (OpenSSL)", lambda: hashlib.new("sm3", b8).digest())
        out["sm3.1m"] = ("hashlib (OpenSSL)", lambda: hashlib.new("sm3", b1m).digest())
    except ValueError:
        pass
    try:
        from tongsuopy.crypto.ciphers.aead import SM4GCM
        g = SM4GCM(os.urandom(16))
        nonce, aad = os.urandom(12), b"yiwang-bench"
        ct = g.encrypt(nonce, b8, aad)
        out["sm4gcm.enc.8k"] = ("tongsuopy SM4GCM", lambda: g.encrypt(nonce, b8, aad))
        out["sm4gcm.dec.8k"] = ("tongsuopy SM4GCM", lambda: g.decrypt(nonce, ct, aad))
    except Exception:  # noqa: BLE001 - only a reference column
        pass
    return out


ITEMS = {  # item: (label, unit, openssl key)
    "sm2.sign": ("SM2 sign, 32-byte message, default ID (SM3(Z‖M) + sign)", "op/s", "sm2.sign"),
    "sm2.verify": ("SM2 verify, same", "op/s", "sm2.verify"),
    "sm2.sign_digest": ("SM2 sign_digest (e given: no Z, no hash)", "op/s", None),
    "sm2.verify_digest": ("SM2 verify_digest (e given)", "op/s", None),
    "sm2.e": ("e = SM3(Z‖M) alone, public_key().digest (Z cached per key and ID)", "op/s", None),
    "sm3.8k": ("SM3, 8 KiB buffer", "MB/s", "sm3.8k"),
    "sm3.1m": ("SM3, 1 MiB buffer", "MB/s", "sm3.1m"),
    "sm4gcm.enc.8k": ("SM4-GCM encrypt, 8 KiB", "MB/s", "sm4.8k"),
    "sm4gcm.dec.8k": ("SM4-GCM decrypt, 8 KiB", "MB/s", "sm4.8k"),
}


# --------------------------------------------------------------------------- report

def _fmt(v, unit: str) -> str:
    if v is None:
        return "—"
    return f"{v:.0f}" if unit == "op/s" or v >= 100 else f"{v:.1f}"


def _us(v: float) -> str:
    return f"{v:.1f} µs" if v > 0 else f"{v:.1f} µs (≈ 0, within the noise)"


def rows(doc: dict) -> list[list[str]]:
    out = []
    for r in doc["results"]:
        raw = f"{_fmt(r['raw'], r['unit'])} ({r['raw_label']})" if r.get("raw") is not None else "—"
        ossl = _fmt(r.get("openssl"), r["unit"])
        if r.get("openssl_note"):
            ossl += f" ({r['openssl_note']})"
        out.append([r["item"], r["backend"], r["unit"], _fmt(r["ours"], r["unit"]), f"{r['us_per_call']:.1f}",
                    raw, ossl, f"{r['ratio']:.2f}×" if r.get("ratio") is not None else "—"])
    return out


HEADER = ["item", "backend", "unit", "ours", "µs/call", "library direct", "openssl speed", "ours/openssl"]


def goal_lines(doc: dict) -> list[str]:
    lines = []
    if not doc["goals"]:
        lines.append(f"Goal: fast backend ({FAST_BACKEND}) ≥ {GOAL_RATIO:g}× OpenSSL for sign and verify: "
                     f"not measured ({FAST_BACKEND} not in this run)")
    for g in doc["goals"]:
        state = "met" if g["met"] else "MISSED"
        if any(v is None for v in g["ratios"].values()):
            state = "not measured (no OpenSSL figure)"
        figs = ", ".join(f"{k} {v:.2f}×" if v is not None else f"{k} n/a" for k, v in g["ratios"].items())
        lines.append(f"Goal: fast backend ({g['backend']}) ≥ {GOAL_RATIO:g}× OpenSSL for sign and verify: {state} ({figs})")
    return lines


def table(doc: dict) -> str:
    all_rows = [HEADER] + rows(doc)
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(HEADER))]
    right = {3, 4, 7}
    lines = []
    for n, row in enumerate(all_rows):
        lines.append("  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    for b, z in doc["z_cost"].items():
        lines.append(f"{b}: sign {z['sign_total_us']:.1f} µs − sign_digest = {_us(z['sign_us'])}; verify "
                     f"{z['verify_total_us']:.1f} µs − verify_digest = {_us(z['verify_us'])}"
                     + (f"; e = SM3(Z‖M) alone {z['e_us']:.1f} µs" if z.get("e_us") is not None else ""))
    for r in doc["results"]:
        if r["cpu_share"] < 0.9 or r["cpu_share"] > 1.1:
            lines.append(f"  note: {r['item']} {r['backend']}: CPU time {r['cpu_share']:.2f}× wall time "
                         "(not one busy core: a noisy machine, or threads)")
    for e in doc["errors"]:
        lines.append(f"NOT MEASURED: {e}")
    lines += goal_lines(doc)
    m = doc["machine"]
    lines.append(f"{doc['seconds']:g} s per item in {doc['rounds']} round(s), {doc['warmup_s']:g} s warm-up before each; "
                 f"baseline `openssl speed -elapsed -seconds {doc['openssl_seconds']}` in every round; best round shown; "
                 f"{m['cpu_model']}, "
                 + (f"pinned to CPU {doc['pinned_cpu']} of {m['cpus']}" if doc["pinned_cpu"] is not None else "not pinned")
                 + f"; {doc['versions']['openssl'] or 'no openssl'}.")
    return "\n".join(lines)


def markdown(doc: dict) -> str:
    git, m = doc["git"], doc["machine"]
    lines = [
        f"`{doc['command']}`, measured {doc['started_at'][:10]} at {git['commit']}"
        f"{' (uncommitted changes)' if git['dirty'] else ''}: one process, one thread, "
        f"{'pinned to one CPU' if doc['pinned_cpu'] is not None else 'not pinned'} "
        f"({m['cpu_model']}, {m['cpus']} CPUs); {doc['seconds']:g} s per item over {doc['rounds']} rounds, best "
        f"round; baseline `openssl speed -elapsed` ({doc['versions']['openssl']}) in every round; "
        f"tongsuopy {doc['versions']['tongsuopy']}, gmssl {doc['versions']['gmssl']}.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "| " + " | ".join(["---", "---", "---", "---:", "---:", "---:", "---:", "---:"]) + " |",
    ]
    for row in rows(doc):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    lines.append("")
    lines += goal_lines(doc)
    return "\n".join(lines)


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
