"""The push metrics (Prometheus, in the kernel's style: app/health.py). prometheus_client's registry
is global, so /metrics shows them; under gunicorn the multi-process mode adds every worker's samples.

- `yiwang_push_attempts_total{channel, result}`: what became of each delivery the worker handled —
  sent, retry (backed off), quota_wait (a vendor's daily quota is used up: waits for the next China
  day), held (quiet hours or Huawei's night: waits, no attempt spent), token_dead (device dropped),
  rejected (dead-lettered at once), dead (dead-lettered after the last retry), fallback_sms (a
  critical notice sent by SMS instead of waiting).
- `yiwang_push_quota_waits_total{channel}`: deliveries stopped by a vendor's daily quota, waiting or
  fallen back to SMS (alert on it).
- `yiwang_push_fallbacks_total{channel}`: critical notices queued by SMS because `channel` had to wait.
"""
from __future__ import annotations

from prometheus_client import Counter

RESULTS = ("sent", "retry", "quota_wait", "held", "token_dead", "rejected", "dead", "fallback_sms")

PUSH_ATTEMPTS = Counter("yiwang_push_attempts_total", "Push deliveries handled, by channel and result",
                        ["channel", "result"])
QUOTA_WAITS = Counter("yiwang_push_quota_waits_total",
                      "Push deliveries waiting for the next day on a vendor's daily quota", ["channel"])
FALLBACKS = Counter("yiwang_push_fallbacks_total",
                    "Critical notices queued by SMS instead of waiting on a channel's quota or night hold",
                    ["channel"])


def count(channel: str, result: str, *, quota: bool = False) -> None:
    """One delivery's result on `channel` (a name in RESULTS); `quota`: it met a daily quota (waits,
    or fell back to SMS)."""
    PUSH_ATTEMPTS.labels(channel, result).inc()
    if quota:
        QUOTA_WAITS.labels(channel).inc()
    if result == "fallback_sms":
        FALLBACKS.labels(channel).inc()
