"""What the OPPO and vivo channel tests share: the notice pushed, and what they check through the
worker — a device registered for the vendor, the device dropped when the vendor says its token is
dead, deliveries held until the next day in China when the vendor says the day's quota is used up."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from notify.models import Delivery, Device, PushAttempt
from notify.push.base import PushMessage
from notify.quiet import SHANGHAI
from tests.helpers import rows

CREATED = datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)


def case_notice(idempotency_key: str = "yw-1-dev_a", **kw) -> PushMessage:
    """A case-progress push, kept three days by the vendor."""
    base = dict(title="办件进度：已受理", body="您办理的「个体工商户登记」状态更新为：已受理。", kind="case_status",
                idempotency_key=idempotency_key, data={"case_id": "case_1", "case_no": "HF2026-0001"},
                collapse_key="HF2026-0001", created_at=CREATED, expires_at=CREATED + timedelta(days=3))
    return PushMessage(**{**base, **kw})


def register(client, citizen, platform: str, token: str) -> None:
    response = client.post("/api/v1/devices", json={"platform": platform, "token": token}, headers=citizen["headers"])
    assert response.status_code in (200, 201), response.get_json()


def run_worker(make_worker, notice, citizen, channel) -> None:
    notice(citizen["user_id"])
    make_worker(channels={channel.name: channel}).drain()


def assert_device_dropped(app, platform: str) -> None:
    assert rows(app, Device) == []
    assert {a.status for a in rows(app, PushAttempt) if a.channel == platform} == {"token_dead"}


def assert_waits_for_the_next_china_day(app, clock) -> None:
    """Each delivery spent one attempt (not the backoff series) and is due just after midnight."""
    pending = [d for d in rows(app, Delivery) if d.status == "pending"]
    assert pending and all(d.attempts == 1 for d in pending)
    due = min(d.available_at for d in pending).astimezone(SHANGHAI)
    assert due.date() == (clock.now.astimezone(SHANGHAI) + timedelta(days=1)).date() and due.hour == 0
