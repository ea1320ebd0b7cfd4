"""The business registry client (BIZREG gateway v1, orgs/adapters/bizreg.py) against the fake gateway:
the envelope is what the gateway checks, and every untrustworthy reply fails closed."""
from __future__ import annotations

import logging

import pytest

from orgs.adapters.bizreg import BusinessRegistryUnavailable, HttpBusinessRegistry
from tests import vectors
from tests.fakes.bizreg import LOOKUP, VERIFY, FakeBizreg
from tests.fakes.server import FakeServer

APP_ID, SECRET = "yiwang-test", "bizreg-shared-secret"
USCC = "91340100MA2RX7K01F"
NAME, ID_NUMBER = vectors.ZHANG_SAN
ENTITY = {"name": "示例科技有限公司", "entity_type": "有限责任公司", "status": "1", "lr_name": NAME,
          "lr_id_number": ID_NUMBER}


@pytest.fixture
def gateway():
    fake = FakeBizreg({APP_ID: SECRET}, {USCC: dict(ENTITY)})
    with FakeServer(fake) as server:
        yield fake, server
        fake.release.set()


def _client(server, secret=SECRET, **kw):
    return HttpBusinessRegistry(server.url, APP_ID, secret, **kw)


def test_lookup_found(gateway):
    fake, server = gateway
    entity = _client(server).lookup(USCC)
    assert (entity.uscc, entity.name, entity.status, entity.region_code, entity.legal_rep_name) == (
        USCC, "示例科技有限公司", "1", "340100", NAME)
    assert [path for path, _ in fake.calls] == [LOOKUP] and fake.calls[0][1]["uscc"] == USCC
    assert fake.rejections == []


def test_lookup_not_found(gateway):
    fake, server = gateway
    assert _client(server).lookup("91110000600037341L") is None
    assert len(fake.calls) == 1


@pytest.mark.parametrize("status", ["2", "3", "4", "9"])
def test_each_status_is_reported(gateway, status):
    fake, server = gateway
    fake.entities[USCC]["status"] = status
    assert _client(server).lookup(USCC).status == status


def test_legal_representative_check(gateway, logs_without_personal_data):
    fake, server = gateway
    client = _client(server)
    assert client.is_legal_representative(uscc=USCC, name="示例科技有限公司", lr_name=NAME, lr_id_number=ID_NUMBER)
    assert not client.is_legal_representative(uscc=USCC, name="示例科技有限公司", lr_name="李四",
                                              lr_id_number=ID_NUMBER)
    assert not client.is_legal_representative(uscc=USCC, name="示例科技有限公司", lr_name=NAME,
                                              lr_id_number=vectors.LI_SI[1])
    assert [p for p, _ in fake.calls] == [VERIFY] * 3
    assert fake.calls[0][1] == {"uscc": USCC, "name": "示例科技有限公司", "lr_name": NAME, "id_number": ID_NUMBER,
                                "request_id": fake.calls[0][1]["request_id"]}


def test_nonces_are_single_use_and_fresh(gateway):
    fake, server = gateway
    client = _client(server)
    client.lookup(USCC)
    client.lookup(USCC)
    assert len(fake.calls) == 2 and fake.rejections == []  # two nonces, both accepted


def test_wrong_app_secret_is_refused_by_the_gateway(gateway):
    fake, server = gateway
    with pytest.raises(BusinessRegistryUnavailable):
        _client(server, secret="not-ours").lookup(USCC)
    assert fake.rejections == ["bad_signature"] and fake.calls == []


@pytest.mark.parametrize("mode", ["wrong_key", "unsigned", "echo_wrong_id", "error500", "other_uscc", "bad_status"])
def test_untrustworthy_lookup_replies_fail_closed(gateway, mode):
    fake, server = gateway
    fake.mode = mode
    with pytest.raises(BusinessRegistryUnavailable):
        _client(server).lookup(USCC)


@pytest.mark.parametrize("mode", ["wrong_key", "unsigned", "bad_flag"])
def test_untrustworthy_verify_replies_fail_closed(gateway, mode):
    fake, server = gateway
    fake.mode = mode
    with pytest.raises(BusinessRegistryUnavailable):
        _client(server).is_legal_representative(uscc=USCC, name="示例科技有限公司", lr_name=NAME,
                                                lr_id_number=ID_NUMBER)


def test_slow_gateway_times_out(gateway):
    fake, server = gateway
    fake.mode, fake.hang_seconds = "hang", 3.0
    with pytest.raises(BusinessRegistryUnavailable, match="timeout"):
        _client(server, timeout=(0.5, 0.3)).lookup(USCC)


def test_circuit_opens_after_failures_and_sends_nothing(gateway):
    fake, server = gateway
    fake.mode = "error500"
    client = _client(server)
    for _ in range(5):
        with pytest.raises(BusinessRegistryUnavailable):
            client.lookup(USCC)
    fake.mode = "normal"
    with pytest.raises(BusinessRegistryUnavailable, match="circuit"):
        client.lookup(USCC)
    assert fake.calls == []


def test_the_id_number_is_never_logged(gateway, caplog):
    _, server = gateway
    with caplog.at_level(logging.DEBUG):
        _client(server).is_legal_representative(uscc=USCC, name="示例科技有限公司", lr_name=NAME,
                                                lr_id_number=ID_NUMBER)
    assert ID_NUMBER not in caplog.text and NAME not in caplog.text
