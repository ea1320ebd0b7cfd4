"""Schemas of the issuer registry's admin API: every constraint the server checks."""
from __future__ import annotations
