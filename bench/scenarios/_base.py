"""What a scenario file declares. One file per capability under bench/scenarios/.

A scenario module defines `SCENARIO = Scenario(...)`. When its requests each need
their own body (a one-time SMS code, a fresh idempotency key...), it sets
`one_shot_bodies=True` and gives `prepare(count)`: it runs in a separate process,
inside an app context (`app.test_request_context()`) of an app built with the
same settings as the server under test, and returns `count` request bodies.
Otherwise it gives `body` (sent with every request, or None).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    method: str
    path: str
    expect_status: int = 200  # any other answer counts as an error
    target_ratio: float | None = None  # the target: at least this × the bare endpoint's req/s
    # One-shot bodies are prepared for this × the bare endpoint's rate over the run (plus a margin);
    # a run that uses them all up is flagged, so raise it when a scenario gets that fast.
    ceiling_ratio: float = 1.0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    one_shot_bodies: bool = False
    prepare: Callable[[int], list[str]] | None = None
    # Each prepared line is a whole request of its own: PATH, then `Name: value` headers, then the
    # body, tab-separated (scenarios/_wallet.py `line`): `path` is then only a label and `headers`
    # are sent with every request, the line's own added (e.g. each holder's Authorization).
    per_request: bool = False
    # Extra environment for the app server (and the preparing process); the app
    # reads every setting from the environment variable of the same name.
    server_env: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
