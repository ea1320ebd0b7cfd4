"""Issuer registry errors: stable codes, Chinese details (English in the catalogue)."""
from __future__ import annotations
