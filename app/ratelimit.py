"""Fixed-window rate limits in Redis, checked and consumed atomically.

`consume([...])` either counts one hit against every limit or, when any limit
is already reached, counts nothing and answers how long until it resets.
`script_with_limits(body)` prefixes another Lua script with the same check, so
a hot path (the map search) limits and acts in one round trip.

Redis Cluster runs a script only on keys of one hash slot (a single server or Sentinel counts
every limit in one script, one round trip). The counters of one subject share a
hash tag (`rl:sms:{<phone index>}:cooldown`, `…:phone-hour`, `…:phone-day`); `consume` checks
and counts each slot's limits in one script, slot after slot in the order given, and when a
later slot's limit is reached it takes back the hits already counted, so a refused request
still counts nothing (a concurrent request may see them for that moment). The limits given to
`script_with_limits` must share the slot of the script's own keys (tests/test_redis_keys.py).

`Backoff` is the other shape: no fixed quota, but a wait that grows with each failure of one
subject (a password guessed at from one address) and is forgotten after a quiet window.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from redis.crc import key_slot

from app.errors import TooManyRequests
from app.i18n import N_
from app.redis import get_redis, one_slot_per_call

# The first `n` KEYS are counters; ARGV[1..2n] are limit1, window1, limit2, window2, ...
# Returns the 1-based index of the first limit reached and its TTL, or 0, 0 after counting.
_CHECK_LIMITS = """
local function check_limits(n)
  for i = 1, n do
    local used = tonumber(redis.call('GET', KEYS[i]) or '0')
    if used >= tonumber(ARGV[2 * i - 1]) then
      local ttl = redis.call('TTL', KEYS[i])
      if ttl < 1 then ttl = tonumber(ARGV[2 * i]) end
      return i, ttl
    end
  end
  for i = 1, n do
    if redis.call('INCR', KEYS[i]) == 1 then
      redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 * i]))
    end
  end
  return 0, 0
end
"""

_CONSUME = """
local i, ttl = check_limits(#KEYS)
return {i, ttl}
"""

# Takes back one hit from each counter still alive (a missing one is not recreated without a TTL).
_REFUND = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECR', KEYS[i]) end
end
"""

_scripts: dict[tuple[int, str], Any] = {}  # registered once per client and script


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window: int  # seconds
    code: str = "rate_limited"
    detail: str = N_("操作过于频繁，请稍后再试。")
    # (seconds until it resets) → detail (a Text, app/i18n.py), for a limit whose message says when
    explain: Callable[[int], str] | None = None


def _registered(source: str) -> Any:
    redis = get_redis()
    script = _scripts.get((id(redis), source))
    if script is None:
        script = _scripts[(id(redis), source)] = redis.register_script(source)
    return script


def script_with_limits(body: str) -> Any:
    """A registered Lua script: `check_limits(n)` is defined for `body` to call."""
    return _registered(_CHECK_LIMITS + body)


def limit_keys_and_args(limits: list[Limit]) -> tuple[list[str], list[int]]:
    args: list[int] = []
    for limit in limits:
        args += [limit.limit, limit.window]
    return [f"rl:{limit.key}" for limit in limits], args


def raise_if_limited(limits: list[Limit], index: int, ttl: int) -> None:
    """Turn a `check_limits` answer into 429 naming the limit that was reached."""
    if index:
        limit = limits[int(index) - 1]
        if limit.explain is not None:
            raise TooManyRequests(int(ttl), limit.explain(max(1, int(ttl))), code=limit.code)
        raise TooManyRequests(int(ttl), limit.detail, code=limit.code)


def by_slot(limits: list[Limit]) -> list[list[Limit]]:
    """`limits` grouped by the Redis Cluster hash slot of their counters, in order of appearance."""
    groups: dict[int, list[Limit]] = {}
    for limit in limits:
        groups.setdefault(key_slot(f"rl:{limit.key}".encode()), []).append(limit)
    return list(groups.values())


def consume(limits: list[Limit]) -> None:
    """Count one hit against all `limits`, or raise 429 (nothing counted) naming the first one
    reached (the first of its slot's group: groups are checked in the order they appear)."""
    redis = get_redis()
    counted: list[list[str]] = []
    for group in by_slot(limits) if one_slot_per_call(redis) else [list(limits)]:
        keys, args = limit_keys_and_args(group)
        index, ttl = script_with_limits(_CONSUME)(keys=keys, args=args)
        if index:
            for earlier in counted:
                _registered(_REFUND)(keys=earlier)
            raise_if_limited(group, index, ttl)
        counted.append(keys)


def reset(key: str) -> None:
    get_redis().delete(f"rl:{key}")


# --- Progressive delays after failures (a password guessed at, per subject) ----------------------

# Each KEYS[i] is a hash {f: failures, last: ms of the last one, until: ms before which the subject
# waits}; ARGV[1] is now (ms), then free, base (ms), max (ms), window (s) per key. A failure more than
# `window` after the previous one starts the count again. Returns failures and delay (ms) per key.
_RECORD_FAILURE = """
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local free, base, max, window = tonumber(ARGV[4 * i - 2]), tonumber(ARGV[4 * i - 1]),
    tonumber(ARGV[4 * i]), tonumber(ARGV[4 * i + 1])
  local f = tonumber(redis.call('HGET', KEYS[i], 'f') or '0')
  local last = tonumber(redis.call('HGET', KEYS[i], 'last') or '0')
  if now - last > window * 1000 then f = 0 end
  f = f + 1
  local delay = 0
  if f > free then delay = math.min(base * 2 ^ math.min(f - free - 1, 30), max) end
  redis.call('HSET', KEYS[i], 'f', f, 'last', now, 'until', now + delay)
  redis.call('EXPIRE', KEYS[i], window + math.ceil(max / 1000))
  out[2 * i - 1], out[2 * i] = f, delay
end
return out
"""


@dataclass(frozen=True)
class Backoff:
    """A subject that waits longer after each failure: the first `free` failures cost nothing, then
    the wait doubles from `base` up to `cap` seconds; `window` seconds without a failure forget them."""
    key: str
    free: int
    base: float
    cap: float
    window: int


@dataclass(frozen=True)
class Failure:
    backoff: Backoff
    failures: int
    delay: float  # seconds the subject now waits (0: none)


def now_ms() -> int:
    return int(time.time() * 1000)


def backoff_wait(backoffs: list[Backoff]) -> tuple[Backoff, int] | None:
    """The first of `backoffs` still waiting and the whole seconds left, or None. Counts nothing.
    The keys of one call share a hash slot (one pipeline round trip, Cluster-safe)."""
    pipe = get_redis().pipeline(transaction=False)
    for backoff in backoffs:
        pipe.hget(f"bo:{backoff.key}", "until")
    now = now_ms()
    for backoff, until in zip(backoffs, pipe.execute()):
        if until is not None and float(until) > now:
            return backoff, max(1, math.ceil((float(until) - now) / 1000))
    return None


def record_failure(backoffs: list[Backoff]) -> list[Failure]:
    """Count one failure against every backoff (atomically; one hash slot) and set its next wait."""
    args: list[float] = [now_ms()]
    for b in backoffs:
        args += [b.free, int(b.base * 1000), int(b.cap * 1000), b.window]
    answer = _registered(_RECORD_FAILURE)(keys=[f"bo:{b.key}" for b in backoffs], args=args)
    return [Failure(b, int(answer[2 * i]), int(answer[2 * i + 1]) / 1000) for i, b in enumerate(backoffs)]


def forget_failures(backoff: Backoff) -> None:
    get_redis().delete(f"bo:{backoff.key}")
