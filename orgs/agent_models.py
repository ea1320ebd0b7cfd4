"""The record of what agents did (经办记录, issue 19): one row per request made with an enterprise
token, with both identities — the enterprise acted for and the person acting — written before the
request runs (no record, no action) and given its answer's status after. The grants themselves are
`orgs.models.AgentGrant` (migration 034); this table is migration 035."""
from __future__ import annotations

from typing import Any

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, insert_row, update_where, utcnow


class AgentAction(BaseModel):
    """AgentAction — 经办记录: `grant_id` is an `ag_…` grant or "legal_representative"."""

    id = pw.CharField(primary_key=True, max_length=32)
    grant_id = pw.CharField(max_length=32, index=True)
    enterprise_id = pw.CharField(max_length=32, index=True)
    actor_id = pw.CharField(max_length=32)
    method = pw.CharField(max_length=8)
    route = pw.CharField(max_length=255)  # the URL rule, e.g. /api/v1/wallet/licences/<licence_id>
    scope = pw.CharField(max_length=32, null=True)  # the delegation scope the route accepted
    status = pw.IntegerField(null=True)  # HTTP status of the answer; null while running
    at = UTCDateTimeField(default=utcnow)
    request_id = pw.CharField(max_length=64, null=True)

    class Meta:
        table_name = "agent_action"


def insert_action(**values: Any) -> AgentAction:
    return insert_row(AgentAction, **values)


def set_action_outcome(action_id: str, *, status: int, scope: str | None) -> None:
    update_where(AgentAction, {"id": action_id}, status=status, scope=scope)
