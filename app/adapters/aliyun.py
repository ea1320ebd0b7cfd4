"""Alibaba Cloud SMS (``dysmsapi``) RPC plumbing shared by the login codes (identity/adapters/sms.py)
and the SMS notices (notify/push/sms.py): signature version 1.0 (HMAC-SHA1).

1. Collect all request parameters (common + ``SendSms`` ones) except ``Signature``.
2. Percent-encode each key and value per RFC 3986 (unreserved ``A-Z a-z 0-9 - _ . ~`` kept,
   everything else ``%XX`` of the UTF-8 bytes, i.e. space -> ``%20``, ``*`` -> ``%2A``, ``~`` kept),
   sort by encoded key, join as ``k=v`` with ``&`` -> canonicalized query.
3. ``StringToSign = "POST&%2F&" + percentEncode(canonicalized query)``.
4. ``Signature = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from typing import Mapping
from urllib.parse import quote

API_VERSION = "2017-05-25"

#: Aliyun ``Code`` values that indicate a transient server-side problem.
#: Throttling codes such as ``isv.BUSINESS_LIMIT_CONTROL`` are per-phone
#: limits and are deliberately *not* retryable; nor is ``SignatureNonceUsed``.
RETRYABLE_CODES: frozenset[str] = frozenset(
    {"isp.SYSTEM_ERROR", "ServiceUnavailable", "InternalError", "isp.GATEWAY_ERROR"}
)


def percent_encode(value: str) -> str:
    """Aliyun POP percent-encoding (RFC 3986; ``+``->%20, ``*``->%2A, ``~`` kept)."""
    return quote(value, safe="~")


def canonicalize(params: Mapping[str, str]) -> str:
    """Return the canonicalized query string of ``params`` (sorted, encoded)."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in pairs)


def sign_rpc(params: Mapping[str, str], access_key_secret: str, method: str = "POST") -> str:
    """Return the base64 HMAC-SHA1 RPC signature of ``params`` (``Signature`` excluded)."""
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonicalize(params))}"
    key = f"{access_key_secret}&".encode("utf-8")
    digest = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def utc_timestamp() -> str:
    """Current UTC time in Aliyun's ``YYYY-MM-DDThh:mm:ssZ`` format."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
