"""What both stream servers (the Flask route and `notify stream-server`) say and decide, without I/O.

A stream subscribes to three channels: the citizen's live events (`notify:user:<id>`), its session's
revocation (`auth:session-revoked:<sid>`, published at logout and refresh-token reuse) and the
citizen's stream control (`notify:stream-control:<id>`: a newer stream closed this one). It ends
with a final `event: end` whose `data` names the reason:

- `session_revoked`: the session was logged out or revoked (the message, or the re-check made on
  every heartbeat); reconnecting with the same token gets 401.
- `stream_limit`: the citizen opened a fourth stream; this, the oldest, was closed. The final event
  carries `retry: 600000` so a browser's EventSource waits 10 minutes instead of taking a slot back.
"""
from __future__ import annotations

import json
from typing import Any

from app.i18n import DEFAULT
from app.security.auth import SESSION_REVOKED_CHANNEL
from notify.inbox import for_reader
from notify.ingest import CHANNEL
from notify.limits import CONTROL_CHANNEL

_RETRY_AFTER_END_MS = {"stream_limit": 600_000}


def event(item: dict) -> str:
    return f"id: {item['id']}\nevent: notification\ndata: {json.dumps(item, ensure_ascii=False, separators=(',', ':'))}\n\n"


def end_event(reason: str) -> str:
    retry = _RETRY_AFTER_END_MS.get(reason)
    prefix = f"retry: {retry}\n" if retry else ""
    return f"{prefix}event: end\ndata: {json.dumps({'reason': reason})}\n\n"


def channels(*, user_id: str, session_id: str | None) -> list[str]:
    names = [CHANNEL.format(user_id), CONTROL_CHANNEL.format(user_id)]
    if session_id:
        names.append(SESSION_REVOKED_CHANNEL.format(session_id))
    return names


class StreamState:
    """One stream's bookkeeping: the language its events are worded in, which entries went out (events are at least once, never twice on
    one connection), the highest id sent, and what a pub/sub message means for it."""

    def __init__(self, *, user_id: str, session_id: str | None, stream_id: str, last: int,
                 lang: str = DEFAULT) -> None:
        self.lang = lang  # the connection's language (its Accept-Language): events are worded in it
        self.user_channel = CHANNEL.format(user_id)
        self.control_channel = CONTROL_CHANNEL.format(user_id)
        self.session_channel = SESSION_REVOKED_CHANNEL.format(session_id) if session_id else None
        self.stream_id = stream_id
        self.last = last
        self.sent: set[int] = set()

    def emit(self, item: dict) -> str | None:
        entry_id = int(item["id"])
        if entry_id in self.sent:
            return None
        self.sent.add(entry_id)
        self.last = max(self.last, entry_id)
        return event(for_reader(item, self.lang))

    def handle(self, message: dict[str, Any] | None) -> tuple[str | None, str | None]:
        """A pub/sub message → (chunk to send, reason to end)."""
        if message is None or message.get("type") != "message":
            return None, None
        channel, data = _text(message.get("channel")), _text(message.get("data"))
        if channel == self.user_channel:
            return self.emit(json.loads(data)), None
        if channel == self.session_channel:
            return None, "session_revoked"
        if channel == self.control_channel and data == self.stream_id:
            return None, "stream_limit"
        return None, None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
