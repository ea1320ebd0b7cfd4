"""Development push channel: delivers to the log (the inbox entry already exists)."""
from __future__ import annotations

import logging
import threading
from collections import deque

from notify.push.base import PushMessage, token_hint

log = logging.getLogger(__name__)


class LogPushChannel:
    """Writes each push to the log (token shortened) and keeps the last 1,000 for inspection."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: deque[tuple[str, PushMessage]] = deque(maxlen=1000)
        self._lock = threading.Lock()
        self.count = 0

    def send(self, token: str, message: PushMessage) -> None:
        with self._lock:
            self.sent.append((token_hint(token), message))
            self.count += 1
        log.info("push delivered (development log channel)", extra={
            "channel": self.name, "token": token_hint(token), "kind": message.kind, "title": message.title})
