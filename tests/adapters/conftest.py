"""Fixtures for adapter tests: fake external servers on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # make `app` and `tests.fakes` importable without packaging
    sys.path.insert(0, str(ROOT))

from tests.fakes.aliyun_sms import FakeAliyunSms  # noqa: E402
from tests.fakes.registry import FakeRegistry  # noqa: E402
from tests.fakes.server import FakeServer  # noqa: E402
from tests.fakes.wechat import FakeWeChat  # noqa: E402

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
