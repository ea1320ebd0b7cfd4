"""The Prometheus rules, their promtool tests, the SLO table and the Grafana dashboard (issue 21).

The rules are written against metric names the app must export: a renamed metric or route would
leave an SLO silently measuring nothing (an absent series never alerts). So every name the rules
and the dashboard read is checked against the metric-name contract (app/business_metrics.CONTRACT)
and the app's registered metrics, every journey route against the app's URL map, and every latency
threshold against the histogram's buckets. promtool itself runs through scripts/rules-check.sh.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.utils import floatToGoString

ROOT = Path(__file__).resolve().parent.parent
PROM = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROM / "rules").glob("*.yml"))
TEST_FILES = sorted((PROM / "tests").glob("*.test.yml"))
DASHBOARD = ROOT / "deploy" / "grafana" / "yiwang-journeys.json"
PROMTOOL = os.environ.get("PROMTOOL") or shutil.which("promtool") or "/usr/bin/promtool"

try:
    from app.business_metrics import CONTRACT, LABELS
except ImportError:  # the contract of CONTEXT.md, should the module be renamed
    CONTRACT = (
        "yiwang_logins_total", "yiwang_verifications_total", "yiwang_signatures_total",
        "yiwang_sm2_operations_total", "yiwang_case_events_total", "yiwang_push_attempts_total",
        "yiwang_push_quota_waits_total", "yiwang_outbox_pending_messages",
        "yiwang_outbox_oldest_pending_age_seconds", "yiwang_sse_connections", "yiwang_db_pool_connections",
        "yiwang_db_pool_max_connections", "yiwang_redis_ping_seconds", "yiwang_redis_up",
        "yiwang_certificate_expiry_timestamp_seconds", "yiwang_crl_next_update_timestamp_seconds",
        "yiwang_calendar_last_year_covered",
    )
    LABELS = {}

PROMETHEUS_OWN = {"up"}  # the scrape's own series


def _slos():
    spec = importlib.util.spec_from_file_location("yiwang_slos", PROM / "slos.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


slos = _slos()


def _rules() -> list[dict]:
    return [rule for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"]]


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def _panel_exprs(dashboard: dict) -> list[tuple[str, list[str]]]:
    return [(p["title"], [t["expr"] for t in p["targets"]]) for p in dashboard["panels"] if p.get("targets")]


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
_NAME = re.compile(r"(?<![\w:.$])([a-zA-Z_][\w]*(?::[\w]+)+|yiwang_\w+|up)(?=\s*[{\[)\s]|$)")


def names_in(expr: str) -> set[str]:
    """The metric and recording-rule names an expression reads (string literals removed first, so
    an endpoint like "/api/v1/dept/case-events:batch" is not taken for a recording rule)."""
    return set(_NAME.findall(_STRING.sub('""', expr)))


def _app_metrics() -> dict[str, tuple[str, ...]]:
    """name as exposed → label names, for every metric registered in this process."""
    known: dict[str, tuple[str, ...]] = {}
    for collector in list(REGISTRY._collector_to_names):
        labels = tuple(getattr(collector, "_labelnames", ()))
        for name in REGISTRY._collector_to_names[collector]:
            known[name] = labels + (("le",) if name.endswith("_bucket") else ())
    return known


@pytest.fixture
def known_metrics(app) -> dict[str, tuple[str, ...] | None]:
    """Metric name → its labels (None: not known here), from the contract and the app's registry."""
    known: dict[str, tuple[str, ...] | None] = {name: LABELS.get(name) for name in CONTRACT}
    known.update(_app_metrics())
    return known


def test_generated_rules_and_dashboard_match_the_slo_table():
    stale = [str(path.relative_to(ROOT)) for path, text in slos.rendered().items()
             if path.read_text(encoding="utf-8") != text]
    assert not stale, f"run `python deploy/prometheus/slos.py`: {stale}"


def test_slo_md_carries_the_table():
    assert slos.slo_table() in (PROM / "SLO.md").read_text(encoding="utf-8")


def _need_promtool() -> None:
    if not (Path(PROMTOOL).is_file() and os.access(PROMTOOL, os.X_OK)):
        if os.environ.get("REQUIRE_PROMTOOL") == "1":
            pytest.fail(f"promtool not found at {PROMTOOL} and REQUIRE_PROMTOOL=1")
        pytest.skip(f"promtool not found at {PROMTOOL} (Debian package prometheus)")


@pytest.mark.slow
def test_promtool_checks_and_unit_tests_pass():
    _need_promtool()
    done = subprocess.run([str(ROOT / "scripts" / "rules-check.sh")], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PROMTOOL": PROMTOOL})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for path in RULE_FILES:
        assert f"Checking deploy/prometheus/rules/{path.name}" in out
    assert out.count("SUCCESS") == len(RULE_FILES) + len(TEST_FILES), out
    assert "FAILED" not in out


def test_every_name_in_the_rules_is_exported_or_recorded(known_metrics):
    recorded = {r["record"] for r in _rules() if "record" in r}
    unknown = {}
    for rule in _rules():
        for name in names_in(rule["expr"]) - recorded - PROMETHEUS_OWN:
            if name not in known_metrics:
                unknown.setdefault(name, rule.get("record") or rule.get("alert"))
    assert not unknown, f"names neither in the metric contract, the app nor a recording rule: {unknown}"


def test_labels_in_the_rules_are_the_metrics_labels(known_metrics):
    """`yiwang_x{label=...}`: each label a metric is selected on is one it has (a typo selects nothing)."""
    selector = re.compile(r"(yiwang_\w+)\{([^}]*)\}")
    wrong = []
    for rule in _rules():
        for name, inside in selector.findall(rule["expr"]):
            labels = known_metrics.get(name)
            if labels is None:
                continue
            used = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", _STRING.sub('""', inside)))
            wrong += [f"{name}{{{label}}}" for label in used - set(labels)]
    assert not wrong


def test_journey_routes_are_url_rules_of_the_app(app):
    rules = {}
    for rule in app.url_map.iter_rules():
        rules.setdefault(rule.rule, set()).update(rule.methods)
    missing = [(method, path) for slo in slos.SLOS for method, path in slo.routes + slo.timed_routes
               if method not in rules.get(path, ())]
    assert not missing
    # and every endpoint the rendered rules match on, read back from the files
    named = set()
    for rule in _rules():
        for value in re.findall(r'endpoint=~?"([^"]*)"', rule["expr"]):
            named.update(part.replace("\\\\.", ".") for part in value.split("|"))
    assert named and not named - set(rules)


def test_latency_thresholds_are_buckets_of_the_histogram():
    from app.health import LATENCY

    buckets = {floatToGoString(bound) for bound in LATENCY._upper_bounds}
    assert {slo.threshold for slo in slos.SLOS} <= buckets


def test_every_alert_is_labelled_annotated_and_has_a_runbook():
    anchors = {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
               for line in (PROM / "SLO.md").read_text(encoding="utf-8").splitlines() if line.startswith("#")}
    alerts = [r for r in _rules() if "alert" in r]
    assert len(alerts) >= 15
    for alert in alerts:
        assert alert["labels"]["severity"] in {"critical", "warning"}, alert["alert"]
        notes = alert["annotations"]
        assert notes["summary"] and notes["description"] and notes["summary_zh"], alert["alert"]
        assert notes["runbook_url"].split("#", 1)[1] in anchors, alert["alert"]


def test_every_alert_is_unit_tested_firing_and_quiet():
    firing, quiet = set(), set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", ()):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {r["alert"] for r in _rules() if "alert" in r}
    assert names - firing == set(), "never seen firing"
    assert names - quiet == set(), "never seen quiet"


def test_dashboard_shows_every_journey_from_known_series(known_metrics):
    board = _dashboard()
    assert board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert rows == [slo.title for slo in slos.JOURNEYS] + ["Saturation and business"]
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
    recorded = {r["record"] for r in _rules() if "record" in r}
    for title, exprs in _panel_exprs(board):
        used = set().union(*(names_in(e) for e in exprs))
        assert used, f"{title}: reads no series"
        assert used <= recorded | set(known_metrics), f"{title}: {used - recorded - set(known_metrics)}"
    for panel in board["panels"]:
        if panel.get("targets"):
            assert panel["datasource"]["uid"] == "${datasource}"


def test_names_in_reads_names_not_strings_or_functions():
    expr = ('sum(rate(yiwang_http_requests_total{endpoint=~"/api/v1/dept/case-events:batch"}[5m])) '
            '/ on (journey) journey:yiwang_slo_objective:ratio and histogram_quantile(0.5, x:y:z)')
    assert names_in(expr) == {"yiwang_http_requests_total", "journey:yiwang_slo_objective:ratio", "x:y:z"}


INTERNAL = "http://localhost:9100"  # the metrics listener (METRICS_PORT), as tests/kernel/test_health_and_metrics.py


def test_the_app_writes_the_labels_the_journey_selectors_match(app, client):
    """A request to each journey route, then the real exposition: a sample per route with the method
    and URL rule the rules select on, and a latency bucket at the journey's threshold. A change to
    how requests are labelled (the path instead of the rule, '1' for '1.0') fails here, not at 3 a.m."""
    from prometheus_client.parser import text_string_to_metric_families

    adapter = app.url_map.bind("localhost")
    by_route = {(rule.rule, method): rule for rule in app.url_map.iter_rules() for method in rule.methods}
    for slo in slos.SLOS:
        for method, path in slo.routes:
            rule = by_route[(path, method)]
            url = adapter.build(rule.endpoint, {arg: "x1" for arg in rule.arguments}, method=method)
            client.open(url, method=method, json={})
    text = client.get("/metrics", base_url=INTERNAL).get_data(as_text=True)
    seen: dict[str, set] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            seen.setdefault(sample.name, set()).add(
                (labels.get("method"), labels.get("endpoint"), labels.get("le")))
    for slo in slos.SLOS:
        for method, path in slo.routes:
            assert any(m == method and e == path for m, e, _ in seen["yiwang_http_requests_total"]), (method, path)
        for method, path in slo.timed_routes:
            assert (method, path, slo.threshold) in seen["yiwang_http_request_duration_seconds_bucket"], (method, path)


def test_the_exposition_passes_promtool_check_metrics(client):
    """Prometheus' own lint of what /metrics writes (counter names, help texts, units)."""
    _need_promtool()
    client.post("/api/v1/counter/verifications", json={})
    text = client.get("/metrics", base_url=INTERNAL).get_data(as_text=True)
    assert "yiwang_http_requests_total" in text
    done = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
