"""Proxy tests: an app that lets a test make several grants (the proxy fixtures are in
tests/fixtures/proxies.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def app(make_app):
    """No SMS resend cooldown and room under the per-phone limits: a test may make several grants,
    each with its own step-up code."""
    return make_app(SMS_RESEND_COOLDOWN=0, SMS_PER_PHONE_HOUR=50, SMS_PER_PHONE_DAY=50)
