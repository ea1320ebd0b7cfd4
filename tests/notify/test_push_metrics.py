"""Issue 16, the router: "... and the metrics show it" — `yiwang_push_attempts_total{channel, result}`
counts what became of each delivery (sent, retry, quota_wait, held, token_dead, rejected, dead,
fallback_sms), `yiwang_push_quota_waits_total{channel}` the waits on a vendor's daily quota and
`yiwang_push_fallbacks_total{channel}` the critical notices sent by SMS instead (notify/metrics.py)."""
from __future__ import annotations

from prometheus_client import REGISTRY

from notify.delivery import DeliverySettings
from notify.push.base import PushRejected, PushRetryable
from tests.fixtures.notify import ScriptedChannel
from tests.notify import test_push_fallback
from tests.notify.test_push_vivo import REG_ID
from tests.notify.vendor_push import register


vivo_full = test_push_fallback.vivo_full  # the fixtures: vivo's quota used up; 02:00, quiet hours off
night = test_push_fallback.night


def counter(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def attempts(channel: str, result: str) -> float:
    return counter("yiwang_push_attempts_total", channel=channel, result=result)


def test_sent_retry_rejected_and_dead_are_counted_by_channel(client, citizen, notice, make_worker, channels, clock):
    register(client, citizen, "fcm", "fcm-token-" + "a" * 40)
    before = {r: attempts("fcm", r) for r in ("sent", "retry", "rejected", "dead")}
    channels["fcm"].failures["fcm-token-" + "a" * 40] = [PushRetryable("UNAVAILABLE")]
    notice(citizen["user_id"])
    worker = make_worker()
    worker.delivery = DeliverySettings(max_attempts=2)
    worker.drain()
    assert attempts("fcm", "retry") == before["retry"] + 1
    clock.advance(hours=2)
    worker.drain()
    assert attempts("fcm", "sent") == before["sent"] + 1
    channels["fcm"].failures["fcm-token-" + "a" * 40] = [PushRejected("INVALID_ARGUMENT")]
    notice(citizen["user_id"])
    worker.drain()
    assert attempts("fcm", "rejected") == before["rejected"] + 1
    channels["fcm"].failures["fcm-token-" + "a" * 40] = [PushRetryable("UNAVAILABLE"), PushRetryable("UNAVAILABLE")]
    notice(citizen["user_id"])
    worker.drain()
    clock.advance(hours=2)
    worker.drain()
    assert attempts("fcm", "dead") == before["dead"] + 1


def test_a_quota_wait_and_the_sms_fallback_are_counted(client, citizen, notice, make_worker, vivo_full):
    _fake, vivo = vivo_full
    register(client, citizen, "vivo", REG_ID)
    waits, fallbacks = counter("yiwang_push_quota_waits_total", channel="vivo"), attempts("vivo", "fallback_sms")
    by_sms = counter("yiwang_push_fallbacks_total", channel="vivo")
    notice(citizen["user_id"])  # waits
    notice(citizen["user_id"], kind="licence_revoked", title="电子证照已撤销", body="您的证照已被撤销。")  # SMS
    make_worker(channels={"vivo": vivo, "sms": ScriptedChannel("sms")}).drain()
    assert counter("yiwang_push_quota_waits_total", channel="vivo") == waits + 2
    assert attempts("vivo", "fallback_sms") == fallbacks + 1
    assert counter("yiwang_push_fallbacks_total", channel="vivo") == by_sms + 1


def test_a_huawei_night_hold_is_counted_as_held(client, citizen, notice, make_worker, night):
    register(client, citizen, "hms", "IQAAAACy0kYhAAD" + "x" * 40)
    held = attempts("hms", "held")
    notice(citizen["user_id"])
    make_worker(channels={"hms": ScriptedChannel("hms"), "sms": ScriptedChannel("sms")}).drain()
    assert attempts("hms", "held") == held + 1


def test_the_push_metrics_are_on_the_metrics_endpoint(app):
    app.config["METRICS_PORT"] = 9100
    answer = app.test_client().get("/metrics", environ_overrides={"SERVER_PORT": "9100"})
    text = answer.get_data(as_text=True)
    assert "yiwang_push_attempts_total" in text and "yiwang_push_quota_waits_total" in text
