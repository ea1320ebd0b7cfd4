"""Notify tests: a citizen with a token and the worker's injectable clock (the worker, channels and
notices are in tests/fixtures/notify.py)."""
from __future__ import annotations

import pytest

from tests.fixtures.notify import Clock
from tests.helpers import bearer


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def citizen(client, login_citizen):
    """A logged-in citizen: {"user_id", "headers"}."""
    answer = login_citizen()
    return {"user_id": answer["user"]["id"], "headers": bearer(answer["access_token"]), "tokens": answer}
