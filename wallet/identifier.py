"""E-licence identifiers — 电子证照标识 (GB/T 36904, as used by public systems).

Shape: ``1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check char>``.
The check character is ISO/IEC 7064 MOD 37,36 (hybrid system, alphabet 0-9A-Z)
over type code + issuer code + serial + version with the dots removed. MOD 37,36
detects every single-character substitution and every adjacent transposition.

Lower-case input is normalised to upper case (QR scanners and hand typing produce
it; the alphabet has no case distinction), surrounding blanks are stripped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.i18n import N_, T_

PREFIX = "1.2.156.3005.2"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MODULUS = 36
_PART = re.compile(r"[0-9A-Z]+")
_VERSION = re.compile(r"\d{3}")
_PART_LABELS = (T_("证照类型代码"), T_("颁发机构代码"), T_("流水号"))


@dataclass(frozen=True)
class Identifier:
    """A parsed e-licence identifier (all parts upper-case)."""

    type_code: str
    issuer_code: str
    serial: str
    version: int
    check: str

    def __str__(self) -> str:
        return f"{PREFIX}.{self.type_code}.{self.issuer_code}.{self.serial}.{self.version:03d}.{self.check}"


def mod37_36_check_char(body: str) -> str:
    """ISO/IEC 7064 MOD 37,36 check character of `body` (characters 0-9A-Z, upper-case)."""
    product = _MODULUS
    for char in body:
        value = ALPHABET.find(char)
        if value < 0:
            raise ValueError(N_("字符“{char}”不在 0-9A-Z 范围内。", char=char))
        total = (product + value) % _MODULUS or _MODULUS
        product = (2 * total) % (_MODULUS + 1)
    return ALPHABET[(_MODULUS + 1 - product) % _MODULUS]


def _check_part(value: str, label: str) -> None:
    if not _PART.fullmatch(value):
        raise ValueError(N_("电子证照标识中的{label}只能由数字和大写字母组成。", label=label))


def make_identifier(type_code: str, issuer_code: str, serial: str, version: int) -> str:
    """Build the identifier, check character included; raises ValueError on bad parts."""
    type_code, issuer_code, serial = type_code.upper(), issuer_code.upper(), serial.upper()
    for value, label in zip((type_code, issuer_code, serial), _PART_LABELS):
        _check_part(value, label)
    if not 1 <= version <= 999:
        raise ValueError(N_("电子证照标识的版本号应在 001–999 之间。"))
    version_text = f"{version:03d}"
    check = mod37_36_check_char(type_code + issuer_code + serial + version_text)
    return f"{PREFIX}.{type_code}.{issuer_code}.{serial}.{version_text}.{check}"


def parse_identifier(text: str) -> Identifier:
    """Parse and verify an identifier; raises ValueError with a Chinese reason on any defect."""
    if not isinstance(text, str):
        raise ValueError(N_("电子证照标识应为字符串。"))
    normalised = text.strip().upper()
    if not normalised.startswith(PREFIX + "."):
        raise ValueError(N_("电子证照标识应以 {prefix} 开头。", prefix=PREFIX))
    parts = normalised[len(PREFIX) + 1:].split(".")
    if len(parts) != 5:
        raise ValueError(N_("电子证照标识应由类型代码、颁发机构代码、流水号、版本号和校验位五段组成。"))
    type_code, issuer_code, serial, version_text, check = parts
    for value, label in zip((type_code, issuer_code, serial), _PART_LABELS):
        _check_part(value, label)
    if not _VERSION.fullmatch(version_text) or version_text == "000":
        raise ValueError(N_("电子证照标识的版本号应为 001–999 的三位数字。"))
    if len(check) != 1 or check not in ALPHABET:
        raise ValueError(N_("电子证照标识的校验位应为一位数字或大写字母。"))
    if mod37_36_check_char(type_code + issuer_code + serial + version_text) != check:
        raise ValueError(N_("电子证照标识校验位不正确，请核对。"))
    return Identifier(type_code=type_code, issuer_code=issuer_code, serial=serial,
                      version=int(version_text), check=check)
