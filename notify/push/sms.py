"""SMS notices through Aliyun SendSms (the same signed RPC call as the login codes, another
template): `TemplateParam` = {"title": …}. The title carries no personal data; the full text stays
in the app. `isv.MOBILE_NUMBER_ILLEGAL` → the number is dead; `isv.BUSINESS_LIMIT_CONTROL` and
server errors → retryable; other codes → rejected."""
from __future__ import annotations

import json
import secrets

import requests

from app.adapters.aliyun import API_VERSION, RETRYABLE_CODES, sign_rpc, utc_timestamp
from app.adapters.http import make_session
from notify.push.base import PushMessage, PushRejected, PushRetryable, TokenDead


class AliyunNoticeSms:
    name = "sms"

    def __init__(self, *, endpoint: str, access_key_id: str, access_key_secret: str, sign_name: str,
                 template_code: str, timeout: tuple[float, float] = (3.0, 5.0),
                 session: requests.Session | None = None) -> None:
        if not (access_key_id and access_key_secret and sign_name and template_code):
            raise ValueError("Aliyun SMS credentials, sign name and notice template are required")
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name, self.template_code = sign_name, template_code
        self.timeout = timeout
        self._session = session or make_session(connect_retries=1)

    def __repr__(self) -> str:
        return f"AliyunNoticeSms(endpoint={self.endpoint!r}, access_key_id={self.access_key_id!r})"

    def params(self, phone: str, message: PushMessage) -> dict[str, str]:
        params = {"AccessKeyId": self.access_key_id, "Action": "SendSms", "Format": "JSON", "RegionId": "cn-hangzhou",
                  "SignatureMethod": "HMAC-SHA1", "SignatureNonce": secrets.token_hex(16), "SignatureVersion": "1.0",
                  "Timestamp": utc_timestamp(), "Version": API_VERSION, "PhoneNumbers": phone,
                  "SignName": self.sign_name, "TemplateCode": self.template_code,
                  "TemplateParam": json.dumps({"title": message.title[:35]}, ensure_ascii=False),
                  "OutId": message.idempotency_key[:64]}
        params["Signature"] = sign_rpc(params, self._secret)
        return params

    def send(self, token: str, message: PushMessage) -> None:
        try:
            response = self._session.post(self.endpoint, data=self.params(token, message), timeout=self.timeout)
            code = str(response.json().get("Code", ""))
        except (requests.RequestException, ValueError) as exc:
            raise PushRetryable(f"sms unreachable: {type(exc).__name__}") from exc
        if code == "OK":
            return
        if code == "isv.MOBILE_NUMBER_ILLEGAL":
            raise TokenDead(f"sms {code}")
        if code in RETRYABLE_CODES or code == "isv.BUSINESS_LIMIT_CONTROL" or response.status_code >= 500:
            raise PushRetryable(f"sms {code or response.status_code}")
        raise PushRejected(f"sms {code or response.status_code}")
