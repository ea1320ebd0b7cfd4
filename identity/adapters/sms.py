"""SMS verification-code delivery (短信验证码发送).

Production implementation: :class:`AliyunSmsSender`, speaking Alibaba Cloud
SMS ``SendSms`` (product ``dysmsapi``, API version ``2017-05-25``) in RPC
style with signature version 1.0 (HMAC-SHA1):

1. Collect all request parameters (common + ``SendSms`` ones) except
   ``Signature``.
2. Percent-encode each key and value per RFC 3986 (unreserved
   ``A-Z a-z 0-9 - _ . ~`` kept, everything else ``%XX`` of the UTF-8 bytes,
   i.e. space -> ``%20``, ``*`` -> ``%2A``, ``~`` kept), sort by encoded
   key, join as ``k=v`` with ``&`` -> canonicalized query.
3. ``StringToSign = "POST&%2F&" + percentEncode(canonicalized query)``.
4. ``Signature = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))``.
5. POST all parameters plus ``Signature`` as a form body to the endpoint.

A reply ``{"Code": "OK", ...}`` means accepted; any other ``Code`` raises
:class:`SmsDeliveryError`.  Each attempt uses a fresh ``SignatureNonce``
(Aliyun rejects reused nonces with ``SignatureNonceUsed``).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Protocol

import requests

from app.adapters.aliyun import API_VERSION, RETRYABLE_CODES, sign_rpc, utc_timestamp  # the kernel's RPC signing
from app.adapters.http import Timeout, check_timeout, make_session
from app.security.pii import mask_phone

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
_PHONE_RE = re.compile(r"^1\d{10}$")
_CODE_RE = re.compile(r"^\d{4,8}$")


class SmsDeliveryError(Exception):
    """SMS could not be delivered; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class SmsSender(Protocol):
    """Sends a one-time verification code to a phone number."""

    def send_code(self, phone: str, code: str) -> None:
        """Deliver ``code`` to ``phone``; raise :class:`SmsDeliveryError` on failure."""
        ...


class AliyunSmsSender:
    """:class:`SmsSender` backed by Alibaba Cloud SMS ``SendSms``.

    Retries (at most ``retries`` extra attempts, exponential backoff starting
    at ``backoff`` seconds) only failures marked ``retryable``: timeouts,
    connection errors, HTTP 5xx and the codes in :data:`RETRYABLE_CODES`.
    A read timeout may in rare cases lead to the same code being delivered
    twice, which is harmless for a verification code.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        access_key_id: str = "",
        access_key_secret: str = "",
        sign_name: str = "",
        template_code: str = "",
        timeout: Timeout = (2.0, 3.0),
        retries: int = 2,
        session: requests.Session | None = None,
        *,
        backoff: float = 0.2,
    ) -> None:
        if not (access_key_id and access_key_secret and sign_name and template_code):
            raise ValueError("access_key_id, access_key_secret, sign_name, template_code required")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.timeout = check_timeout(timeout)
        self.retries = retries
        self.backoff = backoff
        # No transport-level retries: every retry here must carry a new nonce.
        self._session = session or make_session(connect_retries=0, status_retries=0)

    def __repr__(self) -> str:
        return f"AliyunSmsSender(endpoint={self.endpoint!r}, access_key_id={self.access_key_id!r})"

    def send_code(self, phone: str, code: str) -> None:
        """Send ``code`` to mainland-China ``phone`` (11 digits, no +86).

        Raises ``ValueError`` for a malformed phone/code (caller bug) and
        :class:`SmsDeliveryError` when delivery fails after all retries.
        """
        if not _PHONE_RE.match(phone):
            raise ValueError("phone must be an 11-digit mainland number")
        if not _CODE_RE.match(code):
            raise ValueError("code must be 4-8 digits")
        attempt = 0
        while True:
            try:
                self._send_once(phone, code)
                return
            except SmsDeliveryError as exc:
                if not exc.retryable or attempt >= self.retries:
                    logger.warning(
                        "sms to %s failed after %d attempt(s): code=%s retryable=%s",
                        mask_phone(phone), attempt + 1, exc.code, exc.retryable,
                    )
                    raise
                delay = self.backoff * (2 ** attempt)
                logger.info(
                    "sms to %s attempt %d failed (code=%s); retrying in %.2fs",
                    mask_phone(phone), attempt + 1, exc.code, delay,
                )
                attempt += 1
                time.sleep(delay)

    def _build_params(self, phone: str, code: str) -> dict[str, str]:
        """Return the signed form parameters for one attempt (fresh nonce/timestamp)."""
        params = {
            "Action": "SendSms",
            "Version": API_VERSION,
            "Format": "JSON",
            "AccessKeyId": self.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": secrets.token_hex(16),
            "Timestamp": utc_timestamp(),
            "PhoneNumbers": phone,
            "SignName": self.sign_name,
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps({"code": code}, separators=(",", ":")),
        }
        params["Signature"] = sign_rpc(params, self._access_key_secret)
        return params

    def _send_once(self, phone: str, code: str) -> None:
        """One signed ``SendSms`` attempt; raise :class:`SmsDeliveryError` on failure."""
        params = self._build_params(phone, code)
        try:
            resp = self._session.post(self.endpoint, data=params, timeout=self.timeout)
        except requests.Timeout as exc:
            raise SmsDeliveryError("sms gateway timeout", retryable=True, code="timeout") from exc
        except requests.ConnectionError as exc:
            raise SmsDeliveryError("sms gateway unreachable", retryable=True, code="connection") from exc
        except requests.RequestException as exc:
            raise SmsDeliveryError("sms request failed", retryable=False, code="request") from exc
        if resp.status_code >= 500:
            raise SmsDeliveryError(
                f"sms gateway HTTP {resp.status_code}", retryable=True, code=f"http_{resp.status_code}"
            )
        try:
            body = resp.json()
        except ValueError as exc:
            raise SmsDeliveryError(
                f"sms gateway non-JSON reply (HTTP {resp.status_code})", retryable=False, code="bad_reply"
            ) from exc
        result_code = body.get("Code") if isinstance(body, dict) else None
        if result_code == "OK":
            logger.info(
                "sms to %s accepted: biz_id=%s request_id=%s",
                mask_phone(phone), body.get("BizId"), body.get("RequestId"),
            )
            return
        code_str = str(result_code) if result_code is not None else "missing"
        raise SmsDeliveryError(
            f"sms gateway refused: {code_str}",
            retryable=code_str in RETRYABLE_CODES,
            code=code_str,
        )
