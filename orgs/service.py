"""Enterprises — the public API other features use (they import only this module; CONTRACTS D).

An enterprise (企业, keyed by its USCC) joins YiWang when its legal representative registers it
(`register`, POST /enterprises): the business registry confirms it exists, is active, and that the
citizen is its LR. Its id (`en_…`) then owns licences, cases and an inbox like a user id does;
notices go to the LR and to the agents whose grant covers them (`recipients_for`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.db import unit_of_work, utcnow
from app.uscc import normalise_uscc, uscc_valid
from orgs import models, registration
from orgs.models import ACTIVE_STATUS, Enterprise
from orgs.signals import enterprise_registered

# Which agent scopes let an agent receive a notice kind (matched on the kind's prefix).
_KIND_SCOPES = {
    "case": frozenset({"cases:follow", "cases:rate"}),
    "licence": frozenset({"licences:view", "licences:present"}),
}

__all__ = [
    "ACTIVE_STATUS", "add_dev_registry_entry", "Enterprise", "enterprise_for", "enterprise_name", "enterprise_registered", "enterprise_view",
    "enterprises_for_user", "get_enterprise", "is_enterprise_id", "is_legal_representative", "recipients_for",
    "register", "role_of",
]


def clock() -> datetime:
    """Now (UTC, aware); tests replace it to move time."""
    return utcnow()


def is_enterprise_id(owner_id: str | None) -> bool:
    return bool(owner_id) and owner_id.startswith("en_")


def enterprise_for(uscc: str) -> str | None:
    """The registered enterprise's id for a USCC (any case, spaces ignored), or None."""
    row = models.find_by_uscc(normalise_uscc(uscc))
    return row.id if row else None


def get_enterprise(enterprise_id: str) -> Enterprise | None:
    return models.find_enterprise(enterprise_id) if is_enterprise_id(enterprise_id) else None


def enterprise_view(e: Enterprise) -> dict[str, Any]:
    """The enterprise as answers show it (no person's data)."""
    return {"id": e.id, "uscc": e.uscc, "name": e.name, "entity_type": e.entity_type, "status": e.status,
            "region_code": e.region_code, "registered_at": e.registered_at}


def is_legal_representative(enterprise_id: str, user_id: str) -> bool:
    e = get_enterprise(enterprise_id)
    return e is not None and bool(user_id) and e.legal_rep_user_id == user_id


def enterprise_name(enterprise_id: str) -> str | None:
    e = get_enterprise(enterprise_id)
    return e.name if e else None


def role_of(enterprise_id: str, user_id: str) -> dict[str, Any] | None:
    """The user's standing at the enterprise: {role, scopes, expires_at, grant_id} as its LR or as an
    active agent (accepted, not declined/revoked/expired); None otherwise."""
    e = get_enterprise(enterprise_id)
    if e is None:
        return None
    if e.legal_rep_user_id == user_id:
        return {"role": "legal_representative", "scopes": None, "expires_at": None, "grant_id": None}
    grant = models.active_grant_for(enterprise_id, user_id, clock())
    if grant is None:
        return None
    return {"role": "agent", "scopes": sorted(grant.scope_set), "expires_at": grant.expires_at, "grant_id": grant.id}


def enterprises_for_user(user_id: str) -> list[dict[str, Any]]:
    """The enterprises the user may act for: as LR first, then as an active agent."""
    items = [{**enterprise_view(e), "role": "legal_representative", "scopes": None, "expires_at": None}
             for e in models.enterprises_of_lr(user_id)]
    seen = {i["id"] for i in items}
    for grant in models.active_grants_of_agent(user_id, clock()):
        e = models.find_enterprise(grant.enterprise_id)
        if e is None or e.id in seen:
            continue
        seen.add(e.id)
        items.append({**enterprise_view(e), "role": "agent", "scopes": sorted(grant.scope_set),
                      "expires_at": grant.expires_at})
    return items


def recipients_for(owner_id: str, kind: str) -> list[str]:
    """Who is told about `owner_id`'s `kind` notice: a user id → [itself]; an enterprise → its LR
    plus the agents whose active grant has a scope covering the kind ("case…" → cases:follow/rate,
    "licence…" → licences:view/present; other kinds reach the LR only). Unknown enterprise → []."""
    if not is_enterprise_id(owner_id):
        return [owner_id]
    e = models.find_enterprise(owner_id)
    if e is None:
        return []
    out = [e.legal_rep_user_id]
    wanted = next((s for prefix, s in _KIND_SCOPES.items() if kind.startswith(prefix)), frozenset())
    if wanted:
        for grant in models.active_grants_of_enterprise(owner_id, clock()):
            if grant.scope_set & wanted and grant.agent_user_id not in out:
                out.append(grant.agent_user_id)
    return out


def register(*, user_id: str, uscc: str, legal_rep_id_number: str | None = None) -> dict[str, Any]:
    """Register the enterprise `uscc` with the citizen as its LR (see orgs/registration.py)."""
    return registration.register(user_id=user_id, uscc=uscc, legal_rep_id_number=legal_rep_id_number)


def add_dev_registry_entry(*, uscc: str, name: str, lr_name: str, lr_id_number: str, entity_type: str = "有限责任公司",
                           status: str = ACTIVE_STATUS, established_on: str | None = None) -> str:
    """Put a market entity into the development business registry (orgs_dev_registry); returns the
    normalised USCC. Raises ValueError for an invalid USCC, ID number or status."""
    from app.idnumber import normalize_id_number
    from app.security.pii import field_cipher
    code = normalise_uscc(uscc)
    if not uscc_valid(code):
        raise ValueError(f"not a valid USCC: {code}")
    if status not in models.STATUSES:
        raise ValueError(f"status must be one of {', '.join(models.STATUSES)}")
    id_number = normalize_id_number(lr_id_number)
    cipher = field_cipher()
    with unit_of_work():
        models.upsert_dev_entry(uscc=code, name=name, entity_type=entity_type, status=status, region_code=code[2:8],
                                established_on=established_on,
                                lr_name_enc=cipher.encrypt(lr_name, "orgs_dev_lr_name"),
                                lr_id_bidx=cipher.blind_index("id", id_number), updated_at=utcnow())
    return code
