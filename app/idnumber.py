"""Resident identity numbers (GB 11643-1999) and mainland mobile numbers.

Checked before any registry lookup: length and alphabet, the area code's
province (GB/T 2260), a real birth date not in the future, and the
ISO 7064 MOD 11-2 check character.
"""
from __future__ import annotations

import re
from datetime import date

from app.i18n import N_

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82", "83",
})
_SHAPE = re.compile(r"\d{17}[\dX]")
_PHONE = re.compile(r"1[3-9]\d{9}")


class IdNumberError(ValueError):
    """Why a number is not a valid resident ID number; `reason` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def normalize_id_number(raw: str, *, today: date | None = None) -> str:
    """Return the canonical form (upper-case X) or raise IdNumberError."""
    number = raw.strip().upper()
    if not _SHAPE.fullmatch(number):
        raise IdNumberError("format", N_("身份证号码应为 18 位，前 17 位为数字，最后一位为数字或 X。"))
    if number[:2] not in _PROVINCES:
        raise IdNumberError("area_code", N_("身份证号码的地区码无效。"))
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("birth_date", N_("身份证号码中的出生日期无效。")) from None
    if birth > (today or date.today()) or birth.year < 1890:
        raise IdNumberError("birth_date", N_("身份证号码中的出生日期无效。"))
    if check_char(number[:17]) != number[17]:
        raise IdNumberError("check_digit", N_("身份证号码校验位不正确，请核对。"))
    return number


def birth_date(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def normalize_phone(raw: str) -> str | None:
    """Mainland mobile number without +86, or None when it is not one."""
    phone = re.sub(r"[\s-]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    return phone if _PHONE.fullmatch(phone) else None
