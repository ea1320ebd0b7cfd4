"""HttpPopulationRegistry against the fake signed-JSON registry gateway."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest

from app.adapters.http import CircuitBreaker
from identity.adapters.registry import HttpPopulationRegistry, RegistryResult, RegistryUnavailable
from tests.adapters.conftest import REG_APP_ID, REG_APP_SECRET
from tests.fakes.registry import hmac_sm3, sm3_hex

ZHANG_ID = "11010519491231002X"


def own_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Messages logged by the adapters (not by the fake server)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("identity."))


def make_registry(url: str, secret: str = REG_APP_SECRET, **kw: object) -> HttpPopulationRegistry:
    opts: dict[str, object] = {"timeout": (0.3, 0.3)}
    opts.update(kw)
    return HttpPopulationRegistry(url, REG_APP_ID, secret, **opts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "id_number", "expected"),
    [
        ("张三", ZHANG_ID, RegistryResult.MATCH),
        ("张三", ZHANG_ID.lower(), RegistryResult.MATCH),  # trailing x normalised
        ("王五", ZHANG_ID, RegistryResult.MISMATCH),
        ("张三", "110105194912310038", RegistryResult.NOT_FOUND),
    ],
)
def test_verdicts(registry_server, name: str, id_number: str, expected: RegistryResult) -> None:
    fake, server = registry_server
    assert make_registry(server.url).verify(name, id_number) is expected
    assert fake.rejections == []


def test_request_wire_format(registry_server) -> None:
    fake, server = registry_server
    make_registry(server.url).verify("张三", ZHANG_ID)
    (req,) = server.requests
    assert req.method == "POST" and req.path == "/v1/identity/verify"
    body = json.loads(req.body)
    assert body["name"] == "张三" and body["id_number"] == ZHANG_ID and re.fullmatch(r"[a-z2-7]{24}", body["request_id"])
    h = req.headers
    assert h["X-App-Id"] == REG_APP_ID and len(h["X-Nonce"]) == 32
    assert abs(int(h["X-Timestamp"]) - time.time()) < 5
    to_sign = f"POST\n/v1/identity/verify\n{h['X-Timestamp']}\n{h['X-Nonce']}\n{sm3_hex(req.body)}"
    assert h["X-Signature"] == hmac_sm3(REG_APP_SECRET, to_sign)


def test_base_url_prefix_is_signed(registry_server) -> None:
    fake, server = registry_server
    reg = make_registry(server.url + "/gateway/")
    with pytest.raises(RegistryUnavailable):  # fake only serves the bare path -> 404
        reg.verify("张三", ZHANG_ID)
    assert server.requests[0].path == "/gateway/v1/identity/verify"


def test_nonces_are_fresh(registry_server) -> None:
    fake, server = registry_server
    reg = make_registry(server.url)
    for _ in range(3):
        reg.verify("张三", ZHANG_ID)
    assert len({r.headers["X-Nonce"] for r in server.requests}) == 3
    assert fake.rejections == []


def test_wrong_app_secret_fails_closed(registry_server) -> None:
    fake, server = registry_server
    with pytest.raises(RegistryUnavailable):
        make_registry(server.url, secret="not-it").verify("张三", ZHANG_ID)
    assert fake.rejections == ["bad_signature"] and fake.checked == []


@pytest.mark.parametrize("mode", ["wrong_key", "unsigned", "bad_result", "echo_wrong_id", "error500"])
def test_untrustworthy_replies_fail_closed(registry_server, mode: str) -> None:
    fake, server = registry_server
    fake.mode = mode
    with pytest.raises(RegistryUnavailable):
        make_registry(server.url).verify("张三", ZHANG_ID)


def test_hang_times_out_quickly(registry_server) -> None:
    fake, server = registry_server
    fake.mode = "hang"
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable):
        make_registry(server.url, timeout=(0.3, 0.3)).verify("张三", ZHANG_ID)
    assert time.monotonic() - started < 1.0
    assert server.count() == 1  # read timeouts on POST are not retried


def test_breaker_opens_and_fails_fast(registry_server) -> None:
    fake, server = registry_server
    fake.mode = "error500"
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=60)
    reg = make_registry(server.url, breaker=breaker)
    for _ in range(3):
        with pytest.raises(RegistryUnavailable):
            reg.verify("张三", ZHANG_ID)
    assert breaker.state == "open" and server.count() == 3
    fake.mode = "normal"
    with pytest.raises(RegistryUnavailable, match="circuit open"):
        reg.verify("张三", ZHANG_ID)
    assert server.count() == 3  # server not contacted


def test_breaker_half_open_recovery(registry_server) -> None:
    fake, server = registry_server
    now = [1000.0]
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=30, clock=lambda: now[0])
    reg = make_registry(server.url, breaker=breaker)
    fake.mode = "wrong_key"
    for _ in range(2):
        with pytest.raises(RegistryUnavailable):
            reg.verify("张三", ZHANG_ID)
    assert breaker.state == "open"
    fake.mode = "normal"
    now[0] += 31
    assert breaker.state == "half_open"
    assert reg.verify("王五", ZHANG_ID) is RegistryResult.MISMATCH  # a verdict is a success
    assert breaker.state == "closed"


def test_connection_refused_is_unavailable() -> None:
    with pytest.raises(RegistryUnavailable):
        make_registry("http://127.0.0.1:9").verify("张三", ZHANG_ID)


def test_malformed_input_not_sent(registry_server) -> None:
    fake, server = registry_server
    reg = make_registry(server.url)
    for bad in ("12345", "11010519491231002Y", ""):
        with pytest.raises(ValueError):
            reg.verify("张三", bad)
    with pytest.raises(ValueError):
        reg.verify("  ", ZHANG_ID)
    assert server.count() == 0


def test_logs_do_not_contain_id_or_name(registry_server, caplog: pytest.LogCaptureFixture) -> None:
    fake, server = registry_server
    caplog.set_level(logging.DEBUG, logger="identity.adapters")
    reg = make_registry(server.url)
    reg.verify("张三", ZHANG_ID)
    fake.mode = "wrong_key"
    with pytest.raises(RegistryUnavailable):
        reg.verify("张三", ZHANG_ID)
    text = own_logs(caplog)
    assert text and ZHANG_ID not in text and "张三" not in text and REG_APP_SECRET not in text
