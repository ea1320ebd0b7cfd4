"""Assurance levels L0–L4 and their freshness (issue 19, design D1/D2).

Every time an account proves a level — an SMS login (L1), a registry match (L2), a face check (L3),
网证 (R01–R04), a clerk's in-person check at the counter (L4), an SMS step-up code (a fresh L2) —
`record_assurance` writes an `identity_assurance_event` row and raises the account's *standing*
level (the highest ever reached; it never decays). An operation that wants a recent proof ("L3
within 600 s") asks `require_level(..., max_age=600)`: freshness is read from the events on the
server, so no token is re-issued and a frozen clock in tests is all it takes.

Two refusals, both 403 with the same fields (CONTRACTS A): `assurance_level_insufficient` (the
level was never reached: verify first) and `step_up_required` (reached, but not recently enough:
step up at `step_up_url` and retry the request unchanged). Operation policies live in one table,
config `ASSURANCE_POLICY`, so the OpenAPI descriptions and the checks cannot drift apart.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app, has_app_context

from app import audit, ratelimit
from app.config import DEFAULTS
from app.db import unit_of_work, utcnow
from app.i18n import T_
from app.ratelimit import Limit
from app.redis import get_redis
from identity import models
from identity.accounts import get_user, user_view
from identity.errors import AssuranceInsufficient, IdentityCodeInvalid, StepUpRequired

# The highest level each method can prove (D1). "ncid:R03" reaches L4 only for an account already
# standing at L3 (identity.ncid.level_for decides); "sms_step_up" is a fresh L2, never more.
METHOD_MAX_LEVEL = {
    "sms": 1, "registry": 2, "face": 3, "sms_step_up": 2, "counter": 4,
    "ncid:R01": 2, "ncid:R02": 3, "ncid:R03": 4, "ncid:R04": 4,
}
# Methods that establish who the person is (fill `user.real_name_source` when it is still null).
_SOURCES = {"registry": "registry", "ncid:R01": "ncid", "ncid:R02": "ncid", "ncid:R03": "ncid", "ncid:R04": "ncid"}


def ref_hash(ref: str | None) -> str | None:
    return hashlib.sha256(ref.encode()).hexdigest() if ref is not None else None


def record_assurance(*, user_id: str, level: int, method: str, ref: str | None = None) -> None:
    """Record that the account proved `level` by `method` now (inside the caller's transaction) and
    raise its standing level to max(old, level). ValueError for an unknown method or a level the
    method cannot prove (a programming error: L4 comes only from the counter or 网证 R03/R04)."""
    cap = METHOD_MAX_LEVEL.get(method)
    if cap is None:
        raise ValueError(f"unknown assurance method {method!r}")
    if not isinstance(level, int) or not 0 <= level <= cap:
        raise ValueError(f"method {method!r} cannot prove level {level!r}")
    user = get_user(user_id)
    if method == "sms_step_up":
        # Possession of the bound phone is a fresh L2 only on an account that stands at L2 or above.
        level = min(level, verified_level(user_id))
    now = utcnow()
    models.insert_assurance_event(user_id=user.id, level=level, method=method, at=now, ref_hash=ref_hash(ref))
    if method != "sms_step_up":
        models.raise_standing_level(user.id, level, source=_SOURCES.get(method), now=now)


def record_sms_login(user_id: str) -> None:
    """An SMS login proved L1 now: one insert on the login's hot path (the account, created with a
    phone, stands at L1 already, so no standing update)."""
    models.insert_assurance_event(user_id=user_id, level=1, method="sms", at=utcnow(), ref_hash=None)


def verified_level(user_id: str) -> int:
    """The standing level of an account whose person is established (`real_name_source` set); an
    unverified account counts as at most L1 (a phone), whatever its row says."""
    return level_of(get_user(user_id))


def level_of(user: models.User) -> int:
    """`verified_level` of an account row already read."""
    return user.assurance_level if user.real_name_source is not None else min(user.assurance_level, 1)


def fresh_level(user_id: str, max_age: int) -> int:
    """The highest level the account proved within the last `max_age` seconds (0: none)."""
    return models.fresh_assurance_level(user_id, utcnow() - timedelta(seconds=max_age))


def require_level(user_id: str, level: int, *, max_age: int | None = None, purpose: str | None = None) -> None:
    """Pass when the account stands at `level` (and, with `max_age`, proved it within `max_age`
    seconds); else 403 AssuranceInsufficient (never reached) or StepUpRequired (not recently)."""
    current = verified_level(user_id)
    if current < level:
        raise AssuranceInsufficient(required_level=level, current_level=current, max_age=max_age, purpose=purpose)
    if max_age is not None and fresh_level(user_id, max_age) < level:
        raise StepUpRequired(required_level=level, current_level=current, max_age=max_age, purpose=purpose,
                             level_reached_at=_reached_at(user_id, level))


def require_policy(user_id: str, operation: str) -> None:
    """require_level with the operation's row of ASSURANCE_POLICY (its name is the step-up purpose)."""
    level, max_age = policy(operation)
    require_level(user_id, level, max_age=max_age, purpose=operation)


def _reached_at(user_id: str, level: int):
    found = models.level_reached_at(user_id, level)
    if found is not None:
        return found
    user = get_user(user_id)  # reached before events were recorded (accounts older than migration 032)
    return user.liveness_verified_at if level >= 3 else user.real_name_verified_at


def holder_index(user_id: str) -> str | None:
    """The account's ID-number blind index (blind_index("id", id_number)) for matching licences and
    cases, or None: no plaintext needed, and a 网号 account may hold only the index."""
    return get_user(user_id).id_number_bidx


def policy(operation: str) -> tuple[int, int | None]:
    """(level, max_age or None) an operation requires: config ASSURANCE_POLICY (KeyError: unknown);
    outside an app (OpenAPI descriptions at import) the documented default."""
    table = current_app.config["ASSURANCE_POLICY"] if has_app_context() else DEFAULTS["ASSURANCE_POLICY"]
    level, max_age = table[operation]
    return int(level), (int(max_age) if max_age is not None else None)


def policy_requirement(operation: str) -> dict:
    """auth_required's keywords for an operation of ASSURANCE_POLICY: `@auth_required(**policy_requirement("signing"))`
    (read when the route module loads: the documented default, DEFAULTS["ASSURANCE_POLICY"])."""
    level, max_age = policy(operation)
    return {"level": level, "max_age": max_age, "purpose": operation}


def policy_text(operation: str) -> str:
    """The policy as the OpenAPI descriptions state it (ASSURANCE_POLICY["<operation>"])."""
    level, max_age = policy(operation)
    fresh = f", proved within {max_age} s" if max_age is not None else ""
    return (f"Assurance (config ASSURANCE_POLICY[\"{operation}\"]): L{level}{fresh}; otherwise 403 "
            "`assurance_level_insufficient` or `step_up_required` (AssuranceProblem).")


def events_view(user_id: str, limit: int = 20) -> list[dict]:
    return [{"level": f"L{e.level}", "method": e.method, "at": e.at} for e in models.assurance_events(user_id, limit)]


def assurance_view(user_id: str) -> dict:
    """GET /me/assurance: the standing level, how the person was established, the last 20 events."""
    user = get_user(user_id)
    return {"level": f"L{verified_level(user_id)}", "source": user.real_name_source, "events": events_view(user_id)}


def step_up_options(user_id: str, *, required_level: int, max_age: int | None = None,
                    purpose: str | None = None) -> dict:
    """GET /me/step-up: the ways this account can prove `required_level` now. Face (L3) on a
    verified account when a liveness provider is configured; 网证 when the NCID platform is (L3, or
    L4 with R04); an SMS code only as a fresh L2, on an account standing at L2. L4 otherwise only at
    a counter (POST /me/identity-codes). Empty: verify first (the refusal's detail says how)."""
    cfg = current_app.config
    standing = verified_level(user_id)
    methods = []
    has_id = get_user(user_id).id_number_enc is not None  # a face is compared with the ID card's photo
    if standing >= 2 and has_id and required_level <= 3 and cfg.get("LIVENESS_BACKEND") not in (None, "", "none"):
        methods.append({"method": "face", "level": "L3", "start": {"method": "POST", "url": "/api/v1/me/liveness"}})
    if cfg.get("NCID_BACKEND") not in (None, "", "none"):
        methods.append({"method": "ncid", "level": "L4" if required_level >= 4 else "L3",
                        "start": {"method": "POST", "url": "/api/v1/me/ncid/sessions"}})
    if standing >= 2 and required_level <= 2:
        methods.append({"method": "sms", "level": "L2", "start": {"method": "POST", "url": "/api/v1/me/step-up/sms"}})
    return {"required_level": f"L{required_level}", "max_age": max_age, "purpose": purpose, "methods": methods}


def level_hook(user_id: str, level: int, max_age: int | None = None, purpose: str | None = None) -> None:
    """IdentityHooks.require_level: what `auth_required(level=…, max_age=…)` calls."""
    require_level(user_id, level, max_age=max_age, purpose=purpose)


# --- The counter's in-person check (L4) ------------------------------------------------------------
# The citizen shows a one-time 8-digit code (POST /me/identity-codes, 300 s, Redis); a clerk who has
# checked the person and their ID card against the account enters it (POST /counter/identity-checks).
# That is the only way to L4 beside 网证 R03/R04. Codes are single use (GETDEL), bound to one
# account, and a clerk's entries are limited per minute (8 digits in 300 s cannot be guessed).

IDENTITY_CODE_TTL = 300
_CODE_KEY = "identity-code:{}"
_EIGHT_DIGITS = re.compile(r"\d{8}")


def issue_identity_code(user_id: str) -> dict:
    """A fresh 8-digit code for this account (an earlier one stays valid until it expires)."""
    get_user(user_id)
    redis = get_redis()
    for _ in range(10):
        code = f"{secrets.randbelow(10**8):08d}"
        if redis.set(_CODE_KEY.format(code), user_id, ex=IDENTITY_CODE_TTL, nx=True):
            return {"code": code, "expires_in": IDENTITY_CODE_TTL}
    raise RuntimeError("no free identity code")  # 10 collisions in 10^8: the store is broken


def counter_identity_check(*, clerk_id: str, code: str) -> dict:
    """The clerk confirms in person the citizen who showed `code`: an L4 event ("counter"), audited
    with the clerk's id. IdentityCodeInvalid (404) for an unknown, expired or used code; the
    citizen must stand at L3 (face or 网证 first): 403 assurance_level_insufficient otherwise."""
    ratelimit.consume([Limit(f"identity-check:clerk-minute:{clerk_id}",
                             current_app.config["COUNTER_MANUAL_CODE_PER_MINUTE"], 60)])
    user_id = get_redis().getdel(_CODE_KEY.format(code)) if _EIGHT_DIGITS.fullmatch(code or "") else None
    if not user_id:
        with unit_of_work():
            audit.record("identity.counter_check", outcome="refused", actor_kind="staff", actor_id=clerk_id,
                         details={"reason": "code_invalid"})
        raise IdentityCodeInvalid()
    current = verified_level(user_id)
    if current < 3:
        with unit_of_work():
            audit.record("identity.counter_check", outcome="refused", actor_kind="staff", actor_id=clerk_id,
                         target=user_id, details={"reason": "level", "current_level": current})
        raise AssuranceInsufficient(T_("窗口现场核验需要该居民先完成人脸核验或网证认证（L3）。"),
                                    required_level=3, current_level=current)
    with unit_of_work():
        record_assurance(user_id=user_id, level=4, method="counter", ref=code)
        audit.record("identity.counter_check", actor_kind="staff", actor_id=clerk_id, target=user_id,
                     details={"level": 4})
    view = user_view(get_user(user_id))
    return {"user": {"id": user_id, "name_masked": view["name_masked"], "id_number_masked": view["id_number_masked"]},
            "level": "L4", "at": utcnow()}
