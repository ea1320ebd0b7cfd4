"""Issue 21: serve.py's /metrics listener drops the `live*` gauges (the DB pool, Redis: app/business_metrics.py)
of API workers that died — granian respawns a worker without gunicorn's child_exit hook, and a dead
worker's pool must not stay in the pod's sum — and keeps every other file."""
from __future__ import annotations

import os
import subprocess

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

import serve

NAME = "yiwang_db_pool_max_connections"


def _write(path, value: float, name: str = NAME) -> None:
    store = MmapedDict(str(path))
    store.write_value(mmap_key(name, name, [], [], "a gauge"), value, 1.0)
    store.close()


def test_a_dead_workers_live_gauges_leave_the_sum(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    _write(tmp_path / f"gauge_livesum_{dead.pid}.db", 20.0)
    _write(tmp_path / f"gauge_livesum_{os.getpid()}.db", 20.0)
    _write(tmp_path / f"gauge_mostrecent_{dead.pid}.db", 2026.0, "yiwang_calendar_last_year_covered")  # kept
    registry = CollectorRegistry()
    registry.register(serve._LiveWorkers(str(tmp_path)))
    text = generate_latest(registry).decode()
    assert f"{NAME} 20.0" in text, text  # the live worker's alone
    assert "yiwang_calendar_last_year_covered 2026.0" in text
    assert not (tmp_path / f"gauge_livesum_{dead.pid}.db").exists()
    assert (tmp_path / f"gauge_mostrecent_{dead.pid}.db").exists()
    assert (tmp_path / f"gauge_livesum_{os.getpid()}.db").exists()
