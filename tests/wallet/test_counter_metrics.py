"""Issue 21: `yiwang_verifications_total{kind="counter"|"offline", result}` — a counter check counted
"ok" once and its replay by the refusal's code; an offline verification by its verdict."""
from __future__ import annotations

from prometheus_client import REGISTRY

from app.request_metrics import TALLY
from tests.wallet.conftest import MATTER, VERIFY, present
from wallet.offline.verify import verify as verify_offline


def verifications(kind: str, result: str) -> float:
    TALLY.flush()
    return REGISTRY.get_sample_value("yiwang_verifications_total", {"kind": kind, "result": result}) or 0.0


def test_a_counter_check_counts_ok_then_its_replay_counts_presentation_used(client, holder, licence, clerk):
    shown = present(client, holder, licence["id"])
    counter = clerk()
    ok, used = verifications("counter", "ok"), verifications("counter", "presentation_used")
    assert client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter).status_code == 200
    assert verifications("counter", "ok") == ok + 1
    assert client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter).status_code == 409
    assert verifications("counter", "presentation_used") == used + 1
    assert verifications("counter", "ok") == ok + 1


def test_an_offline_verification_counts_its_verdict():
    before = verifications("offline", "malformed")
    result = verify_offline("not a code", {"platform_keys": [], "issuers": []}, now=0, seen=set())
    assert result.reason == "malformed"
    assert verifications("offline", "malformed") == before + 1
