"""Enterprise registration by its legal representative (POST /enterprises)."""
from __future__ import annotations

from typing import Any


def register(*, user_id: str, uscc: str, legal_rep_id_number: str | None = None) -> dict[str, Any]:
    raise NotImplementedError
