"""Unified social credit codes (统一社会信用代码, GB 32100-2015) — placeholder, full check follows."""
from __future__ import annotations


def normalise_uscc(text: str) -> str:
    return "".join((text or "").split()).upper()


def uscc_valid(code: str) -> bool:
    return False
