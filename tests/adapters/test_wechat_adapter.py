"""HttpWeChatClient against the fake WeChat API."""

from __future__ import annotations

import logging
import time

import pytest

from identity.adapters.wechat import (
    HttpWeChatClient, InMemoryTokenCache, WeChatCodeInvalid, WeChatError, WeChatRateLimited, WeChatSession,
    WeChatUnavailable,
)
from tests.adapters.conftest import WX_APPID, WX_SECRET

PHONE = "13812345678"


class DictRedis:
    """Stand-in for redis.Redis: stores bytes and records ``ex``."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.ttls: dict[str, int | None] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: str, ex: int | None = None) -> bool:
        self.data[key], self.ttls[key] = value.encode(), ex
        return True


def make_client(url: str, **kw: object) -> HttpWeChatClient:
    opts: dict[str, object] = {"timeout": (0.3, 0.3)}
    opts.update(kw)
    return HttpWeChatClient(url, WX_APPID, WX_SECRET, **opts)  # type: ignore[arg-type]


def test_code2session_success(wechat_server) -> None:
    fake, server = wechat_server
    fake.sessions["c1"] = {"openid": "o-1", "session_key": "sk==", "unionid": "u-1"}
    fake.sessions["c2"] = {"openid": "o-2", "session_key": "sk2=="}
    client = make_client(server.url)
    assert client.code2session("c1") == WeChatSession("o-1", "sk==", "u-1")
    assert client.code2session("c2") == WeChatSession("o-2", "sk2==", None)
    req = server.requests[0]
    assert req.method == "GET" and req.path == "/sns/jscode2session"
    assert req.args == {"appid": WX_APPID, "secret": WX_SECRET, "js_code": "c1",
                        "grant_type": "authorization_code"}
    assert "sk==" not in repr(WeChatSession("o", "sk==", None))  # session_key masked in repr


def test_code_reuse_is_40163(wechat_server) -> None:
    fake, server = wechat_server
    fake.sessions["c1"] = {"openid": "o-1", "session_key": "sk"}
    client = make_client(server.url)
    client.code2session("c1")
    with pytest.raises(WeChatCodeInvalid) as info:
        client.code2session("c1")
    assert info.value.errcode == 40163


@pytest.mark.parametrize(
    ("errcode", "exc_type"),
    [(40029, WeChatCodeInvalid), (45011, WeChatRateLimited), (-1, WeChatUnavailable),
     (40226, WeChatUnavailable)],
)
def test_code2session_errcodes(wechat_server, errcode: int, exc_type: type[WeChatError]) -> None:
    fake, server = wechat_server
    fake.error_codes["bad"] = errcode
    with pytest.raises(exc_type) as info:
        make_client(server.url).code2session("bad")
    assert info.value.errcode == errcode
    assert server.count() == 1


def test_unknown_code_is_40029(wechat_server) -> None:
    _, server = wechat_server
    with pytest.raises(WeChatCodeInvalid) as info:
        make_client(server.url).code2session("never-issued")
    assert info.value.errcode == 40029


def test_wrong_secret_is_unavailable(wechat_server) -> None:
    fake, server = wechat_server
    fake.sessions["c1"] = {"openid": "o", "session_key": "sk"}
    client = HttpWeChatClient(server.url, WX_APPID, "wrong", timeout=(0.3, 0.3))
    with pytest.raises(WeChatUnavailable) as info:
        client.code2session("c1")
    assert info.value.errcode == 40125


def test_timeout_and_non_json(wechat_server) -> None:
    fake, server = wechat_server
    fake.hang_seconds = 2.0
    started = time.monotonic()
    with pytest.raises(WeChatUnavailable):
        make_client(server.url, timeout=(0.3, 0.2)).code2session("c1")
    assert time.monotonic() - started < 1.0
    fake.hang_seconds = 0
    fake.non_json = True
    with pytest.raises(WeChatUnavailable):
        make_client(server.url).code2session("c1")


def test_connection_refused_is_unavailable() -> None:
    with pytest.raises(WeChatUnavailable) as info:
        make_client("http://127.0.0.1:9").code2session("c1")
    assert info.value.errcode == -1


def test_phone_number_and_token_caching(wechat_server) -> None:
    fake, server = wechat_server
    fake.phone_codes.update({"p1": PHONE, "p2": "13900001111"})
    cache = DictRedis()
    client = make_client(server.url, token_cache=cache)
    assert client.phone_number("p1") == PHONE
    assert client.phone_number("p2") == "13900001111"
    assert server.count("/cgi-bin/token") == 1
    token_req = next(r for r in server.requests if r.path == "/cgi-bin/token")
    assert token_req.args == {"grant_type": "client_credential", "appid": WX_APPID, "secret": WX_SECRET}
    phone_req = next(r for r in server.requests if r.path == "/wxa/business/getuserphonenumber")
    assert phone_req.method == "POST" and phone_req.args["access_token"] == fake.tokens_issued[0]
    assert phone_req.body == b'{"code": "p1"}'
    assert cache.ttls == {f"wechat:access_token:{WX_APPID}": 7200 - 300}


@pytest.mark.parametrize("how", ["invalidate", "expire"])
def test_phone_number_refreshes_token_once(wechat_server, how: str) -> None:
    fake, server = wechat_server
    fake.phone_codes["p1"] = PHONE
    client = make_client(server.url)
    fake.phone_codes["warm"] = "13000000000"
    client.phone_number("warm")
    old = fake.tokens_issued[0]
    (fake.invalidate_token if how == "invalidate" else fake.expire_token)(old)
    assert client.phone_number("p1") == PHONE
    assert len(fake.tokens_issued) == 2
    phone_calls = [r for r in server.requests if r.path == "/wxa/business/getuserphonenumber"]
    assert [r.args["access_token"] for r in phone_calls[-2:]] == [old, fake.tokens_issued[1]]


def test_phone_number_refresh_only_once(wechat_server) -> None:
    fake, server = wechat_server
    fake.phone_codes["p1"] = PHONE
    client = make_client(server.url)
    real_token = fake._token

    def issue_dead_token(args):  # every issued token is immediately invalid
        response = real_token(args)
        fake.invalidate_token(fake.tokens_issued[-1])
        return response

    fake._token = issue_dead_token  # type: ignore[method-assign]
    with pytest.raises(WeChatUnavailable) as info:
        client.phone_number("p1")
    assert info.value.errcode == 40001
    assert server.count("/cgi-bin/token") == 2
    assert server.count("/wxa/business/getuserphonenumber") == 2


def test_phone_watermark_mismatch(wechat_server) -> None:
    fake, server = wechat_server
    fake.phone_codes["p1"] = PHONE
    fake.watermark_appid = "wx-someone-else"
    with pytest.raises(WeChatUnavailable, match="watermark"):
        make_client(server.url).phone_number("p1")


@pytest.mark.parametrize(
    ("errcode", "exc_type"),
    [(40029, WeChatCodeInvalid), (45011, WeChatRateLimited), (-1, WeChatUnavailable)],
)
def test_phone_errcodes(wechat_server, errcode: int, exc_type: type[WeChatError]) -> None:
    fake, server = wechat_server
    fake.error_codes["bad"] = errcode
    with pytest.raises(exc_type) as info:
        make_client(server.url).phone_number("bad")
    assert info.value.errcode == errcode


def test_phone_code_reuse(wechat_server) -> None:
    fake, server = wechat_server
    fake.phone_codes["p1"] = PHONE
    client = make_client(server.url)
    client.phone_number("p1")
    with pytest.raises(WeChatCodeInvalid):
        client.phone_number("p1")


def test_short_lived_token_not_cached(wechat_server) -> None:
    fake, server = wechat_server
    fake.expires_in = 200  # below the 300 s safety margin
    fake.phone_codes.update({"p1": PHONE, "p2": PHONE})
    client = make_client(server.url)
    client.phone_number("p1")
    client.phone_number("p2")
    assert server.count("/cgi-bin/token") == 2


def test_in_memory_cache_expiry() -> None:
    now = [0.0]
    cache = InMemoryTokenCache(clock=lambda: now[0])
    cache.set("k", "v", ex=10)
    assert cache.get("k") == "v"
    now[0] = 10.0
    assert cache.get("k") is None


def test_logs_have_no_secrets(wechat_server, caplog: pytest.LogCaptureFixture) -> None:
    fake, server = wechat_server
    caplog.set_level(logging.DEBUG, logger="identity.adapters")
    fake.phone_codes["p1"] = PHONE
    fake.sessions["c1"] = {"openid": "o", "session_key": "SESSIONKEY"}
    client = make_client(server.url)
    client.code2session("c1")
    client.phone_number("p1")
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("identity."))
    assert text
    for secret in (WX_SECRET, PHONE, "SESSIONKEY", fake.tokens_issued[0]):
        assert secret not in text
