"""The signing PIN (签名密码): six digits, refused when guessable, stored as Argon2id.

The PIN is first keyed with HMAC-SM3 under a pepper derived from the data master key (which is
not in the database), then hashed with Argon2id: a copy of the database alone does not allow
trying the million possible PINs offline. Online guessing is stopped by the lockout (enrolment.py).
"""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from app.i18n import N_
from app.security.pii import hmac_sm3

# RFC 9106 / OWASP second recommended profile (m = 19 MiB, t = 2, p = 1): tens of milliseconds,
# paid once per authorisation.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_PIN = re.compile(r"\d{6}")
# Widely used PINs beyond the patterns below (leaked-PIN lists, "love" numbers).
_COMMON = frozenset({"520520", "520521", "521521", "131420", "201314", "147258", "159357", "147369",
                     "258369", "112233", "123321", "666888", "888666", "168168", "100200"})


def pepper_key() -> bytes:
    return current_app.extensions["signing_pin_key"]


def _peppered(pin: str) -> str:
    return hmac_sm3(pepper_key(), pin.encode()).hex()


def hash_pin(pin: str) -> str:
    return _hasher.hash(_peppered(pin))


def verify_pin(stored_hash: str, pin: str) -> bool:
    if not isinstance(pin, str) or not _PIN.fullmatch(pin):
        return False
    try:
        return _hasher.verify(stored_hash, _peppered(pin))
    except (VerificationError, InvalidHashError):
        return False


def _birth_forms(id_number: str | None) -> set[str]:
    """Six-digit forms of the birth date in a resident ID number (YYMMDD, MMDDYY, DDMMYY, YYYYMM,
    MMYYYY) and the number's last six characters."""
    if not id_number or len(id_number) != 18:
        return set()
    yyyy, mm, dd = id_number[6:10], id_number[10:12], id_number[12:14]
    yy = yyyy[2:]
    return {yy + mm + dd, mm + dd + yy, dd + mm + yy, yyyy + mm, mm + yyyy, id_number[-6:]}


def weak_reasons(pin: str, *, id_number: str | None = None) -> list[str]:
    """Why a PIN is refused (empty: acceptable)."""
    if not _PIN.fullmatch(pin or ""):
        return [N_("签名密码须为 6 位数字。")]
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in zip(digits, digits[1:])}
    reasons = []
    if len(set(pin)) <= 2 or steps in ({0}, {1}, {9}):
        reasons.append(N_("不能使用重复或连续的数字。"))
    if pin[:3] == pin[3:] or pin[:2] == pin[2:4] == pin[4:] or pin in _COMMON:
        reasons.append(N_("不能使用常见的简单密码。"))
    if pin in _birth_forms(id_number):
        reasons.append(N_("不能使用出生日期或证件号码后六位。"))
    return reasons
