"""One-time SMS codes (短信验证码) kept in Redis, hashed.

A code: 6 digits from `secrets`, stored as HMAC-SM3(key, phone-index ‖ code),
alive `SMS_CODE_TTL` seconds, consumed by the first right answer, and dead
after `SMS_CODE_MAX_TRIES` wrong ones. Checking and consuming is one Lua
script, so two concurrent logins with the same code cannot both succeed.

The key `sms:{<phone index>}:code` carries the phone index as its hash tag, as do the phone's
rate-limit counters (`rl:sms:{<phone index>}:…`): under Redis Cluster they live in one slot.
"""
from __future__ import annotations

import secrets
from enum import Enum
from typing import Any

from flask import current_app

from app import ratelimit
from app.redis import get_redis, one_slot_per_call
from app.security.pii import hmac_sm3

# KEYS[1]: the code's key; ARGV: the candidate digest and the number of tries allowed.
_VERIFY = """
local key = KEYS[1]
local h = redis.call('HGET', key, 'h')
if not h then return 'missing' end
if h == ARGV[1] then redis.call('DEL', key) return 'ok' end
local tries = redis.call('HINCRBY', key, 'tries', 1)
if tries >= tonumber(ARGV[2]) then redis.call('DEL', key) return 'dead' end
return 'wrong'
"""
# Single server / Sentinel only (keys of several slots): the limits (KEYS[1..n]) are counted first,
# then the code (KEYS[n+1]) is checked as in _VERIFY; ARGV: the limits' pairs, the digest, the tries.
_LIMITS_THEN_VERIFY_STANDALONE = """
local n = #KEYS - 1
local limited, ttl = check_limits(n)
if limited > 0 then return {'limited', limited, ttl} end
local key = KEYS[#KEYS]
local h = redis.call('HGET', key, 'h')
if not h then return {'missing'} end
if h == ARGV[2 * n + 1] then redis.call('DEL', key) return {'ok'} end
local tries = redis.call('HINCRBY', key, 'tries', 1)
if tries >= tonumber(ARGV[2 * n + 2]) then redis.call('DEL', key) return {'dead'} end
return {'wrong'}
"""
_scripts: dict[int, Any] = {}


class CodeCheck(str, Enum):
    OK = "ok"
    MISSING = "missing"  # never sent, expired or already used
    WRONG = "wrong"
    DEAD = "dead"  # this wrong answer used up the last try


def _key(phone_index: str) -> str:
    return f"sms:{{{phone_index}}}:code"


def _digest(phone_index: str, code: str) -> str:
    return hmac_sm3(current_app.extensions["sms_code_key"], f"{phone_index}:{code}".encode()).hex()


def new_code(phone_index: str) -> str:
    """Create a fresh code for the phone (replacing any earlier one) and return it."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    key = _key(phone_index)
    pipe = get_redis().pipeline()
    pipe.delete(key)
    pipe.hset(key, mapping={"h": _digest(phone_index, code), "tries": 0})
    pipe.expire(key, current_app.config["SMS_CODE_TTL"])
    pipe.execute()
    return code


def discard(phone_index: str) -> None:
    get_redis().delete(_key(phone_index))


def check(phone_index: str, code: str, limits: list[ratelimit.Limit] = ()) -> CodeCheck:
    """Count `limits` (429 when one is reached: the code is then not tried), then check the code.

    One round trip on a single server or Sentinel; two under Redis Cluster, where the limits
    given (per IP) live in other hash slots than the code."""
    redis = get_redis()
    limits = list(limits)
    digest, tries = _digest(phone_index, code), current_app.config["SMS_CODE_MAX_TRIES"]
    if limits and not one_slot_per_call(redis):
        keys, args = ratelimit.limit_keys_and_args(limits)
        answer = ratelimit.script_with_limits(_LIMITS_THEN_VERIFY_STANDALONE)(
            keys=[*keys, _key(phone_index)], args=[*args, digest, tries])
        if answer[0] == "limited":
            ratelimit.raise_if_limited(limits, answer[1], answer[2])
        return CodeCheck(answer[0])
    ratelimit.consume(limits)
    script = _scripts.get(id(redis))
    if script is None:
        script = _scripts[id(redis)] = redis.register_script(_VERIFY)
    answer = script(keys=[_key(phone_index)], args=[digest, tries])
    return CodeCheck(answer)
