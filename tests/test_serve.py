"""serve.py, production's API server (granian, WSGI): the API on BIND, /metrics only on METRICS_PORT and
adding up every worker, and a clean stop on SIGTERM (issue 20)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from app.redis import embedded_redis, stop_embedded_server
from bench.server import _pids_in_group, free_port

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_serve_answers_the_api_counts_every_worker_on_the_metrics_port_and_stops_cleanly(base_config, tmp_path):
    redis_server = embedded_redis(str(tmp_path / "redis"))  # production has a Redis server: REDIS_URL, not embedded
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "STREAM_MAX_PER_PROCESS")}
    env.update({**{k: str(v) for k, v in base_config.items()}, "VAR_DIR": str(tmp_path / "var"),
                "REDIS_URL": f"unix://{redis_server.socket_file}", "WEB_CONCURRENCY": "2", "AUTO_MIGRATE": "0",
                "LOG_LEVEL": "WARNING", "NOTIFY_WORKER_IN_PROCESS": "0", "BIND": f"127.0.0.1:{port}",
                "METRICS_PORT": str(metrics_port)})
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "serve.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(0.2)
        sent = 30
        for _ in range(sent):
            assert requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=10).status_code == 200
        assert requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 404  # the public port
        # each worker writes its tally at most once a second, an idle one from its flush thread
        # (app/request_metrics.py): within about two seconds every request is counted
        deadline = time.monotonic() + 5
        while True:
            text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
            counted = sum(sample.value for family in text_string_to_metric_families(text)
                          if family.name == "yiwang_http_requests" for sample in family.samples
                          if sample.name == "yiwang_http_requests_total"
                          and sample.labels.get("endpoint") == "/api/v1/openapi.json")
            if counted == sent or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert counted == sent, text[:2000]
        assert len(_pids_in_group(proc.pid)) == 3  # the main process and two workers
    finally:
        proc.terminate()
        try:
            code = proc.wait(30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
            stop_embedded_server(redis_server)
    assert code == 0 and not _pids_in_group(proc.pid), (tmp_path / "serve.log").read_text()[-3000:]
