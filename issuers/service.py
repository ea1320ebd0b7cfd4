"""The issuer registry's public API: the only module another feature may import."""
from __future__ import annotations
