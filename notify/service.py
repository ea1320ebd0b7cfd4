"""Notification use cases for the citizen API: devices, the inbox, preferences, the live stream; and
the public API of the feature: every other feature writes its notices with `enqueue` (the outbox,
inside its own `unit_of_work()`) from here, and a test or a server process runs the worker
(`NotifyWorker`, `start_background_worker`) from here.

Services take the actor's id from the route and never read the request.
"""
from __future__ import annotations

import json
import re

from flask import current_app

from app.db import new_id, unit_of_work, utcnow
from app.doctor import Check
from app.i18n import N_, T_, in_english
from app.security.auth import InvalidAccessToken
from app.security.pii import field_cipher
from identity import service as identity
from app.i18n import translate
from notify import errors, inbox_queries, models
from notify.categories import CATEGORIES, LOCKED
from notify.delivery import TOKEN_COLUMN
from notify.inbox import inbox_item
from notify.models import PLATFORMS, Device
from notify.outbox import KINDS, SECURITY_KINDS, OutboxEntry, enqueue
from notify.push.base import token_hint
from notify.quiet import DEFAULT_END, DEFAULT_START
from notify.stream import open_stream, parse_last_event_id
from notify.tasks import NotifyWorker, start_background_worker

__all__ = [
    # the outbox, for every feature: `enqueue(...)` inside the caller's unit of work; the notice kinds
    "KINDS", "SECURITY_KINDS", "OutboxEntry", "enqueue",
    # the worker
    "NotifyWorker", "start_background_worker",
    # the citizen API's use cases
    "device_view", "register_device", "drop_session_devices", "remove_device", "list_devices",
    "list_notifications", "unread_count", "mark_read", "mark_all_read", "get_preferences", "update_preferences",
    "readable_kinds",
    "open_stream", "parse_last_event_id",
]

_TOKEN_SHAPES = {
    "apns": re.compile(r"[0-9a-fA-F]{64,200}"),  # 32 bytes today; Apple says the length may grow
    "fcm": re.compile(r"[A-Za-z0-9_:\-.]{20,4096}"),
    "hms": re.compile(r"[A-Za-z0-9_:\-.]{20,512}"),
    "jpush": re.compile(r"[0-9A-Za-z]{10,64}"),  # registration id
    "wechat": re.compile(r"[A-Za-z0-9_\-]{16,64}"),  # the mini-program openid
    "sms": re.compile(r"1[3-9]\d{9}"),  # the account's own phone
    "xiaomi": re.compile(r"[A-Za-z0-9+/=_\-]{20,256}"),  # MiPush regId (base64-like, 44 chars today)
    "oppo": re.compile(r"[A-Za-z0-9_]{20,128}"),  # registration_id, "CN_" + 32 hex today (OPPO_CN_… too)
    "vivo": re.compile(r"[A-Za-z0-9_\-]{16,64}"),  # regId (23 digits today)
}


def device_view(device: Device) -> dict:
    return {"id": device.id, "platform": device.platform, "token_hint": device.token_hint,
            "locale": device.locale or "zh-CN", "created_at": device.created_at, "updated_at": device.updated_at}


def _check_token(user_id: str, platform: str, token: str) -> None:
    if platform not in current_app.extensions["notify"].channels:
        raise errors.PlatformUnavailable()
    if not _TOKEN_SHAPES[platform].fullmatch(token):
        raise errors.DeviceTokenInvalid(errors={"token": N_("格式不正确。")})
    if platform == "wechat" and not identity.openid_belongs_to(user_id, token):
        raise errors.DeviceTokenInvalid(errors={"token": N_("该 openid 未与当前账号绑定。")})
    if platform == "sms" and not identity.phone_belongs_to(user_id, token):
        raise errors.DeviceTokenInvalid(errors={"token": N_("只能使用当前账号绑定的手机号。")})


def register_device(*, user_id: str, session_id: str | None, platform: str, token: str,
                    locale: str = "zh-CN") -> tuple[dict, bool]:
    """Register a push target (idempotent by token) for the login session `session_id`: ending that
    session drops it (`drop_session_devices`). A token already known moves to this user and session
    (and takes the `locale` given: the language its pushes are worded in).
    A device new to the account is announced on its other channels (urgent `new_device` notice).
    Returns (device, created)."""
    _check_token(user_id, platform, token)
    bidx = field_cipher().blind_index("push-token", f"{platform}:{token}")
    now = utcnow()
    with unit_of_work():
        _hold_open_session(session_id)
        device = models.insert_device(id=new_id("dev"), user_id=user_id, session_id=session_id, platform=platform,
                                      token_bidx=bidx, token_enc=field_cipher().encrypt(token, TOKEN_COLUMN),
                                      token_hint=token_hint(token), locale=locale, created_at=now, updated_at=now)
        created = device is not None
        if not created:
            device = models.device_by_token(bidx)
            models.move_device(bidx, user_id=user_id, session_id=session_id, now=now, locale=locale)
        if created or device.user_id != user_id:
            _announce_new_device(user_id=user_id, session_id=session_id, device_id=device.id, platform=platform,
                                 hint=device.token_hint)
        return device_view(models.device_by_token(bidx)), created


def _hold_open_session(session_id: str | None) -> None:
    """Lock the registering session's row (PostgreSQL; SQLite writes one at a time anyway) and refuse a
    session revoked meanwhile: a logout racing this registration either waits and then drops the new
    device with the session's others, or has already revoked it and the device is not added."""
    if session_id is not None and not identity.hold_open_session(session_id):
        raise InvalidAccessToken()


_PLATFORM_NAMES = {"apns": "iPhone/iPad", "fcm": "安卓手机", "hms": "华为手机", "jpush": "安卓手机",
                   "wechat": "微信小程序", "sms": "短信",
                   "xiaomi": "小米手机",
                   "oppo": "OPPO手机", "vivo": "vivo手机"}


def _announce_new_device(*, user_id: str, session_id: str | None, device_id: str, platform: str, hint: str) -> None:
    """Tell the citizen, on every channel but the new device, that a device now receives their notices
    (a stolen token would otherwise register one silently)."""
    tail = hint.lstrip("…")
    token = N_("，推送标识末 4 位 {tail}", tail=tail) if tail else ""
    title = T_("新设备已开启消息推送")
    body = N_("您的账号刚在一台新设备（{device}{token}）上开启了消息推送。如果不是您本人操作，请立即在“登录设备”中"
              "撤销该登录（撤销后该设备不再收到消息），或退出所有设备上的登录。",
              device=_PLATFORM_NAMES[platform], platform=platform, token=token)
    enqueue(user_id=user_id, kind="new_device", title=title, urgent=True, body=body,
            data={"device_id": device_id, "platform": platform, "session_id": session_id or "",
                  **in_english(title=title, body=body)},
            dedupe_key=f"new-device:{device_id}:{new_id('n')}")


def drop_session_devices(*, session_id: str) -> int:
    """Forget the push devices a login session registered (the session ended: logout, refresh-token
    reuse, account merged); inside the caller's transaction. How many."""
    return models.delete_session_devices(session_id)


def remove_device(*, user_id: str, device_id: str) -> None:
    with unit_of_work():
        if not models.delete_user_device(user_id, device_id):
            raise errors.DeviceNotFound()


def list_devices(*, user_id: str) -> list[dict]:
    return [device_view(d) for d in models.user_devices(user_id)]


# An enterprise's inbox (issue 19): its legal representative reads every entry; an agent reads the
# categories its grant's scopes cover (notify/categories.py), as its pushes do (notify/recipients.py).
_SCOPE_CATEGORIES = {"cases:follow": "cases", "cases:rate": "cases", "licences:view": "licences",
                     "licences:present": "licences"}
LEGAL_REPRESENTATIVE_GRANT = "legal_representative"  # the grant id of an LR's enterprise token (CONTRACTS E)


def readable_kinds(*, delegated: bool, grant_id: str | None, scopes) -> tuple[str, ...] | None:
    """The notice kinds a reader may see in the inbox it reads: None (every kind) for the owner and
    for an enterprise's LR; for an agent, the kinds of the categories its scopes cover."""
    if not delegated or grant_id == LEGAL_REPRESENTATIVE_GRANT:
        return None
    wanted = {_SCOPE_CATEGORIES[scope] for scope in scopes or () if scope in _SCOPE_CATEGORIES}
    return tuple(kind for category in sorted(wanted) for kind in CATEGORIES[category][1])


def list_notifications(*, user_id: str, limit: int, cursor: str | None, unread_only: bool,
                       kinds: tuple[str, ...] | None = None) -> dict:
    """Newest first; `next_cursor` continues below the last item."""
    before = _cursor(cursor)
    rows = inbox_queries.inbox_page(user_id, before=before, limit=limit + 1, unread_only=unread_only, kinds=kinds)
    items = [inbox_item(r) for r in rows[:limit]]
    return {"items": items, "next_cursor": items[-1]["id"] if len(rows) > limit else None}


def _cursor(cursor: str | None) -> int:
    if not cursor:
        return 2 ** 62
    if not cursor.isdigit() or len(cursor) > 18:
        raise errors.CursorInvalid()
    return int(cursor)


def unread_count(*, user_id: str, kinds: tuple[str, ...] | None = None) -> int:
    return inbox_queries.unread_count(user_id, kinds)


def mark_read(*, user_id: str, entry_id: str, kinds: tuple[str, ...] | None = None) -> dict:
    """Mark one notice read (idempotent: reading it again keeps the first time)."""
    if not entry_id.isdigit() or len(entry_id) > 18:
        raise errors.NotificationNotFound()
    with unit_of_work():
        row = inbox_queries.mark_entry_read(user_id, int(entry_id), utcnow(), kinds)
    if row is None:
        raise errors.NotificationNotFound()
    return inbox_item(row)


def mark_all_read(*, user_id: str, kinds: tuple[str, ...] | None = None) -> int:
    with unit_of_work():
        return inbox_queries.mark_all_read(user_id, utcnow(), kinds)


def outbox_check() -> Check | None:
    """`flask doctor`: the outbox backlog (a warning past 10,000 pending notices)."""
    pending = models.pending_outbox()
    if pending is None:
        return None
    return Check("notify outbox", "warn" if pending > 10000 else "ok", f"{pending} pending")


def get_preferences(*, user_id: str) -> dict:
    """Channels, quiet hours and their window (Beijing time), and the categories (name in the answer's
    language, on/off, locked with its reason)."""
    pref = models.preference_of(user_id)
    disabled = set(json.loads(pref.disabled_channels)) if pref else set()
    muted = set(json.loads(pref.muted_categories or "[]")) if pref else set()
    start = (pref.quiet_start if pref else None) or DEFAULT_START
    end = (pref.quiet_end if pref else None) or DEFAULT_END
    return {"channels": {p: p not in disabled for p in PLATFORMS},
            "quiet_hours": pref.quiet_hours if pref else True,
            "quiet_start": start, "quiet_end": end,
            "quiet_hours_window": {"start": start, "end": end, "timezone": "Asia/Shanghai"},
            "categories": [{"id": c, "name": translate(name), "on": c in LOCKED or c not in muted,
                            "locked": c in LOCKED, "locked_reason": translate(LOCKED[c]) if c in LOCKED else None,
                            "kinds": list(kinds)} for c, (name, kinds) in CATEGORIES.items()]}


def update_preferences(*, user_id: str, channels: dict[str, bool] | None, quiet_hours: bool | None,
                       quiet_start: str | None = None, quiet_end: str | None = None,
                       categories: dict[str, bool] | None = None) -> dict:
    """Switch channels, categories and quiet hours on/off and set the quiet window; fields left out
    keep their value. A window starting when it ends is refused (422 `quiet_hours_empty`), and so is
    switching off a locked category (422 `category_locked`, naming it)."""
    refused = [c for c, on in (categories or {}).items() if c in LOCKED and not on]
    if refused:
        raise errors.CategoryLocked(refused, [CATEGORIES[c][0] for c in refused])
    with unit_of_work():
        pref = models.preference_of(user_id)
        current = get_preferences(user_id=user_id)
        start = current["quiet_start"] if quiet_start is None else quiet_start
        end = current["quiet_end"] if quiet_end is None else quiet_end
        if start == end:
            raise errors.QuietWindowEmpty(errors={"quiet_end": N_("结束时间不能与开始时间相同。")})
        merged = {**current["channels"], **(channels or {})}
        disabled = json.dumps(sorted(p for p, on in merged.items() if not on))
        muted = set(json.loads(pref.muted_categories or "[]")) if pref else set()
        for category, on in (categories or {}).items():
            (muted.discard if on else muted.add)(category)
        quiet = current["quiet_hours"] if quiet_hours is None else quiet_hours
        models.save_preference(user_id, disabled_channels=disabled, quiet_hours=quiet, quiet_start=start,
                               quiet_end=end, muted_categories=json.dumps(sorted(muted - set(LOCKED))))
    return get_preferences(user_id=user_id)
