"""The instruction budget (bench/icount/budget.toml) and its check (`make icount-check`, in CI).

A case whose instructions per request exceed its `max` by more than `tolerance` fails the check.
A change that makes an endpoint costlier raises its `max` in the same commit and says why in
`reason`; one that makes it cheaper lowers it (the check names a case now well under its budget).
"""
from __future__ import annotations

import tomllib


def load_budget(path: str) -> dict:
    with open(path, "rb") as fh:
        budget = tomllib.load(fh)
    tolerance = float(budget.get("tolerance", 0.10))
    cases = {k: v for k, v in budget.items() if isinstance(v, dict)}
    for name, entry in cases.items():
        if not isinstance(entry.get("max"), int) or not str(entry.get("reason", "")).strip():
            raise SystemExit(f"icount: budget [{name}] needs an integer `max` and a `reason`")
    return {"tolerance": tolerance, "cases": cases}


def check_budget(budget: dict, result: dict) -> list[str]:
    """Lines to print: `OVER …` fails, `UNDER …` only suggests lowering the budget."""
    out = []
    tol = budget["tolerance"]
    for name, entry in budget["cases"].items():
        case = result["cases"].get(name)
        if case is None:
            out.append(f"OVER {name}: not measured (every budgeted case must run)")
            continue
        got, cap = case["instructions"], entry["max"]
        if got > cap * (1 + tol):
            out.append(f"OVER {name}: {got:,} instructions per request > budget {cap:,} + {tol:.0%} "
                       f"({got / cap - 1:+.1%}); make it cheaper, or raise `max` in bench/icount/budget.toml "
                       f"with the reason, in the same commit")
        elif got < cap * (1 - 2 * tol):
            out.append(f"UNDER {name}: {got:,} is {1 - got / cap:.0%} under its budget {cap:,}: lower it")
    if not any(line.startswith("OVER") for line in out):
        out.append(f"icount: {len(budget['cases'])} budgets kept (tolerance {tol:.0%})")
    return out
