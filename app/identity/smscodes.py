"""One-time SMS codes (短信验证码) kept in Redis, hashed.

A code: 6 digits from `secrets`, stored as HMAC-SM3(key, phone-index ‖ code),
alive `SMS_CODE_TTL` seconds, consumed by the first right answer, and dead
after `SMS_CODE_MAX_TRIES` wrong ones. Checking and consuming is one Lua
script, so two concurrent logins with the same code cannot both succeed.
"""
from __future__ import annotations

import secrets
from enum import Enum

from flask import current_app

from app import ratelimit
from app.redis import get_redis
from app.security.pii import hmac_sm3

# KEYS: the rate-limit counters, then the code's key (last); ARGV: the limits' pairs, then the
# candidate digest and the number of tries allowed. Limits are counted first, in the same call.
_VERIFY = """
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


class CodeCheck(str, Enum):
    OK = "ok"
    MISSING = "missing"  # never sent, expired or already used
    WRONG = "wrong"
    DEAD = "dead"  # this wrong answer used up the last try


def _key(phone_index: str) -> str:
    return f"sms:code:{phone_index}"


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
    """Count `limits` (429 when one is reached: the code is then not tried) and check the code,
    in one Redis round trip."""
    keys, args = ratelimit.limit_keys_and_args(list(limits))
    answer = ratelimit.script_with_limits(_VERIFY)(
        keys=[*keys, _key(phone_index)],
        args=[*args, _digest(phone_index, code), current_app.config["SMS_CODE_MAX_TRIES"]],
    )
    if answer[0] == "limited":
        ratelimit.raise_if_limited(list(limits), answer[1], answer[2])
    return CodeCheck(answer[0])
