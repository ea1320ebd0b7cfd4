"""Demo departments for `flask demo seed`."""
from __future__ import annotations

from collections.abc import Iterator


def seed() -> Iterator[str]:
    yield from ()
