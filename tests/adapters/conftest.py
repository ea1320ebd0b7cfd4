"""Fixtures for adapter tests: fake external servers on 127.0.0.1."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.fakes.aliyun_sms import FakeAliyunSms
from tests.fakes.registry import FakeRegistry
from tests.fakes.server import FakeServer
from tests.fakes.wechat import FakeWeChat

SMS_KEY_ID, SMS_KEY_SECRET = "LTAI5tTESTKEYID", "test/secret+key*~ 1"
REG_APP_ID, REG_APP_SECRET = "yiwang-test", "registry-shared-secret"
WX_APPID, WX_SECRET = "wx1234567890abcdef", "wxsecret0123456789"
PEOPLE = {"11010519491231002X": "张三", "440308199901011234": "李四"}


@pytest.fixture
def aliyun() -> Iterator[tuple[FakeAliyunSms, FakeServer]]:
    fake = FakeAliyunSms({SMS_KEY_ID: SMS_KEY_SECRET})
    with FakeServer(fake) as server:
        try:
            yield fake, server
        finally:
            fake.release.set()  # wake any handler still hanging


@pytest.fixture
def registry_server() -> Iterator[tuple[FakeRegistry, FakeServer]]:
    fake = FakeRegistry({REG_APP_ID: REG_APP_SECRET}, dict(PEOPLE))
    with FakeServer(fake) as server:
        try:
            yield fake, server
        finally:
            fake.release.set()  # wake any handler still hanging


@pytest.fixture
def wechat_server() -> Iterator[tuple[FakeWeChat, FakeServer]]:
    fake = FakeWeChat(WX_APPID, WX_SECRET)
    with FakeServer(fake) as server:
        try:
            yield fake, server
        finally:
            fake.release.set()  # wake any handler still hanging
