"""bench/icount's budget check (issue 20): what CI fails on, and the budget file it reads."""
from __future__ import annotations

import os
import sys

import pytest

ICOUNT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", "icount")
sys.path.insert(0, ICOUNT)

from budget import check_budget, load_budget  # noqa: E402

BUDGET_FILE = os.path.join(ICOUNT, "budget.toml")


def _result(**counts):
    return {"cases": {name: {"instructions": n} for name, n in counts.items()}}


def _budget(tolerance=0.10, **caps):
    return {"tolerance": tolerance, "cases": {name: {"max": cap, "reason": "r"} for name, cap in caps.items()}}


def test_a_case_more_than_the_tolerance_over_its_budget_fails():
    lines = check_budget(_budget(me=1_000_000), _result(me=1_100_001))
    assert len(lines) == 1 and lines[0].startswith("OVER me")


def test_within_the_tolerance_is_kept():
    lines = check_budget(_budget(me=1_000_000, login=2_000_000), _result(me=1_100_000, login=1_900_000))
    assert not any(line.startswith(("OVER", "UNDER")) for line in lines)
    assert "2 budgets kept" in lines[-1]


def test_a_case_well_under_its_budget_is_named_but_does_not_fail():
    lines = check_budget(_budget(me=1_000_000), _result(me=700_000))
    assert lines[0].startswith("UNDER me") and not any(line.startswith("OVER") for line in lines)


def test_a_budgeted_case_that_was_not_measured_fails():
    lines = check_budget(_budget(me=1_000_000, home=9_000_000), _result(me=1_000_000))
    assert [line for line in lines if line.startswith("OVER")] == [
        "OVER home: not measured (every budgeted case must run)"]


def test_a_budget_without_a_reason_is_refused(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text("tolerance = 0.1\n[me]\nmax = 100\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="reason"):
        load_budget(str(path))


def test_the_checked_in_budget_names_only_known_cases_each_with_a_reason():
    from icount_cases import CASES

    budget = load_budget(BUDGET_FILE)
    assert budget["tolerance"] == pytest.approx(0.10)
    assert set(budget["cases"]) <= set(CASES)
    assert {"me", "login", "presentation", "counter_verification", "third_party_verification", "nearby", "home",
            "case_event"} <= set(budget["cases"])
