"""The H5 client's journeys (issue 16), one module per journey, each clicked through in headless
Chromium on the demo data (`demo`, `phone`, `sign_in_demo` …: tests/fixtures/h5.py)."""
from __future__ import annotations

import pytest

from tests.fixtures.h5 import H5_SETTINGS


@pytest.fixture
def app(make_app):
    return make_app(**H5_SETTINGS)
