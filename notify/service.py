"""Notification use cases for the citizen API: devices, the inbox, preferences.

Services take the actor's id from the route and never read the request.
"""
from __future__ import annotations

import json
import re

from flask import current_app

from app.db import db, execute, insert_row, new_id, select_where, utcnow
from app.identity.models import User, WeChatIdentity
from notify import errors
from notify.delivery import TOKEN_COLUMN
from notify.inbox import INBOX_COLUMNS, inbox_item
from notify.lease import to_db
from notify.models import PLATFORMS, Device, Preference
from notify.push.base import token_hint

_TOKEN_SHAPES = {
    "apns": re.compile(r"[0-9a-fA-F]{64,200}"),  # 32 bytes today; Apple says the length may grow
    "fcm": re.compile(r"[A-Za-z0-9_:\-.]{20,4096}"),
    "hms": re.compile(r"[A-Za-z0-9_:\-.]{20,512}"),
    "jpush": re.compile(r"[0-9A-Za-z]{10,64}"),  # registration id
    "wechat": re.compile(r"[A-Za-z0-9_\-]{16,64}"),  # the mini-program openid
    "sms": re.compile(r"1[3-9]\d{9}"),  # the account's own phone
}


def _cipher():
    return current_app.extensions["pii"]


def device_view(device: Device) -> dict:
    return {"id": device.id, "platform": device.platform, "token_hint": device.token_hint,
            "created_at": device.created_at, "updated_at": device.updated_at}


def _check_token(user_id: str, platform: str, token: str) -> None:
    if platform not in current_app.extensions["notify"].channels:
        raise errors.PlatformUnavailable()
    if not _TOKEN_SHAPES[platform].fullmatch(token):
        raise errors.DeviceTokenInvalid(errors={"token": "格式不正确。"})
    if platform == "wechat" and not WeChatIdentity.select().where(
            (WeChatIdentity.openid == token) & (WeChatIdentity.user == user_id)).exists():
        raise errors.DeviceTokenInvalid(errors={"token": "该 openid 未与当前账号绑定。"})
    if platform == "sms":
        user = select_where(User, id=user_id)
        if user is None or user.phone_bidx != _cipher().blind_index("phone", token):
            raise errors.DeviceTokenInvalid(errors={"token": "只能使用当前账号绑定的手机号。"})


def register_device(*, user_id: str, platform: str, token: str) -> tuple[dict, bool]:
    """Register a push target (idempotent by token); a token already known moves to this user.
    Returns (device, created)."""
    _check_token(user_id, platform, token)
    bidx = _cipher().blind_index("push-token", f"{platform}:{token}")
    now = utcnow()
    with db.atomic():
        created = insert_row(Device, ignore_conflict=True, id=new_id("dev"), user_id=user_id, platform=platform,
                             token_bidx=bidx, token_enc=_cipher().encrypt(token, TOKEN_COLUMN),
                             token_hint=token_hint(token), created_at=now, updated_at=now)
        if created is not None:
            return device_view(created), True
        Device.update(user_id=user_id, updated_at=now).where(Device.token_bidx == bidx).execute()
        return device_view(select_where(Device, token_bidx=bidx)), False


def remove_device(*, user_id: str, device_id: str) -> None:
    with db.atomic():
        if not Device.delete().where((Device.id == device_id) & (Device.user_id == user_id)).execute():
            raise errors.DeviceNotFound()


def list_devices(*, user_id: str) -> list[dict]:
    return [device_view(d) for d in Device.select().where(Device.user_id == user_id).order_by(Device.created_at)]


def list_notifications(*, user_id: str, limit: int, cursor: str | None, unread_only: bool) -> dict:
    """Newest first; `next_cursor` continues below the last item."""
    before = _cursor(cursor)
    sql = f'SELECT {INBOX_COLUMNS} FROM "notify_inbox" WHERE user_id = ? AND id < ?'
    sql += " AND read_at IS NULL" if unread_only else ""
    rows = execute(sql + " ORDER BY id DESC LIMIT ?", (user_id, before, limit + 1)).fetchall()
    items = [inbox_item(r) for r in rows[:limit]]
    return {"items": items, "next_cursor": items[-1]["id"] if len(rows) > limit else None}


def _cursor(cursor: str | None) -> int:
    if not cursor:
        return 2 ** 62
    if not cursor.isdigit() or len(cursor) > 18:
        raise errors.CursorInvalid()
    return int(cursor)


def unread_count(*, user_id: str) -> int:
    return int(execute('SELECT COUNT(*) FROM "notify_inbox" WHERE user_id = ? AND read_at IS NULL',
                       (user_id,)).fetchone()[0])


def mark_read(*, user_id: str, entry_id: str) -> dict:
    """Mark one notice read (idempotent: reading it again keeps the first time)."""
    if not entry_id.isdigit() or len(entry_id) > 18:
        raise errors.NotificationNotFound()
    with db.atomic():
        execute('UPDATE "notify_inbox" SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL',
                (to_db(utcnow()), int(entry_id), user_id))
        row = execute(f'SELECT {INBOX_COLUMNS} FROM "notify_inbox" WHERE id = ? AND user_id = ?',
                      (int(entry_id), user_id)).fetchone()
    if row is None:
        raise errors.NotificationNotFound()
    return inbox_item(row)


def mark_all_read(*, user_id: str) -> int:
    with db.atomic():
        return execute('UPDATE "notify_inbox" SET read_at = ? WHERE user_id = ? AND read_at IS NULL',
                       (to_db(utcnow()), user_id)).rowcount


def get_preferences(*, user_id: str) -> dict:
    pref = select_where(Preference, user_id=user_id)
    disabled = set(json.loads(pref.disabled_channels)) if pref else set()
    return {"channels": {p: p not in disabled for p in PLATFORMS},
            "quiet_hours": pref.quiet_hours if pref else True,
            "quiet_hours_window": {"start": "22:00", "end": "08:00", "timezone": "Asia/Shanghai"}}


def update_preferences(*, user_id: str, channels: dict[str, bool] | None, quiet_hours: bool | None) -> dict:
    """Switch channels on/off and quiet hours on/off; fields left out keep their value."""
    with db.atomic():
        current = get_preferences(user_id=user_id)
        merged = {**current["channels"], **(channels or {})}
        disabled = json.dumps(sorted(p for p, on in merged.items() if not on))
        quiet = current["quiet_hours"] if quiet_hours is None else quiet_hours
        Preference.insert(user_id=user_id, disabled_channels=disabled, quiet_hours=quiet,
                          updated_at=utcnow()).on_conflict(
            conflict_target=[Preference.user_id],
            update={Preference.disabled_channels: disabled, Preference.quiet_hours: quiet,
                    Preference.updated_at: utcnow()}).execute()
    return get_preferences(user_id=user_id)
