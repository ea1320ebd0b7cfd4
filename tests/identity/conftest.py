"""Identity tests: a logged-in citizen whose genuine token works (the control for every attack)."""
from __future__ import annotations

import pytest

from tests.helpers import bearer
from tests.identity.jwt_helpers import ME


@pytest.fixture
def citizen(client, login_citizen):
    """A logged-in citizen whose genuine token works (the control for every attack below)."""
    tokens = login_citizen()
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200
    return tokens
