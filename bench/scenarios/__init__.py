"""Scenario registry: every module here not starting with `_` defines `SCENARIO`."""
from __future__ import annotations

import importlib
import pkgutil

from scenarios._base import Scenario


def all_scenarios() -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"scenarios.{info.name}")
        scenario = getattr(module, "SCENARIO", None)
        if isinstance(scenario, Scenario):
            found[scenario.name] = scenario
    return found
