"""Fixed-window rate limits in Redis, checked and consumed atomically.

`consume([...])` either counts one hit against every limit or, when any limit
is already reached, counts nothing and answers how long until it resets.
`script_with_limits(body)` prefixes another Lua script with the same check, so
a hot path (SMS login) limits and acts in one round trip.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import TooManyRequests
from app.redis import get_redis

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

_scripts: dict[tuple[int, str], Any] = {}  # registered once per client and script


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window: int  # seconds
    code: str = "rate_limited"
    detail: str = "操作过于频繁，请稍后再试。"


def script_with_limits(body: str) -> Any:
    """A registered Lua script: `check_limits(n)` is defined for `body` to call."""
    redis = get_redis()
    script = _scripts.get((id(redis), body))
    if script is None:
        script = _scripts[(id(redis), body)] = redis.register_script(_CHECK_LIMITS + body)
    return script


def limit_keys_and_args(limits: list[Limit]) -> tuple[list[str], list[int]]:
    args: list[int] = []
    for limit in limits:
        args += [limit.limit, limit.window]
    return [f"rl:{limit.key}" for limit in limits], args


def raise_if_limited(limits: list[Limit], index: int, ttl: int) -> None:
    """Turn a `check_limits` answer into 429 naming the limit that was reached."""
    if index:
        limit = limits[int(index) - 1]
        raise TooManyRequests(int(ttl), limit.detail, code=limit.code)


def consume(limits: list[Limit]) -> None:
    """Count one hit against all `limits`, or raise 429 (nothing counted) naming the first one reached."""
    keys, args = limit_keys_and_args(limits)
    index, ttl = script_with_limits(_CONSUME)(keys=keys, args=args)
    raise_if_limited(limits, index, ttl)


def reset(key: str) -> None:
    get_redis().delete(f"rl:{key}")
