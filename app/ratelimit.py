"""Fixed-window rate limits in Redis, checked and consumed atomically.

`consume([...])` either counts one hit against every limit or, when any limit
is already reached, counts nothing and answers how long until it resets.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.errors import TooManyRequests
from app.redis import get_redis

# KEYS: counters; ARGV: limit1, window1, limit2, window2, ...
_SCRIPT = """
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then ttl = tonumber(ARGV[2 * i]) end
    return {i, ttl}
  end
end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then
    redis.call('EXPIRE', key, tonumber(ARGV[2 * i]))
  end
end
return {0, 0}
"""


_scripts: dict[int, object] = {}  # one registered script per client


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window: int  # seconds
    code: str = "rate_limited"
    detail: str = "操作过于频繁，请稍后再试。"


def consume(limits: list[Limit]) -> None:
    """Count one hit against all `limits`, or raise 429 (nothing counted) naming the first one reached."""
    redis = get_redis()
    script = _scripts.get(id(redis))
    if script is None:
        script = _scripts[id(redis)] = redis.register_script(_SCRIPT)
    args: list[int] = []
    for limit in limits:
        args += [limit.limit, limit.window]
    index, ttl = script(keys=[f"rl:{l.key}" for l in limits], args=args)
    if index:
        limit = limits[int(index) - 1]
        raise TooManyRequests(int(ttl), limit.detail, code=limit.code)


def reset(key: str) -> None:
    get_redis().delete(f"rl:{key}")
