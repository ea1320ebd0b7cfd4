"""AliyunSmsSender against the fake dysmsapi server."""

from __future__ import annotations

import json
import logging
import time

import pytest

from app.adapters.aliyun import percent_encode, sign_rpc
from identity.adapters.sms import AliyunSmsSender, SmsDeliveryError
from tests.adapters.conftest import SMS_KEY_ID, SMS_KEY_SECRET
from tests.fakes.aliyun_sms import expected_signature

PHONE, CODE = "13812345678", "123456"

# Worked example from Alibaba Cloud's SMS "HTTP protocol and signature" documentation.
DOC_PARAMS = {
    "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
    "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
}
DOC_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def own_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Messages logged by the adapters (not by the fake server)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("identity."))


def make_sender(url: str, **kw: object) -> AliyunSmsSender:
    opts: dict[str, object] = dict(timeout=(0.3, 0.3), retries=2, backoff=0.01)
    opts.update(kw)
    return AliyunSmsSender(
        url + "/", SMS_KEY_ID, SMS_KEY_SECRET, "易网", "SMS_000001", **opts  # type: ignore[arg-type]
    )


def test_signature_matches_aliyun_documented_example() -> None:
    assert sign_rpc(DOC_PARAMS, "testSecret", method="GET") == DOC_SIGNATURE
    assert expected_signature(DOC_PARAMS, "testSecret", method="GET") == DOC_SIGNATURE


def test_percent_encoding_rules() -> None:
    assert percent_encode("a b*c~d+e/") == "a%20b%2Ac~d%2Be%2F"
    assert percent_encode("易") == "%E6%98%93"


def test_send_success_and_wire_format(aliyun) -> None:
    fake, server = aliyun
    make_sender(server.url).send_code(PHONE, CODE)
    assert fake.sent == [{"phone": PHONE, "sign": "易网", "template": "SMS_000001", "params": {"code": CODE}}]
    assert fake.errors == []
    (req,) = server.requests
    assert req.method == "POST" and req.path == "/"
    form = req.form
    assert form["Action"] == "SendSms" and form["Version"] == "2017-05-25"
    assert form["Format"] == "JSON" and form["SignatureMethod"] == "HMAC-SHA1"
    assert form["SignatureVersion"] == "1.0" and form["AccessKeyId"] == SMS_KEY_ID
    assert form["TemplateParam"] == '{"code":"123456"}'
    assert time.strptime(form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert len(form["SignatureNonce"]) >= 32
    assert form["Signature"] == expected_signature(form, SMS_KEY_SECRET)


def test_wrong_secret_is_rejected_not_retried(aliyun) -> None:
    fake, server = aliyun
    sender = AliyunSmsSender(server.url + "/", SMS_KEY_ID, "wrong", "易网", "SMS_1", timeout=(0.3, 0.3))
    with pytest.raises(SmsDeliveryError) as info:
        sender.send_code(PHONE, CODE)
    assert info.value.code == "SignatureDoesNotMatch" and not info.value.retryable
    assert server.count() == 1 and fake.sent == []


@pytest.mark.parametrize("code", ["isv.BUSINESS_LIMIT_CONTROL", "isv.MOBILE_NUMBER_ILLEGAL", "SignatureNonceUsed"])
def test_business_errors_not_retryable(aliyun, code: str) -> None:
    fake, server = aliyun
    fake.force_code = code
    with pytest.raises(SmsDeliveryError) as info:
        make_sender(server.url).send_code(PHONE, CODE)
    assert info.value.code == code and info.value.retryable is False
    assert server.count() == 1


def test_system_error_code_is_retried(aliyun) -> None:
    fake, server = aliyun
    fake.force_code = "isp.SYSTEM_ERROR"
    with pytest.raises(SmsDeliveryError) as info:
        make_sender(server.url, retries=1).send_code(PHONE, CODE)
    assert info.value.retryable and server.count() == 2


def test_503_then_ok_delivers_once_with_distinct_nonces(aliyun) -> None:
    fake, server = aliyun
    fake.fail_with_503 = 2
    make_sender(server.url).send_code(PHONE, CODE)
    assert len(fake.sent) == 1
    nonces = [r.form["SignatureNonce"] for r in server.requests]
    assert len(nonces) == 3 and len(set(nonces)) == 3
    assert "SignatureNonceUsed" not in fake.errors


def test_503_exhausts_retries(aliyun) -> None:
    fake, server = aliyun
    fake.fail_with_503 = 10
    with pytest.raises(SmsDeliveryError) as info:
        make_sender(server.url, retries=2).send_code(PHONE, CODE)
    assert info.value.retryable and info.value.code == "http_503"
    assert server.count() == 3 and fake.sent == []


def test_timeout_is_retryable_and_fast(aliyun) -> None:
    fake, server = aliyun
    fake.hang_seconds = 2.0
    started = time.monotonic()
    with pytest.raises(SmsDeliveryError) as info:
        make_sender(server.url, retries=0, timeout=(0.3, 0.2)).send_code(PHONE, CODE)
    assert time.monotonic() - started < 1.0
    assert info.value.retryable and info.value.code == "timeout"


def test_connection_refused_is_retryable() -> None:
    sender = make_sender("http://127.0.0.1:9", retries=1)
    with pytest.raises(SmsDeliveryError) as info:
        sender.send_code(PHONE, CODE)
    assert info.value.retryable


def test_invalid_input_raises_value_error() -> None:
    sender = make_sender("http://127.0.0.1:9")
    with pytest.raises(ValueError):
        sender.send_code("+8613812345678", CODE)
    with pytest.raises(ValueError):
        sender.send_code(PHONE, "12ab")


def test_logs_mask_phone_and_code(aliyun, caplog: pytest.LogCaptureFixture) -> None:
    fake, server = aliyun
    caplog.set_level(logging.DEBUG, logger="identity.adapters")
    fake.fail_with_503 = 1
    make_sender(server.url).send_code(PHONE, CODE)
    text = own_logs(caplog)
    assert "138****5678" in text
    assert PHONE not in text and CODE not in text and SMS_KEY_SECRET not in text
    assert json.dumps({"code": CODE}) not in text
