"""Audit trail of privileged and security-relevant actions (审计日志).

Rows never carry personal data in clear: targets are opaque ids or masked values.
`record` joins the caller's transaction, so an action and its audit row commit together; it is
one INSERT, with no chain lock. The sealer (`flask audit seal`, app/audit_chain.py) later gives
each committed row its place in a keyed SM3 hash chain that `flask audit verify` checks.
"""
from __future__ import annotations

import json
import logging
from typing import Any

import peewee as pw
from flask import g, has_request_context, request

from app.db import BaseModel, UTCDateTimeField, execute, utcnow
from app.logs import log_fields
from app.security.tokens import Principal

log = logging.getLogger("yiwang.audit")


class AuditEvent(BaseModel):
    id = pw.BigAutoField()
    at = UTCDateTimeField(default=utcnow, index=True)
    action = pw.CharField(max_length=64, index=True)
    outcome = pw.CharField(max_length=16)  # success | failure | refused
    actor_kind = pw.CharField(max_length=16, null=True)
    actor_id = pw.CharField(max_length=40, null=True, index=True)
    target = pw.CharField(max_length=128, null=True)
    ip = pw.CharField(max_length=64, null=True)
    request_id = pw.CharField(max_length=64, null=True)
    details = pw.TextField(null=True)
    # Set by the sealer (app/audit_chain.py), never by `record`: the row's place in the hash chain
    # and HMAC-SM3(audit key, previous hash ‖ canonical row).
    seq = pw.BigIntegerField(null=True, unique=True)
    chain_hash = pw.CharField(max_length=64, null=True)


# `record`'s statement, written once: no model instance is built for a row nobody reads back.
_COLUMNS = ("action", "outcome", "actor_kind", "actor_id", "target", "ip", "request_id", "details", "at")
_INSERT = 'INSERT INTO "audit_event" ({}) VALUES ({})'.format(
    ", ".join(f'"{c}"' for c in _COLUMNS), ", ".join("?" * len(_COLUMNS)))
_at = AuditEvent.at.db_value


def _delegation(delegated: Principal) -> dict[str, Any]:
    """A delegated request's second identity: `agent` for an enterprise's agent (经办人, or its
    legal representative: grant_id "legal_representative"), `proxy` for a citizen's proxy (授权代理)."""
    if delegated.kind == "enterprise":
        return {"agent": {"actor_id": delegated.actor_id, "grant_id": delegated.grant_id,
                          "enterprise_id": delegated.id}}
    return {"proxy": {"actor_id": delegated.actor_id, "grant_id": delegated.grant_id}}


def record(action: str, *, outcome: str = "success", actor_kind: str | None = None, actor_id: str | None = None,
           target: str | None = None, details: dict[str, Any] | None = None) -> None:
    ip = request_id = None
    if has_request_context():
        ip, request_id = request.remote_addr, g.get("request_id")
        delegated = g.get("delegated_principal")
        if delegated is not None:  # both identities on the row: who acted, for whom, under which grant
            details = {**(details or {}), **_delegation(delegated)}
    execute(_INSERT, (action, outcome, actor_kind, actor_id, target, ip, request_id,
                      json.dumps(details, ensure_ascii=False) if details else None, _at(utcnow())))
    log_fields(log, "audit", {"action": action, "outcome": outcome, "actor": actor_id, "target": target})
