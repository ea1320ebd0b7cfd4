"""How many live streams may be open: per process (a slot count) and per citizen (Redis leases).

Per process: `STREAM_MAX_PER_PROCESS` slots, counted in memory (they die with the process). A stream
that finds none answers 503 `stream_capacity` with `Retry-After`, before the server's pool is
exhausted (under gunicorn the cap is half the threads: gunicorn.conf.py).

Per citizen: `STREAM_MAX_PER_USER` (3) leases in a sorted set `notify:streams:{<user id>}`, one
member per open stream (`<opened at, ms>:<stream id>`) scored by its lease's expiry. A stream renews
its lease on every heartbeat; a process that dies leaves leases that simply expire, so nothing
leaks. Opening one stream more than the cap closes the oldest: its id is published on
`notify:stream-control:<user id>`, and whichever process holds it ends it with a final
`event: end` (`reason: stream_limit`). A stream whose lease is gone when it renews (evicted while
the message was lost, or expired under a stalled process) ends the same way.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from app.db import new_id
from app.redis import RedisClient, publish_many

USER_KEY = "notify:streams:{{{}}}"  # hash-tagged: one slot under Redis Cluster
CONTROL_CHANNEL = "notify:stream-control:{}"

# KEYS[1] the user's set; ARGV now, expiry, member, cap, key ttl. Drops expired leases, adds this one,
# and removes (and returns) the oldest members beyond the cap, never the one just added.
_OPEN_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(members)
local evicted = {}
local over = #members - tonumber(ARGV[4])
for i = 1, #members do
  if over <= 0 then break end
  if members[i] ~= ARGV[3] then
    redis.call('ZREM', KEYS[1], members[i])
    table.insert(evicted, members[i])
    over = over - 1
  end
end
return evicted
"""


class ProcessStreams:
    """This process's stream slots (thread-safe; the asyncio server calls it from its loop only)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(0, int(limit))
        self.open = 0
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.open = max(0, self.open - 1)


def stream_id_of(member: str) -> str:
    return member.partition(":")[2]


@dataclass
class UserStreamLease:
    """One open stream's place among its citizen's streams (see the module docstring)."""

    redis: RedisClient
    user_id: str
    cap: int
    ttl: float  # seconds a lease lives without a renewal: a few heartbeats
    wall: Callable[[], float] = time.time
    stream_id: str = field(default_factory=lambda: new_id("sse"))
    member: str = ""

    @property
    def key(self) -> str:
        return USER_KEY.format(self.user_id)

    @property
    def control_channel(self) -> str:
        return CONTROL_CHANNEL.format(self.user_id)

    def open(self) -> list[str]:
        """Take a lease; close the oldest streams beyond the cap. The ids of the streams closed."""
        now = self.wall()
        self.member = f"{int(now * 1000):015d}:{self.stream_id}"
        evicted = self.redis.register_script(_OPEN_SCRIPT)(
            keys=[self.key], args=[now, now + self.ttl, self.member, self.cap, int(self.ttl) + 60])
        closed = [stream_id_of(m) for m in evicted or ()]
        if closed:
            publish_many(self.redis, [(self.control_channel, stream_id) for stream_id in closed])
        return closed

    def renew(self) -> bool:
        """Extend the lease; False when it is gone (this stream was closed to make room, or expired)."""
        # XX: never re-adds a lease that was taken away. CH counts a changed score; a score that did
        # not change (the same wall second twice) is confirmed by ZSCORE.
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.key, {self.member: self.wall() + self.ttl}, xx=True, ch=True)
        pipe.zscore(self.key, self.member)
        _changed, score = pipe.execute()
        return score is not None

    def release(self) -> None:
        self.redis.zrem(self.key, self.member)

    def open_count(self) -> int:
        """Live leases (for tests and `notify stats`)."""
        return int(self.redis.zcount(self.key, self.wall(), "+inf"))
