"""How many live streams may be open: per process (a slot count) and per citizen (Redis leases).

Per process: `STREAM_MAX_PER_PROCESS` slots, counted in memory (they die with the process). A stream
that finds none answers 503 `stream_capacity` with `Retry-After`, before the server's pool is
exhausted (under gunicorn the cap is half the threads: gunicorn.conf.py).

Per citizen: `STREAM_MAX_PER_USER` (3) leases in a sorted set `notify:streams:{<user id>}`, one
member per open stream (`<opened at, ms>:<stream id>`) scored by its lease's expiry. A stream renews
its lease on every heartbeat; a process that dies leaves leases that simply expire, so nothing
leaks. Opening one stream more than the cap closes the oldest: its id is published on
`notify:stream-control:<user id>`, and whichever process holds it ends it with a final
`event: end` (`reason: stream_limit`); the stream ids closed are also kept (`…:closed`) until their
leases would have expired, so a stream that missed the message ends at its next renewal. A lease gone
for another reason (Redis lost its data, or it expired under a stalled process) is taken again at the
next renewal if the citizen has room, else the stream ends the same way.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from app.db import new_id
from app.redis import RedisClient, publish_many

USER_KEY = "notify:streams:{{{}}}"  # hash-tagged: one slot under Redis Cluster
CLOSED_KEY = "notify:streams:{{{}}}:closed"  # streams closed to make room, until their leases would expire
CONTROL_CHANNEL = "notify:stream-control:{}"

# KEYS[1] the citizen's open streams, KEYS[2] those closed to make room; ARGV now, expiry, member, cap,
# key ttl, mode. Drops expired leases first. "open": adds the lease and closes the oldest others beyond
# the cap. "renew": extends the lease; a lease that is gone (Redis lost its data, or it expired under a
# stalled process) comes back if there is room, but never one that was closed to make room.
# Answers {"open"|"closed", closed members...}.
_LEASE_SCRIPT = """
if redis.call('SISMEMBER', KEYS[2], ARGV[3]) == 1 then return {'closed'} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local cap = tonumber(ARGV[4])
if ARGV[6] == 'renew' and not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= cap then
  return {'closed'}
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(members)
local answer = {'open'}
local over = #members - cap
for i = 1, #members do
  if over <= 0 then break end
  if members[i] ~= ARGV[3] then
    redis.call('ZREM', KEYS[1], members[i])
    redis.call('SADD', KEYS[2], members[i])
    table.insert(answer, members[i])
    over = over - 1
  end
end
if #answer > 1 then redis.call('EXPIRE', KEYS[2], ARGV[5]) end
return answer
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
        return self._lease(now, "open") or []

    def renew(self) -> bool:
        """Extend the lease (taken again after Redis lost its data); False when this stream was closed
        to make room, or its lease expired while the citizen's other streams filled the cap."""
        return self._lease(self.wall(), "renew") is not None

    def _lease(self, now: float, mode: str) -> list[str] | None:
        answer = self.redis.register_script(_LEASE_SCRIPT)(
            keys=[self.key, CLOSED_KEY.format(self.user_id)],
            args=[now, now + self.ttl, self.member, self.cap, int(self.ttl) + 60, mode])
        if answer[0] == "closed":
            return None
        closed = [stream_id_of(m) for m in answer[1:]]
        if closed:
            publish_many(self.redis, [(self.control_channel, stream_id) for stream_id in closed])
        return closed

    def release(self) -> None:
        self.redis.zrem(self.key, self.member)
