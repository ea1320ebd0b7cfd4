"""Unified social credit codes (统一社会信用代码, GB 32100-2015), checked in full before any registry call.

18 characters over the 31-symbol alphabet `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, Z, S, V):
1 registration authority, 1 entity category, 6 administrative region (GB/T 2260), 9 organisation
code (GB 11714: 8 body characters + 1 check character), 1 overall check character (MOD 31).

The region check knows the province-level divisions (and 100000, the national level central bodies
register under); a full county table is data (mapsvc's import), not kernel code — a made-up
province is refused, a made-up county inside a real province is left to the registry to not find.
Both check characters must hold: a code that passes only the overall MOD 31 (a transcription error
that happens to balance, or a forged code) is refused by the inner GB 11714 check.
"""
from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82", "83",
})
_NATIONAL = "100000"
_DIGITS = "0123456789"


def normalise_uscc(text: str) -> str:
    """Upper-case, without spaces or hyphens (as people copy it from a licence)."""
    return "".join(ch for ch in (text or "") if not ch.isspace() and ch != "-").upper()


def mod31_check_char(first17: str) -> str:
    """The GB 32100 overall check character for the first 17 characters."""
    remainder = 31 - sum(ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS)) % 31
    return ALPHABET[0 if remainder == 31 else remainder]


def _org_value(ch: str) -> int:
    return int(ch) if ch in _DIGITS else ord(ch) - ord("A") + 10


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character of an 8-character organisation-code body."""
    value = 11 - sum(_org_value(c) * w for c, w in zip(body8, _ORG_WEIGHTS)) % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def region_known(region: str) -> bool:
    """A GB/T 2260 code of a real province-level division (or 100000, the national level)."""
    return len(region) == 6 and region.isdigit() and (region == _NATIONAL or region[:2] in _PROVINCES)


def uscc_problem(code: str) -> str | None:
    """Why `code` (already normalised) is not a valid USCC — "format", "check_char", "org_code",
    "region" — or None."""
    if not isinstance(code, str) or len(code) != 18 or any(c not in ALPHABET for c in code):
        return "format"
    if mod31_check_char(code[:17]) != code[17]:
        return "check_char"
    if not (code[16] in _DIGITS or code[16] == "X") or org_code_check_char(code[8:16]) != code[16]:
        return "org_code"
    if not region_known(code[2:8]):
        return "region"
    return None


def uscc_valid(code: str) -> bool:
    """GB 32100 MOD 31 + the GB 11714 inner check + a known GB/T 2260 region (see module doc)."""
    return uscc_problem(code) is None


def complete_uscc(first16: str) -> str:
    """A valid code from its first 16 characters (region + organisation-code body): both check
    characters computed. For demo data and tests; never for input."""
    org_check = org_code_check_char(first16[8:16])
    first17 = first16 + org_check
    return first17 + mod31_check_char(first17)
