"""The issuer registry's tables and every query on them."""
from __future__ import annotations
