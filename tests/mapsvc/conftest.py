"""Service map fixtures: halls written through the importer, a clean per-process cache per test."""
from __future__ import annotations

import json

import pytest

from app.db import db
from mapsvc import calendar, directory

NEARBY = "/api/v1/map/halls/nearby"
WEEKDAY_HOURS = {"mon-fri": ["09:00-12:00", "13:30-17:00"]}


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Cards and the holiday calendar are per process; every test starts without them."""
    directory.forget()
    calendar.forget()
    yield
    directory.forget()
    calendar.forget()


def hall(code: str = "H-001", **changes) -> dict:
    """One import record (CSV-style strings), a weekday hall in central Hefei unless changed."""
    record = {
        "code": code, "name": f"测试网点{code}", "type": "gov_center", "region_code": "340104",
        "address": "合肥市蜀山区怀宁路1号", "lat": "31.8205", "lng": "117.2299", "phone": "0551-62000000",
        "hours": json.dumps(WEEKDAY_HOURS), "holiday_rule": "closed", "closures": "",
        "items": "GA001:居民身份证换领;RS001:社保卡申领", "accessibility": "barrier_free;assisted",
    }
    record.update({k: v for k, v in changes.items()})
    return record


@pytest.fixture
def load_halls(app):
    """Import records (dicts) through the importer; returns its report."""
    from mapsvc import importer

    def load(records: list[dict], system: str = "gcj02"):
        with app.app_context(), db.connection_context():
            return importer.import_records(((i + 2, r) for i, r in enumerate(records)), system)

    return load
