"""Results: a JSON document, a text table for the terminal, a Markdown snippet for the README."""
from __future__ import annotations


def build(meta: dict, results: list[dict]) -> dict:
    base_rps = results[0]["measurement"].rps if results else 0.0
    out = []
    for r in results:
        m = r["measurement"]
        ratio = m.rps / base_rps if base_rps else None
        flags = []
        if m.errors:
            flags.append("errors")
        if m.error_kinds.get("bodies_exhausted"):
            flags.append("ran out of prepared bodies")
        if r["strays"]:
            flags.append("stray processes")
        target = r.get("target_ratio")
        if target is not None and ratio is not None and ratio < target:
            flags.append("below target")
        entry = {
            "name": r["name"], "title": r["title"], "request": f"{r['method']} {r['path']}",
            **m.as_dict(),
            "ratio_to_bare": round(ratio, 3) if ratio is not None else None,
            "target_ratio": target,
            "flags": flags,
            "strays": r["strays"],
            "notes": r["notes"],
        }
        if r.get("prepared"):
            entry["prepared"] = r["prepared"]
        out.append(entry)
    return {**meta, "results": out}


def _target(r: dict) -> str:
    if r["target_ratio"] is None:
        return "—" if r["name"] != "bare" else "baseline"
    ok = r["ratio_to_bare"] is not None and r["ratio_to_bare"] >= r["target_ratio"]
    return f"≥ {r['target_ratio']:g}× {'met' if ok else 'MISSED'}"


def _errors(r: dict) -> str:
    if not r["errors"] and not r["error_kinds"]:
        return "0"
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(r["error_kinds"].items()))
    return f"{r['errors']} ({kinds})"


def _rows(doc: dict) -> list[list[str]]:
    rows = []
    for r in doc["results"]:
        rows.append([r["name"], f"{r['rps']:.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", _errors(r),
                     f"{r['ratio_to_bare']:.2f}×" if r["ratio_to_bare"] is not None else "—", _target(r)])
    return rows


HEADER = ["scenario", "req/s", "p50 ms", "p99 ms", "errors", "vs bare", "target"]


def table(doc: dict) -> str:
    rows = [HEADER] + _rows(doc)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    right = {1, 2, 3, 5}
    lines = []
    for n, row in enumerate(rows):
        cells = [c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    for r in doc["results"]:
        lines.append(f"{r['name']}: {r['title']} — {r['request']}, {r['requests']} requests in {r['elapsed_s']:.1f} s"
                     + (f"; prepared {r['prepared']['count']} one-time bodies" if r.get("prepared") else ""))
        for note in r["notes"]:
            lines.append(f"  note: {note}")
        for stray in r["strays"]:
            lines.append(f"  STRAY: {stray}")
        if r["flags"]:
            lines.append(f"  FLAGGED: {', '.join(r['flags'])}")
    g = doc["gunicorn"]
    lines.append(f"Same settings for every server: gunicorn {g['workers']} {g['worker_class']} workers × {g['threads']} "
                 f"thread(s) (gunicorn.conf.py), 127.0.0.1; {doc['concurrency']} connections for {doc['duration_s']:g} s "
                 f"each, {doc['warmup_per_connection']} warm-up requests per connection first; load generator "
                 f"{doc['loadgen']} on the same {doc['machine']['cpus']} CPUs (it competes with the server).")
    return "\n".join(lines)


def markdown(doc: dict) -> str:
    g = doc["gunicorn"]
    git = doc["git"]
    lines = [
        f"Measured {doc['started_at'][:10]} at {git['commit']}{' (uncommitted changes)' if git['dirty'] else ''}: "
        f"{doc['machine']['cpus']} CPUs shared by server and load generator ({doc['loadgen']}), gunicorn "
        f"{g['workers']} {g['worker_class']} workers, {doc['concurrency']} connections, {doc['duration_s']:g} s, "
        f"{doc['database']}, {doc['redis']}.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "| " + " | ".join(["---", "---:", "---:", "---:", "---", "---:", "---"]) + " |",
    ]
    for row in _rows(doc):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)
