"""Appointment tests: each starts with empty hall-card and calendar caches (tests/fixtures/halls.py)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_caches(fresh_caches):
    """Cards and the holiday calendar are per process; every test here starts without them."""
