"""Object-access fixtures: two verified citizens and the refusal check every module uses; the
feature fixtures the modules share come from the plugins in tests/fixtures/ (test_account.py
defines notify's `clock`, which differs from the appointments' one)."""
from __future__ import annotations

import pytest

from tests import vectors
from tests.helpers import PROBLEM, bearer


def refused(response, *secrets: str) -> dict:
    """403 or 404 as problem+json, with none of the owner's `secrets` anywhere in the answer."""
    assert response.status_code in (403, 404), response.get_data(as_text=True)[:300]
    assert response.mimetype == PROBLEM
    text = response.get_data(as_text=True)
    leaked = [s for s in secrets if s and s in text]
    assert not leaked, f"the refusal shows {leaked}"
    return response.get_json()


@pytest.fixture
def two_citizens(verified_citizen):
    """张三 (A, the owner, PHONES[0]) and 李四 (B, PHONES[1]), both at L2: bearer headers."""
    a = bearer(verified_citizen(vectors.ZHANG_SAN, vectors.PHONES[0])["access_token"])
    b = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    return a, b


@pytest.fixture(autouse=True)
def _fresh_caches(fresh_caches):
    """Cards and the holiday calendar are per process; every test here starts without them."""
