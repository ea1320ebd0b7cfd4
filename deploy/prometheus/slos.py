"""The journeys' SLOs, and the Prometheus rules and Grafana dashboard made from them (issue 21).

One table (SLOS) says which routes make up a journey and what it promises; the recording rules, the
multi-window multi-burn-rate alerts (Google SRE workbook, ch. 5) and the dashboard's journey rows are
rendered from it, so the three cannot drift apart. The generated files are committed (Prometheus and
Grafana read them as they are); `python deploy/prometheus/slos.py` rewrites them and `--check` fails
when they differ from this table (scripts/rules-check.sh, tests/test_prometheus_rules.py).
Hand-written alerts (saturation, expiry, calendar, absence) live in rules/alerts.yml.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
RECORDING = HERE / "rules" / "slo-recording.yml"
BURN_ALERTS = HERE / "rules" / "slo-alerts.yml"
DASHBOARD = HERE.parent / "grafana" / "yiwang-journeys.json"

# Error-ratio windows: the burn-rate pairs (5m/1h, 30m/6h, 2h/1d, 6h/3d) and the 30-day SLO period.
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
PERIOD = "30d"
# (alert, severity, [(burn rate, long window, short window)], for, what to do): the workbook's pairs.
# 14.4x over 1h spends 2 % of a 30-day budget, 6x over 6h 5 %: page; 3x over 1d and 1x over 3d 10 %:
# ticket.
BURNS = (
    ("YiWangErrorBudgetBurnFast", "critical", ((14.4, "1h", "5m"), (6, "6h", "30m")), "2m",
     "Act now: at 14.4x the whole budget is gone in about 2 days."),
    ("YiWangErrorBudgetBurnSlow", "warning", ((3, "1d", "2h"), (1, "3d", "6h")), "15m",
     "Plan a fix: at 3x the budget is gone in 10 days."),
)
RUNBOOK = "https://git.example.gov.cn/yiwang/yiwang/blob/main/deploy/prometheus/SLO.md#"  # the README's anchors (SLO.md)
OUTBOX_LATE_SECONDS = 120  # push freshness: the oldest due outbox row is younger than this

REQUESTS = "yiwang_http_requests_total"
LATENCY = "yiwang_http_request_duration_seconds"


@dataclass(frozen=True)
class Slo:
    """A journey's promise. `routes`: (method, Flask URL rule) pairs, the label values of the request
    metrics; `latency_routes`: those the latency SLI counts (default: all); `threshold`: a bucket
    boundary of the latency histogram as prometheus_client writes it (`le`)."""

    journey: str
    title: str
    routes: tuple[tuple[str, str], ...]
    availability: float
    latency: float | None = None
    threshold: str | None = None
    latency_routes: tuple[tuple[str, str], ...] | None = None

    @property
    def timed_routes(self) -> tuple[tuple[str, str], ...]:
        return self.latency_routes if self.latency_routes is not None else self.routes


SLOS = (
    Slo("login", "Login", (
        ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/sms-codes"), ("POST", "/api/v1/auth/wechat"),
        ("POST", "/api/v1/auth/ncid/sessions"), ("POST", "/api/v1/auth/ncid/login"),
        ("POST", "/api/v1/auth/refresh")), 0.999, 0.99, "0.5"),
    Slo("show_licence", "Show licence (亮证)", (
        ("POST", "/api/v1/wallet/licences/<licence_id>/presentations"),
        ("POST", "/api/v1/wallet/licences/<licence_id>/offline-presentations"),
        ("GET", "/api/v1/wallet/presentations/<presentation_id>/qr.png"),
        ("GET", "/api/v1/wallet/presentations/<presentation_id>/qr.svg")), 0.999, 0.99, "0.25"),
    Slo("counter_verification", "Counter verification (核验)", (
        ("POST", "/api/v1/counter/verifications"),), 0.999, 0.99, "0.25"),
    Slo("signing", "Signing (云签)", (
        ("POST", "/api/v1/signing/requests/<request_id>/authorize"),
        ("POST", "/api/v1/signing/batches/<batch_id>/authorize"),
        ("POST", "/api/v1/verify/signatures")), 0.999, 0.99, "1.0"),
    Slo("nearby", "Nearby halls (就近办)", (
        ("GET", "/api/v1/map/halls/nearby"),), 0.995, 0.99, "0.25"),
    # A department's batch of events is as available as one event, but not as fast: timed apart.
    Slo("case_timeline", "Case timeline (办件进度)", (
        ("GET", "/api/v1/cases"), ("GET", "/api/v1/cases/<case_id>"), ("POST", "/api/v1/dept/case-events"),
        ("POST", "/api/v1/dept/case-events:batch")), 0.999, 0.99, "0.5",
        latency_routes=(("GET", "/api/v1/cases"), ("GET", "/api/v1/cases/<case_id>"),
                        ("POST", "/api/v1/dept/case-events"))),
)
# Push delivery is not a request: delivered = sent; failed = dead or rejected (retry, held, quota_wait
# are on their way; token_dead is the phone's doing; fallback_sms was delivered by SMS). Freshness:
# the share of minutes in which the oldest due outbox row is younger than OUTBOX_LATE_SECONDS.
PUSH = Slo("push", "Push delivery (推送)", (), 0.99, 0.99, str(OUTBOX_LATE_SECONDS))
JOURNEYS = SLOS + (PUSH,)


def _regex(values) -> str:
    """An RE2 alternation of literal URL rules (only '.' is special among their characters)."""
    return "|".join(v.replace(".", "\\\\.") for v in values)


def _by_method(routes) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for method, rule in routes:
        out.setdefault(method, []).append(rule)
    return out


def _rates(metric: str, routes, window: str, extra: str = "") -> str:
    """rate() of `metric` over every (method, rule), one selector per method joined by `or`: the
    series differ in their labels, so `or` is their union."""
    parts = [f'rate({metric}{{method="{m}",endpoint=~"{_regex(rules)}"{extra}}}[{window}])'
             for m, rules in _by_method(routes).items()]
    return " or ".join(parts)


def sli_events(slo: Slo, window: str) -> str:
    """Events per second the SLI judges: the journey's requests, or the push deliveries that ended."""
    if slo is PUSH:
        return f'sum(rate(yiwang_push_attempts_total{{result=~"sent|dead|rejected"}}[{window}]))'
    return f"sum({_rates(REQUESTS, slo.routes, window)})"


def availability_error(slo: Slo, window: str) -> str:
    """The share of bad events over `window`: 5xx answers, or dead-lettered pushes."""
    if slo is PUSH:
        bad = f'sum(rate(yiwang_push_attempts_total{{result=~"dead|rejected"}}[{window}]))'
    else:
        bad = "sum(" + _rates(REQUESTS, slo.routes, window, extra=',status=~"5.."') + ")"
    # `or vector(0)`: no 5xx at all is a ratio of 0, not an absent series
    return f"(\n  {bad}\n  or vector(0)\n)\n/\n{sli_events(slo, window)}\n"


def latency_error(slo: Slo, window: str) -> str:
    """The share over `window` of answers slower than the threshold (count minus the threshold's
    cumulative bucket), or for push the share of minutes the outbox was late."""
    if slo is PUSH:
        return f"avg_over_time(yiwang:outbox_oldest_pending_late:bool[{window}])\n"
    total = f"sum({_rates(LATENCY + '_count', slo.timed_routes, window)})"
    fast = "sum(" + _rates(LATENCY + "_bucket", slo.timed_routes, window, extra=f',le="{slo.threshold}"') + ")"
    return f"(\n  {total}\n  -\n  {fast}\n)\n/\n{total}\n"


def _sli_names(slo: Slo) -> tuple[str, ...]:
    if slo is PUSH:
        return ("delivery", "freshness")
    return ("availability", "latency")


def objectives(slo: Slo) -> dict[str, float]:
    return dict(zip(_sli_names(slo), (slo.availability, slo.latency)))


def recording_rules() -> dict:
    """Objectives, the error ratios per window, and the inputs of the dashboard, in three groups."""
    meta, sli, period = [], [], []
    meta.append({"record": "yiwang:outbox_oldest_pending_late:bool",
                 "expr": f"max(yiwang_outbox_oldest_pending_age_seconds) > bool {OUTBOX_LATE_SECONDS}\n"})
    for slo in JOURNEYS:
        names = _sli_names(slo)
        for name, objective in objectives(slo).items():
            meta.append({"record": "journey:yiwang_slo_objective:ratio", "expr": f"vector({objective})",
                         "labels": {"journey": slo.journey, "sli": name}})
        sli.append({"record": "journey:yiwang_sli_events:rate5m", "expr": sli_events(slo, "5m") + "\n",
                    "labels": {"journey": slo.journey}})
        if slo is not PUSH:
            sli.append({"record": "journey:yiwang_http_request_duration_seconds_bucket:rate5m",
                        "expr": f"sum by (le) ({_rates(LATENCY + '_bucket', slo.timed_routes, '5m')})\n",
                        "labels": {"journey": slo.journey}})
        for window in WINDOWS + (PERIOD,):
            group = period if window == PERIOD else sli
            for name, render in zip(names, (availability_error, latency_error)):
                group.append({"record": f"journey:yiwang_sli_error:ratio_rate{window}", "expr": render(slo, window),
                              "labels": {"journey": slo.journey, "sli": name}})
    period.append({"record": "journey:yiwang_error_budget_remaining:ratio",
                   "expr": f"1 - journey:yiwang_sli_error:ratio_rate{PERIOD}\n"
                           "  / on (journey, sli)\n(1 - journey:yiwang_slo_objective:ratio)\n"})
    return {"groups": [
        {"name": "yiwang-slo-objectives", "rules": meta},
        {"name": "yiwang-slo-sli", "rules": sli},
        # the 30-day period feeds only the budget shown on the dashboard: every 5 minutes is enough
        {"name": "yiwang-slo-period", "interval": "5m", "rules": period},
    ]}


def _burn(rate: float, long: str, short: str) -> str:
    limit = f"on (journey, sli) group_left ()\n    ({rate} * (1 - journey:yiwang_slo_objective:ratio))"
    return (f"(\n  journey:yiwang_sli_error:ratio_rate{long} > {limit}\n"
            f"  and on (journey, sli)\n"
            f"  journey:yiwang_sli_error:ratio_rate{short} > {limit}\n)")


def alerting_rules() -> dict:
    """One alert per row of BURNS for every journey and SLI at once: labels `journey` and `sli`."""
    rules = []
    for name, severity, pairs, hold, advice in BURNS:
        speed, speed_zh = ("fast", "过快") if severity == "critical" else ("slowly", "过多")
        windows = " or ".join(f"{rate}x ({long} and {short})" for rate, long, short in pairs)
        rules.append({
            "alert": name,
            "expr": "\nor\n".join(_burn(*pair) for pair in pairs) + "\n",
            "for": hold,
            "labels": {"severity": severity},
            "annotations": {
                "summary": f"{{{{ $labels.journey }}}} {{{{ $labels.sli }}}} SLO: error budget burning {speed}",
                "summary_zh": f"{{{{ $labels.journey }}}} 的 {{{{ $labels.sli }}}} SLO 错误预算消耗{speed_zh}",
                "description": (
                    f"The {{{{ $labels.sli }}}} error ratio of the {{{{ $labels.journey }}}} journey is "
                    f"{{{{ $value | humanizePercentage }}}} over {pairs[0][1]} (or {pairs[1][1]}): at least "
                    f"{windows} the rate its 30-day objective allows. {advice}"),
                "runbook_url": RUNBOOK + "runbook-error-budget-burn",
            },
        })
    return {"groups": [{"name": "yiwang-slo-burn-rate", "rules": rules}]}


# --- The dashboard -----------------------------------------------------------------------------

DS = {"type": "prometheus", "uid": "${datasource}"}


def _panel(title: str, exprs: list[tuple[str, str]], x: int, y: int, *, w: int = 6, unit: str = "short",
           kind: str = "timeseries", thresholds: list | None = None, minimum: float | None = None) -> dict:
    defaults: dict = {"unit": unit}
    if thresholds:
        defaults["thresholds"] = {"mode": "absolute", "steps": thresholds}
    if minimum is not None:
        defaults["min"] = minimum
    return {
        "type": kind, "title": title, "datasource": DS, "gridPos": {"x": x, "y": y, "w": w, "h": 7},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "targets": [{"refId": chr(65 + i), "datasource": DS, "expr": e, "legendFormat": legend}
                    for i, (e, legend) in enumerate(exprs)],
    }


def _journey_row(slo: Slo, y: int) -> list[dict]:
    j = f'journey="{slo.journey}"'
    first, second = _sli_names(slo)
    red = [{"color": "red", "value": None}]
    panels = [{"type": "row", "title": slo.title, "collapsed": False, "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
               "panels": []}]
    y += 1
    rate_title = "Deliveries / s (sent, dead, rejected)" if slo is PUSH else "Requests / s"
    panels.append(_panel(rate_title, [(f"journey:yiwang_sli_events:rate5m{{{j}}}", slo.journey)], 0, y, unit="reqps"))
    panels.append(_panel(f"{first.capitalize()} (5m, 1h) vs objective", [
        (f'1 - journey:yiwang_sli_error:ratio_rate5m{{{j},sli="{first}"}}', "5m"),
        (f'1 - journey:yiwang_sli_error:ratio_rate1h{{{j},sli="{first}"}}', "1h"),
        (f'journey:yiwang_slo_objective:ratio{{{j},sli="{first}"}}', "objective")], 6, y, unit="percentunit"))
    if slo is PUSH:
        panels.append(_panel("Oldest due outbox row age", [
            ("max(yiwang_outbox_oldest_pending_age_seconds)", "oldest"),
            (f"vector({OUTBOX_LATE_SECONDS})", "freshness threshold")], 12, y, unit="s"))
    else:
        bucket = f"journey:yiwang_http_request_duration_seconds_bucket:rate5m{{{j}}}"
        panels.append(_panel(f"Latency p50 / p99 (SLO: {slo.latency:.0%} ≤ {slo.threshold} s)", [
            (f"histogram_quantile(0.5, {bucket})", "p50"),
            (f"histogram_quantile(0.99, {bucket})", "p99"),
            (f"vector({slo.threshold})", "threshold")], 12, y, unit="s"))
    panels.append(_panel("Error budget remaining (30 d)", [
        (f'journey:yiwang_error_budget_remaining:ratio{{{j},sli="{first}"}}', first),
        (f'journey:yiwang_error_budget_remaining:ratio{{{j},sli="{second}"}}', second)], 18, y,
        unit="percentunit", kind="stat", thresholds=red + [{"color": "orange", "value": 0.25},
                                                            {"color": "green", "value": 0.5}]))
    return panels


SATURATION = (
    ("Outbox: oldest due row age", [("max(yiwang_outbox_oldest_pending_age_seconds)", "age")], "s"),
    ("Outbox: pending rows", [("sum(yiwang_outbox_pending_messages)", "pending")], "short"),
    ("Open SSE streams", [("sum by (instance) (yiwang_sse_connections)", "{{instance}}")], "short"),
    ("Database pool", [("sum by (instance, state) (yiwang_db_pool_connections)", "{{instance}} {{state}}"),
                       ("sum by (instance) (yiwang_db_pool_max_connections)", "{{instance}} max")], "short"),
    ("Redis PING", [("max by (instance) (yiwang_redis_ping_seconds)", "{{instance}}"),
                    ("min(yiwang_redis_up)", "up (min)")], "s"),
    ("SM2 operations / s", [("sum by (op) (rate(yiwang_sm2_operations_total[$__rate_interval]))", "{{op}}")], "ops"),
    ("Pushes by channel and result / s", [(
        "sum by (channel, result) (rate(yiwang_push_attempts_total[$__rate_interval]))", "{{channel}} {{result}}")],
     "ops"),
    ("Vendor quota waits / s", [(
        "sum by (channel) (rate(yiwang_push_quota_waits_total[$__rate_interval]))", "{{channel}}")], "ops"),
    ("Logins by method and result / s", [(
        "sum by (method, result) (rate(yiwang_logins_total[$__rate_interval]))", "{{method}} {{result}}")], "ops"),
    ("Verifications by kind and result / s", [(
        "sum by (kind, result) (rate(yiwang_verifications_total[$__rate_interval]))", "{{kind}} {{result}}")], "ops"),
    ("Signatures by kind and result / s", [(
        "sum by (kind, result) (rate(yiwang_signatures_total[$__rate_interval]))", "{{kind}} {{result}}")], "ops"),
    ("Case events by result / s", [(
        "sum by (result) (rate(yiwang_case_events_total[$__rate_interval]))", "{{result}}")], "ops"),
)


def dashboard() -> dict:
    panels: list[dict] = []
    y = 0
    for slo in JOURNEYS:
        panels += _journey_row(slo, y)
        y += 8
    panels.append({"type": "row", "title": "Saturation and business", "collapsed": False,
                   "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})
    y += 1
    for i, (title, exprs, unit) in enumerate(SATURATION):
        panels.append(_panel(title, exprs, (i % 4) * 6, y + (i // 4) * 7, unit=unit))
    for i, panel in enumerate(panels, start=1):
        panel["id"] = i
    return {
        "title": "YiWang journeys", "uid": "yiwang-journeys", "schemaVersion": 39, "version": 1,
        "editable": True, "tags": ["yiwang", "slo"], "timezone": "browser", "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "description": "Per journey: traffic, availability against its objective, latency, the 30-day error "
                       "budget left (deploy/prometheus/SLO.md); then saturation and business counters.",
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus", "current": {}, "hide": 0}]},
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                  "enable": True, "hide": True, "name": "Annotations & Alerts", "type": "dashboard"}]},
        "panels": panels,
    }


# --- The table in SLO.md (and the README) ---------------------------------------------------------

PERIOD_MINUTES = 30 * 24 * 60


def _budget(objective: float) -> str:
    minutes = round((1 - objective) * PERIOD_MINUTES)
    hours, rest = divmod(minutes, 60)
    spell = f"{hours} h {rest:02d} min" if hours else f"{rest} min"
    return f"budget {spell} (1 in {round(1 / (1 - objective)):,})"


def _percent(objective: float) -> str:
    return f"{objective * 100:g} %"


def slo_table() -> str:
    """The SLO table, one row a journey (SLO.md carries it verbatim: tests/test_prometheus_rules.py)."""
    rows = ["| Journey, `journey` label | Endpoints (method, URL rule) | Availability SLI: objective, 30-day "
            "error budget | Latency SLI: objective, 30-day error budget |", "|---|---|---|---|"]
    for slo in SLOS:
        routes = "<br>".join(f"`{m} {r}`" for m, r in slo.routes)
        if slo.latency_routes is not None:
            routes += "<br>(latency: all but `:batch`)"
        rows.append(f"| {slo.title}, `{slo.journey}` | {routes} | non-5xx / all: {_percent(slo.availability)}, "
                    f"{_budget(slo.availability)} | ≤ {slo.threshold} s: {_percent(slo.latency)}, "
                    f"{_budget(slo.latency)} |")
    rows.append(f"| {PUSH.title}, `{PUSH.journey}` | `yiwang_push_attempts_total`, "
                f"`yiwang_outbox_oldest_pending_age_seconds` | delivered: sent / (sent + dead + rejected): {_percent(PUSH.availability)}, "
                f"{_budget(PUSH.availability)} | fresh: minutes with the oldest due outbox row younger than "
                f"{OUTBOX_LATE_SECONDS} s: {_percent(PUSH.latency)}, {_budget(PUSH.latency)} |")
    return "\n".join(rows) + "\n"


# --- Writing -------------------------------------------------------------------------------------

class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)

HEADER = "# Generated by deploy/prometheus/slos.py from its SLO table: edit that, then run it.\n"


def rendered() -> dict[Path, str]:
    def dump(doc):
        return HEADER + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return {RECORDING: dump(recording_rules()), BURN_ALERTS: dump(alerting_rules()),
            DASHBOARD: json.dumps(dashboard(), ensure_ascii=False, indent=2) + "\n"}


def main(argv: list[str]) -> int:
    stale = [p for p, text in rendered().items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if "--check" in argv:
        for path in stale:
            print(f"{path}: out of date with deploy/prometheus/slos.py (run it)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in rendered().items():
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
