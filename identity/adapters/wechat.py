"""WeChat mini-program server API (微信小程序登录与手机号).

Endpoints used (https://api.weixin.qq.com):

* ``GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code``
  -> ``{openid, session_key, unionid?}`` or ``{errcode, errmsg}``.
* ``GET /cgi-bin/token?grant_type=client_credential&appid&secret``
  -> ``{access_token, expires_in}``.
* ``POST /wxa/business/getuserphonenumber?access_token=TOKEN`` body
  ``{"code": code}`` -> ``{"errcode": 0, "phone_info": {phoneNumber,
  purePhoneNumber, countryCode, watermark: {appid, timestamp}}}``.

Error mapping: 40029 (invalid code) and 40163 (code been used) ->
:class:`WeChatCodeInvalid`; 45011 (API minute-quota) ->
:class:`WeChatRateLimited`; -1 (system busy), any other errcode, network
errors, timeouts and unparsable replies -> :class:`WeChatUnavailable`.

The access token is cached in ``token_cache`` (anything with
``get(key)`` and ``set(key, value, ex=seconds)``, e.g. ``redis.Redis``)
for ``expires_in - 300`` seconds.  On 40001/40014/42001 the token is
refreshed once and the call retried.  Concurrent refreshes by several
workers are tolerated: WeChat keeps the previous token valid for a few
minutes after issuing a new one.

Note: WeChat requires ``secret`` in GET query strings; keep urllib3's
DEBUG logging (which prints request lines) disabled in production.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import requests

from app.adapters.http import Timeout, check_timeout, make_session

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
TOKEN_SAFETY_MARGIN = 300
_CODE_INVALID = frozenset({40029, 40163})
_RATE_LIMITED = frozenset({45011})
_TOKEN_INVALID = frozenset({40001, 40014, 42001})


@dataclass(frozen=True)
class WeChatSession:
    """Result of ``code2session``; ``session_key`` is a secret, never log it."""

    openid: str
    session_key: str
    unionid: str | None

    def __repr__(self) -> str:
        return f"WeChatSession(openid={self.openid!r}, session_key='***', unionid={self.unionid!r})"


class WeChatError(Exception):
    """A WeChat API call failed; ``errcode`` is WeChat's code (-1 for local failures)."""

    def __init__(self, message: str, errcode: int = -1) -> None:
        super().__init__(message)
        self.errcode = errcode


class WeChatCodeInvalid(WeChatError):
    """The login/phone code is invalid, expired or already used (40029, 40163)."""


class WeChatRateLimited(WeChatError):
    """WeChat API frequency limit reached (45011)."""


class WeChatUnavailable(WeChatError):
    """WeChat unreachable, busy (-1), misconfigured or replied unexpectedly."""


class WeChatClient(Protocol):
    """Mini-program server-side API used by the login flow."""

    def code2session(self, code: str) -> WeChatSession:
        """Exchange a ``wx.login`` code for the user's session."""
        ...

    def phone_number(self, code: str) -> str:
        """Exchange a ``getPhoneNumber`` code for the pure phone number."""
        ...


class TokenCache(Protocol):
    """Minimal key/value cache with expiry (``redis.Redis`` satisfies it)."""

    def get(self, key: str) -> bytes | str | None: ...

    def set(self, key: str, value: str, ex: int | None = None) -> Any: ...


class InMemoryTokenCache:
    """Thread-safe in-process :class:`TokenCache` (per worker process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, float | None]] = {}

    def get(self, key: str) -> str | None:
        """Return the live value for ``key`` or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            value, expires_at = item
            if expires_at is not None and self._clock() >= expires_at:
                del self._items[key]
                return None
            return value

    def set(self, key: str, value: str, ex: int | None = None) -> bool:
        """Store ``value`` under ``key`` for ``ex`` seconds (forever if None)."""
        with self._lock:
            expires_at = None if ex is None else self._clock() + ex
            self._items[key] = (value, expires_at)
        return True


def _errcode_of(payload: dict[str, Any]) -> int:
    """Return the integer errcode of a reply (0 when absent)."""
    try:
        return int(payload.get("errcode", 0) or 0)
    except (TypeError, ValueError):
        return -1


def _raise_for_errcode(errcode: int, errmsg: str, what: str) -> None:
    """Map a non-zero ``errcode`` to the matching :class:`WeChatError` subclass."""
    message = f"wechat {what} failed: errcode={errcode} errmsg={errmsg[:100]}"
    if errcode in _CODE_INVALID:
        raise WeChatCodeInvalid(message, errcode)
    if errcode in _RATE_LIMITED:
        raise WeChatRateLimited(message, errcode)
    raise WeChatUnavailable(message, errcode)


class HttpWeChatClient:
    """:class:`WeChatClient` over the real HTTPS API (see module docstring)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        appid: str = "",
        secret: str = "",
        token_cache: TokenCache | None = None,
        timeout: Timeout = (2.0, 3.0),
        session: requests.Session | None = None,
    ) -> None:
        if not (appid and secret):
            raise ValueError("appid and secret are required")
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self._secret = secret
        self.token_cache: TokenCache = token_cache if token_cache is not None else InMemoryTokenCache()
        self.timeout = check_timeout(timeout)
        # Connect-error retries only: login codes are single-use, so even a
        # GET that reached WeChat must not be replayed blindly.
        self._session = session or make_session(connect_retries=1, status_retries=0)

    def __repr__(self) -> str:
        return f"HttpWeChatClient(base_url={self.base_url!r}, appid={self.appid!r})"

    @property
    def _token_key(self) -> str:
        return f"wechat:access_token:{self.appid}"

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """Perform one call; return the JSON object or raise :class:`WeChatUnavailable`."""
        try:
            resp = self._session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            logger.warning("wechat %s timeout", what)
            raise WeChatUnavailable(f"wechat {what} timeout") from exc
        except requests.RequestException as exc:
            logger.warning("wechat %s unreachable: %s", what, type(exc).__name__)
            raise WeChatUnavailable(f"wechat {what} unreachable") from exc
        if resp.status_code != 200:
            logger.warning("wechat %s HTTP %d", what, resp.status_code)
            raise WeChatUnavailable(f"wechat {what} HTTP {resp.status_code}")
        try:
            payload = json.loads(resp.content.decode("utf-8"))  # may be sent as text/plain
        except (UnicodeDecodeError, ValueError) as exc:
            raise WeChatUnavailable(f"wechat {what} non-JSON reply") from exc
        if not isinstance(payload, dict):
            raise WeChatUnavailable(f"wechat {what} unexpected reply")
        return payload

    def code2session(self, code: str) -> WeChatSession:
        """Exchange a ``wx.login`` code; raise a :class:`WeChatError` subclass on failure."""
        if not code or len(code) > 256:
            raise WeChatCodeInvalid("wechat login code empty or too long", 40029)
        payload = self._request(
            "GET", "/sns/jscode2session", "code2session",
            params={"appid": self.appid, "secret": self._secret,
                    "js_code": code, "grant_type": "authorization_code"},
        )
        errcode = _errcode_of(payload)
        if errcode != 0:
            logger.warning("wechat code2session errcode=%d", errcode)
            _raise_for_errcode(errcode, str(payload.get("errmsg", "")), "code2session")
        openid, session_key = payload.get("openid"), payload.get("session_key")
        if not isinstance(openid, str) or not openid or not isinstance(session_key, str) or not session_key:
            raise WeChatUnavailable("wechat code2session reply lacks openid/session_key")
        unionid = payload.get("unionid")
        return WeChatSession(
            openid=openid, session_key=session_key,
            unionid=unionid if isinstance(unionid, str) and unionid else None,
        )

    def _fetch_token(self) -> str:
        """Fetch a new access token from WeChat and cache it."""
        payload = self._request(
            "GET", "/cgi-bin/token", "access_token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self._secret},
        )
        errcode = _errcode_of(payload)
        if errcode != 0:
            logger.error("wechat access_token errcode=%d", errcode)
            _raise_for_errcode(errcode, str(payload.get("errmsg", "")), "access_token")
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatUnavailable("wechat access_token reply lacks token")
        try:
            ttl = int(payload.get("expires_in", 0)) - TOKEN_SAFETY_MARGIN
        except (TypeError, ValueError):
            ttl = 0
        if ttl > 0:
            self.token_cache.set(self._token_key, token, ex=ttl)
        logger.info("wechat access_token refreshed (cached %ds)", max(ttl, 0))
        return token

    def _access_token(self, stale: str | None = None) -> str:
        """Return a cached token other than ``stale``, fetching a new one if needed."""
        cached = self.token_cache.get(self._token_key)
        if isinstance(cached, bytes):
            cached = cached.decode("utf-8")
        if cached and cached != stale:
            return cached
        return self._fetch_token()

    def phone_number(self, code: str) -> str:
        """Exchange a ``getPhoneNumber`` code for ``purePhoneNumber``.

        Refreshes the access token once on 40001/40014/42001.  Raises
        :class:`WeChatUnavailable` if the watermark appid is not ours.
        """
        if not code or len(code) > 256:
            raise WeChatCodeInvalid("wechat phone code empty or too long", 40029)
        token = self._access_token()
        payload = self._post_phone(token, code)
        errcode = _errcode_of(payload)
        if errcode in _TOKEN_INVALID:
            logger.info("wechat access_token rejected (errcode=%d); refreshing once", errcode)
            payload = self._post_phone(self._access_token(stale=token), code)
            errcode = _errcode_of(payload)
        if errcode != 0:
            logger.warning("wechat getuserphonenumber errcode=%d", errcode)
            _raise_for_errcode(errcode, str(payload.get("errmsg", "")), "getuserphonenumber")
        return self._extract_phone(payload)

    def _post_phone(self, token: str, code: str) -> dict[str, Any]:
        return self._request(
            "POST", "/wxa/business/getuserphonenumber", "getuserphonenumber",
            params={"access_token": token}, json={"code": code},
        )

    def _extract_phone(self, payload: dict[str, Any]) -> str:
        """Validate ``phone_info`` and its watermark; return ``purePhoneNumber``."""
        info = payload.get("phone_info")
        if not isinstance(info, dict):
            raise WeChatUnavailable("wechat phone reply lacks phone_info")
        watermark = info.get("watermark")
        if not isinstance(watermark, dict) or watermark.get("appid") != self.appid:
            logger.error("wechat phone watermark appid mismatch")
            raise WeChatUnavailable("wechat phone watermark appid mismatch")
        phone = info.get("purePhoneNumber")
        if not isinstance(phone, str) or not phone.isdigit():
            raise WeChatUnavailable("wechat phone reply lacks purePhoneNumber")
        return phone
