"""Case tests: their citizen is Zhang San at L2 (the department fixtures are in tests/fixtures/cases.py)."""
from __future__ import annotations

import pytest

from tests import vectors
from tests.helpers import bearer


@pytest.fixture
def citizen(verified_citizen):
    """Zhang San at L2: bearer headers."""
    return bearer(verified_citizen(vectors.ZHANG_SAN)["access_token"])
