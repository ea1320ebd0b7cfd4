"""Enterprise tables (issue 19, CONTRACTS D) — 企业: an enterprise a citizen registered as its legal
representative (法定代表人), the grants the LR gives agents (经办人; H6's orgs/agents.py works on them),
and the development business registry (orgs_dev_registry) the dev BusinessRegistry reads.

No name or ID number of a person is stored in clear: an agent's name is encrypted
(`agent_name_enc`), the dev registry keeps the LR's name encrypted and their ID number only as a
blind index (`lr_id_bidx`) — matching needs no plaintext."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, insert_row, select_one, utcnow

ACTIVE_STATUS = "1"  # 存续/在业; "2" 吊销, "3" 注销, "4" 迁出, "9" 其他
STATUSES = ("1", "2", "3", "4", "9")


def new_enterprise_id() -> str:
    return "en_" + secrets.token_hex(8)


def new_grant_id() -> str:
    return "ag_" + secrets.token_hex(8)


class Enterprise(BaseModel):
    """Enterprise — 企业: registered once per USCC, by its legal representative (`legal_rep_user_id`).
    `status` is the registry's at `checked_at` (GB/T: "1" active, "2" 吊销, "3" 注销, "4" 迁出, "9")."""

    id = pw.CharField(primary_key=True, max_length=32)
    uscc = pw.CharField(max_length=18, unique=True)
    name = pw.CharField(max_length=200)
    entity_type = pw.CharField(max_length=40)
    status = pw.CharField(max_length=2)
    region_code = pw.CharField(max_length=6)
    legal_rep_user_id = pw.CharField(max_length=32, index=True)
    registered_at = UTCDateTimeField(default=utcnow)
    checked_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "enterprise"


class AgentGrant(BaseModel):
    """AgentGrant — 经办人授权: the LR lets a citizen act for the enterprise within `scopes`
    (space-separated) until `expires_at`. Pending until `accepted_at`; `declined_at` / `revoked_at`
    end it (`revoked_by`: who). Active = accepted, not declined, not revoked, not expired."""

    id = pw.CharField(primary_key=True, max_length=32)
    enterprise_id = pw.CharField(max_length=32, index=True)
    agent_user_id = pw.CharField(max_length=32, index=True)
    agent_name_enc = pw.TextField()
    granted_by = pw.CharField(max_length=32)
    scopes = pw.CharField(max_length=200)  # space-separated
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    accepted_at = UTCDateTimeField(null=True)
    declined_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)
    revoked_by = pw.CharField(max_length=32, null=True)

    class Meta:
        table_name = "agent_grant"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class DevRegistryEntry(BaseModel):
    """DevRegistryEntry — the development business registry's market entities (BIZREG_BACKEND=dev):
    filled by `flask orgs dev-registry add` and the demo seed. The LR's name is encrypted
    (column "orgs_dev_lr_name"), their ID number kept only as blind_index("id", …)."""

    uscc = pw.CharField(primary_key=True, max_length=18)
    name = pw.CharField(max_length=200)
    entity_type = pw.CharField(max_length=40)
    status = pw.CharField(max_length=2, default=ACTIVE_STATUS)
    region_code = pw.CharField(max_length=6)
    established_on = pw.CharField(max_length=10, null=True)
    lr_name_enc = pw.BlobField()
    lr_id_bidx = pw.CharField(max_length=64)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "orgs_dev_registry"


# --- Queries -------------------------------------------------------------------------------------

def find_enterprise(enterprise_id: str) -> Enterprise | None:
    return select_one(Enterprise, Enterprise.id, enterprise_id)


def find_by_uscc(uscc: str) -> Enterprise | None:
    return select_one(Enterprise, Enterprise.uscc, uscc)


def insert_enterprise(**values: Any) -> Enterprise | None:
    """A new enterprise; None when its USCC is already registered (unique)."""
    return insert_row(Enterprise, ignore_conflict=True, **values)


def enterprises_of_lr(user_id: str) -> list[Enterprise]:
    return list(Enterprise.select().where(Enterprise.legal_rep_user_id == user_id)
                .order_by(Enterprise.registered_at, Enterprise.id))


def active_grant_filter(now: datetime):
    return (AgentGrant.accepted_at.is_null(False) & AgentGrant.declined_at.is_null()
            & AgentGrant.revoked_at.is_null() & (AgentGrant.expires_at > now))


def active_grants_of_agent(user_id: str, now: datetime) -> list[AgentGrant]:
    return list(AgentGrant.select().where((AgentGrant.agent_user_id == user_id) & active_grant_filter(now))
                .order_by(AgentGrant.created_at, AgentGrant.id))


def active_grant_for(enterprise_id: str, user_id: str, now: datetime) -> AgentGrant | None:
    return (AgentGrant.select().where((AgentGrant.enterprise_id == enterprise_id)
                                      & (AgentGrant.agent_user_id == user_id) & active_grant_filter(now))
            .order_by(AgentGrant.created_at.desc()).first())


def active_grants_of_enterprise(enterprise_id: str, now: datetime) -> list[AgentGrant]:
    return list(AgentGrant.select().where((AgentGrant.enterprise_id == enterprise_id) & active_grant_filter(now))
                .order_by(AgentGrant.created_at, AgentGrant.id))


def find_dev_entry(uscc: str) -> DevRegistryEntry | None:
    return select_one(DevRegistryEntry, DevRegistryEntry.uscc, uscc)


def upsert_dev_entry(**values: Any) -> None:
    # ON CONFLICT … DO UPDATE works on SQLite and PostgreSQL alike (REPLACE is SQLite's only)
    DevRegistryEntry.insert(**values).on_conflict(
        conflict_target=[DevRegistryEntry.uscc],
        update={getattr(DevRegistryEntry, k): v for k, v in values.items() if k != "uscc"}).execute()
