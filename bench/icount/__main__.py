"""Instructions per request: each hot endpoint counted with valgrind's callgrind, beside a bare Flask
endpoint counted in the same run (issue 20). Instruction counts, unlike wall-clock times, are the
same from run to run on a shared machine, so they carry the budgets CI checks.

    .venv/bin/python bench/icount [--cases me,login,...] [--n 20] [--warmup 20]
                                  [--out bench/results/icount.json] [--markdown FILE]
                                  [--check bench/icount/budget.toml] [--no-attribution]
    make bench-icount            # the whole table, with attribution, into bench/results/
    make icount-check            # CI: every budgeted case, fails on one over its budget + 10 %

How: bench/icount/driver.py builds the app (SQLite file, embedded Redis, INFO request logs,
Prometheus multi-process files: the server's settings), prepares every case's requests before
anything is counted, and calls the WSGI app directly. It runs under
`valgrind --tool=callgrind --instr-atstart=no`; after each case's warm-up a client request
(bench/icount/vgmark.c, compiled here with the system's cc against valgrind's header) zeroes the
counters, the N requests run, and another dumps them: one dump per case, whose total / N is the
figure. Every thread is counted (the home screen's part pool). The embedded redis-server is another
process and is not counted (as PostgreSQL is not): only the client side of a round trip is.

Attribution, two views of the same requests:
- by object (callgrind's own, exact): the interpreter, SQLite, libcrypto/Tongsuo, libc, ...;
- by library (cProfile in a second, native run of the same driver): the share of self time by
  package (flask/werkzeug, marshmallow, peewee, sqlite/psycopg, redis, crypto, logging, metrics,
  project code), builtins counted to the library that called them, time blocked on locks left out;
  scaled to the instruction count. cProfile's own cost per call weighs on code with many small
  calls, so these rows are approximate; the totals are not.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from budget import check_budget, load_budget  # noqa: E402
from icount_cases import CASES  # noqa: E402

DEFAULT_OUT = os.path.join(REPO, "bench", "results", "icount.json")
BASE = "bare_flask"


def build_mark(workdir: str) -> str:
    out = os.path.join(workdir, "libvgmark.so")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", out, os.path.join(HERE, "vgmark.c")], check=True)
    return out


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR",)}
    env.update(PYTHONHASHSEED="0", **extra)
    return env


def run_callgrind(cases: list[str], n: int, warmup: int, workdir: str, quiet: bool = False) -> dict[str, dict]:
    mark = build_mark(workdir)
    out_file = os.path.join(workdir, "cg.out")
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}",
           "--dump-instr=no", "--compress-strings=no", "--compress-pos=no",
           sys.executable, os.path.join(HERE, "driver.py"), "--mode", "callgrind", "--cases", ",".join(cases),
           "--n", str(n), "--warmup", str(warmup)] + (["--quiet"] if quiet else [])
    log_path = os.path.join(workdir, "driver.log")
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, env=_env({"VGMARK": mark}), stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log_path, errors="replace") as fh:
            tail = fh.read()[-4000:]
        raise SystemExit(f"icount: the driver failed under callgrind (exit {proc.returncode}):\n{tail}")
    found: dict[str, dict] = {}
    for name in os.listdir(workdir):
        if not name.startswith("cg.out."):
            continue
        path = os.path.join(workdir, name)
        case, total = parse_dump(path)
        if case in cases:
            found[case] = {"instructions": total / n, "objects": objects_of(path, total)}
    missing = [c for c in cases if c not in found]
    if missing:
        raise SystemExit(f"icount: no callgrind dump for {missing}")
    return found


_DESC = re.compile(r"^desc: Trigger: Client Request: (.+)$", re.M)
_TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.M)


def parse_dump(path: str) -> tuple[str, int]:
    with open(path, errors="replace") as fh:
        text = fh.read()
    desc, total = _DESC.search(text), _TOTAL.search(text)
    if not desc or not total:
        raise SystemExit(f"icount: {path} is not a callgrind client-request dump")
    return desc.group(1).strip(), int(total.group(1))


def object_group(obj: str) -> str:
    base = os.path.basename(obj)
    if "python" in base:
        return "Python interpreter"
    if "sqlite" in base:
        return "SQLite"
    if "libpq" in base or "psycopg" in base:
        return "libpq/psycopg"
    if any(k in base for k in ("libcrypto", "libssl", "tongsuo", "_rust", "_openssl", "_cffi")):
        return "libcrypto/Tongsuo"
    if base.startswith(("libc.", "libc-", "ld-linux", "libm.")):
        return "libc"
    if "hiredis" in base:
        return "hiredis"
    return base or "?"


def objects_of(path: str, total: int) -> dict[str, float]:
    """Exclusive instructions by shared object (callgrind_annotate's own reading of the dump)."""
    proc = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                          capture_output=True, text=True)
    groups: dict[str, int] = {}
    line_re = re.compile(r"^\s*([\d,]+)\s+(?:\([\s\d.]+%\)\s+)?\S.*\[(.+)\]\s*$")
    for line in proc.stdout.splitlines():
        m = line_re.match(line)
        if m:
            key = object_group(m.group(2))
            groups[key] = groups.get(key, 0) + int(m.group(1).replace(",", ""))
    # With several threads (the home screen's pool) callgrind can list a frame still running at the dump
    # under two names, so the rows may add up to more than the total: shares are of the rows' sum then.
    whole = max(total, sum(groups.values()))
    return {k: v / whole for k, v in sorted(groups.items(), key=lambda kv: -kv[1]) if v / whole >= 0.005}


def run_profile(cases: list[str], n: int, warmup: int, workdir: str) -> dict[str, dict[str, float]]:
    out = os.path.join(workdir, "profile.json")
    cmd = [sys.executable, os.path.join(HERE, "driver.py"), "--mode", "profile", "--cases", ",".join(cases),
           "--n", str(n), "--warmup", str(warmup), "--profile-out", out]
    log_path = os.path.join(workdir, "profile.log")
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, env=_env({}), stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log_path, errors="replace") as fh:
            raise SystemExit(f"icount: the attribution run failed:\n{fh.read()[-4000:]}")
    with open(out) as fh:
        return json.load(fh)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def markdown(result: dict) -> str:
    base = result["cases"][BASE]["instructions"]
    lines = [f"Instructions per request ({result['run']['when']}, {result['run']['commit']}, N={result['run']['n']}, "
             f"callgrind, SQLite + embedded Redis; bare Flask = {base / 1000:,.0f}k):", "",
             "| request | instructions | × bare Flask | target | |", "|---|---:|---:|---:|---|"]
    for name, case in result["cases"].items():
        target = case.get("target")
        ok = "" if target is None else ("met" if case["ratio"] <= target else "**over**")
        lines.append(f"| {case['title']} | {case['instructions'] / 1e6:.2f}M | {case['ratio']:.1f}× | "
                     f"{'' if target is None else f'≤ {target:g}×'} | {ok} |")
    if any("libraries" in c for c in result["cases"].values()):
        groups = ["flask/werkzeug", "marshmallow/smorest", "peewee", "sqlite/psycopg", "redis", "crypto",
                  "json", "logging", "metrics", "project"]
        lines += ["", "Attribution by library (share of the request's cost; cProfile self time in a native run, "
                  "builtins to their caller):", "",
                  "| request | " + " | ".join(groups) + " | other |", "|---|" + "---:|" * (len(groups) + 1)]
        for name, case in result["cases"].items():
            libs = case.get("libraries") or {}
            other = 1 - sum(libs.get(g, 0) for g in groups)
            lines.append(f"| {name} | " + " | ".join(f"{libs.get(g, 0) * 100:.0f} %" for g in groups)
                         + f" | {other * 100:.0f} % |")
        lines += ["", "Request log + metrics (callgrind: the whole run again with logging disabled and the "
                  "metrics hook removed, the same requests on the same state; target ≤ 4 %): " + ", ".join(
                      f"{name} {case['observability_share'] * 100:.1f} %" for name, case in result["cases"].items()
                      if "observability_share" in case and case.get("target"))]
        lines += ["", "By object (callgrind, exact):", ""]
        for name, case in result["cases"].items():
            objs = ", ".join(f"{k} {v * 100:.0f} %" for k, v in list(case["objects"].items())[:6])
            lines.append(f"- {name}: {objs}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bench/icount", description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated; bare_flask is always added")
    ap.add_argument("--n", type=int, default=20, help="requests counted per case (after the warm-up)")
    ap.add_argument("--warmup", type=int, default=20, help="calls before counting (driver.py says why 20)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="the JSON result file")
    ap.add_argument("--markdown", help="also write the markdown tables here (default: beside --out, .md)")
    ap.add_argument("--check", metavar="BUDGET", help="fail (exit 1) on a case over its budget + tolerance")
    ap.add_argument("--no-attribution", action="store_true", help="only the counts (what CI needs)")
    args = ap.parse_args(argv)
    if not shutil.which("valgrind"):
        raise SystemExit("icount: valgrind is not installed (apt-get install valgrind)")
    cases = [c for c in args.cases.split(",") if c]
    if BASE not in cases:
        cases.insert(0, BASE)
    budget = load_budget(args.check) if args.check else None
    workdir = tempfile.mkdtemp(prefix="icount-run-")
    counted = run_callgrind(cases, args.n, args.warmup, workdir)
    if not args.no_attribution:  # the same run again with the request log and metrics off
        quiet_dir = os.path.join(workdir, "quiet")
        os.makedirs(quiet_dir)
        for name, case in run_callgrind(cases, args.n, args.warmup, quiet_dir, quiet=True).items():
            counted[f"quiet:{name}"] = case
    shares = {} if args.no_attribution else run_profile(cases, max(args.n, 30), args.warmup, workdir)
    base = counted[BASE]["instructions"]
    result = {"run": {"when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                      "commit": _git("rev-parse", "--short", "HEAD") + ("+dirty" if _git("status", "--porcelain") else ""),
                      "n": args.n, "warmup": args.warmup, "python": platform.python_version(),
                      "valgrind": subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip(),
                      "machine": platform.machine()},
              "cases": {}}
    for name in cases:
        title, target, _ = CASES[name]
        entry = {"title": title, "instructions": round(counted[name]["instructions"]),
                 "ratio": round(counted[name]["instructions"] / base, 2), "target": target,
                 "objects": {k: round(v, 4) for k, v in counted[name]["objects"].items()}}
        quiet = counted.get(f"quiet:{name}")
        if quiet is not None:
            entry["observability_share"] = round(1 - quiet["instructions"] / counted[name]["instructions"], 4)
        if name in shares:
            entry["libraries"] = {k: round(v, 4) for k, v in shares[name].items()}
        result["cases"][name] = entry
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1, ensure_ascii=False)
    md = markdown(result)
    md_path = args.markdown or os.path.splitext(args.out)[0] + ".md"
    with open(md_path, "w") as fh:
        fh.write(md)
    print(md)
    shutil.rmtree(workdir, ignore_errors=True)
    if budget is not None:
        failures = check_budget(budget, result)
        for line in failures:
            print(line, file=sys.stderr)
        return 1 if any(f.startswith("OVER") for f in failures) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
