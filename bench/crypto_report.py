"""bench/crypto.py, part 2: the table, the goal lines and the Markdown snippet."""
from __future__ import annotations

from crypto_const import FAST_BACKEND, GOAL_RATIO


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
