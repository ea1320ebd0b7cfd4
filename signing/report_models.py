"""The signed verification reports' table, and the evidence queries the report runs (issue 18).

`VerifyReport` keeps what `POST /verify/signatures` answered: the canonical JSON the platform signed
and its attached CMS SignedData, for the machine client that asked. The evidence queries read the
audit trail (app.audit's table: the enrolment, authorisation and key store events with their place
in the hash chain) and the platform's own signatures; nothing here writes outside `verify_report`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

from app.audit import AuditEvent
from app.db import BaseModel, UTCDateTimeField, execute, insert_row, select_where, utcnow
from signing.models import Signature


class VerifyReport(BaseModel):
    """A signed verification report (验签报告): canonical JSON, its CMS, who asked and when."""

    id = pw.CharField(primary_key=True, max_length=32)
    client_id = pw.CharField(max_length=40, index=True)
    created_at = UTCDateTimeField(default=utcnow, index=True)
    report = pw.TextField()
    cms_der = pw.BlobField()

    class Meta:
        table_name = "verify_report"


def insert_report(*, report_id: str, client_id: str, created_at: datetime, report: str, cms_der: bytes) -> None:
    insert_row(VerifyReport, id=report_id, client_id=client_id, created_at=created_at, report=report,
               cms_der=cms_der)


def find_report(*, report_id: str, client_id: str) -> VerifyReport | None:
    """The client's own report (None for another client's: the same answer as an unknown id)."""
    return select_where(VerifyReport, id=report_id, client_id=client_id)


def delete_reports_before(moment: datetime) -> int:
    """Remove the reports made before `moment`; the number removed."""
    return VerifyReport.delete().where(VerifyReport.created_at < moment).execute()


# --- Evidence: the platform's signatures and the audit trail ------------------------------------

@dataclass(frozen=True)
class PlatformSignature:
    """What the report cites of a signature the platform made (never its blobs: the attached
    SignedData may hold a 10 MiB document)."""

    id: str
    credential_id: str
    signed_at: datetime


# raw SQL from here on: the verification hot path (SQL written once, no per-call query building)
_SIGNATURE_SQL = 'SELECT "id", "credential_id", "signed_at" FROM "signing_signature" WHERE '
_BY_RAW = _SIGNATURE_SQL + '"signature_sm3" = ? LIMIT 1'
_BY_CMS = _SIGNATURE_SQL + '"cms_signature_sm3" = ? OR "cms_attached_sm3" = ? LIMIT 1'
_EVENT_SQL = ('SELECT "id", "at", "action", "outcome", "seq", "chain_hash", "details", "target" FROM "audit_event" '
              'WHERE ')
_EVENT_PAIR = '("action" = ? AND "target" = ?)'


def platform_signature(*, signature_sm3: str | None = None, cms_sm3: str | None = None) -> PlatformSignature | None:
    """The platform's signature whose raw value (`signature_sm3`) or CMS SignerInfo signature value
    (`cms_sm3`: the detached or the attached SignedData's) has this SM3 (lower-case hex), or None."""
    if signature_sm3 is not None:
        row = execute(_BY_RAW, [signature_sm3.lower()]).fetchone()
    else:
        digest = (cms_sm3 or "").lower()
        row = execute(_BY_CMS, [digest, digest]).fetchone()
    return (PlatformSignature(id=row[0], credential_id=row[1], signed_at=Signature.signed_at.python_value(row[2]))
            if row else None)


def audit_events_of(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The audit rows of each (action, target) pair, oldest first, in one query, as the report cites
    them: id, time, outcome, place in the hash chain (seq and chain_hash: None until the sealer has
    run) and details."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {(a, t): [] for a, t in pairs}
    if not out:
        return out
    sql = _EVENT_SQL + " OR ".join([_EVENT_PAIR] * len(out)) + ' ORDER BY "id"'
    at, seq = AuditEvent.at.python_value, AuditEvent.seq.python_value
    for r in execute(sql, [v for pair in out for v in pair]).fetchall():
        rows = out.get((r[2], r[7]))
        if rows is not None:
            rows.append({"id": r[0], "at": at(r[1]), "action": r[2], "outcome": r[3], "seq": seq(r[4]),
                         "chain_hash": r[5], "details": r[6]})
    return out


def audit_events(action: str, target: str) -> list[dict[str, Any]]:
    """The audit rows of `action` on `target`, oldest first (see `audit_events_of`)."""
    return audit_events_of([(action, target)])[(action, target)]
