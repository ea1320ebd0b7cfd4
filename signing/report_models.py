"""The signed verification reports' table, and the evidence queries the report runs (issue 18).

`VerifyReport` keeps what `POST /verify/signatures` answered: the canonical JSON the platform signed
and its attached CMS SignedData, for the machine client that asked. The evidence queries read the
audit trail (app.audit's table: the enrolment, authorisation and key store events with their place
in the hash chain) and the platform's own signatures; nothing here writes outside `verify_report`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

from app.audit import AuditEvent
from app.db import BaseModel, UTCDateTimeField, insert_row, select_where, utcnow
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


def platform_signature(*, signature_sm3: str | None = None, cms_sm3: str | None = None) -> PlatformSignature | None:
    """The platform's signature whose raw value (`signature_sm3`) or CMS SignerInfo signature value
    (`cms_sm3`: the detached or the attached SignedData's) has this SM3 (lower-case hex), or None."""
    fields = (Signature.id, Signature.credential_id, Signature.signed_at)
    if signature_sm3 is not None:
        where = Signature.signature_sm3 == signature_sm3.lower()
    else:
        digest = (cms_sm3 or "").lower()
        where = (Signature.cms_signature_sm3 == digest) | (Signature.cms_attached_sm3 == digest)
    row = Signature.select(*fields).where(where).first()
    return PlatformSignature(id=row.id, credential_id=row.credential_id, signed_at=row.signed_at) if row else None


def audit_events(action: str, target: str) -> list[dict[str, Any]]:
    """The audit rows of `action` on `target`, oldest first, as the report cites them: id, time,
    outcome, place in the hash chain (seq and chain_hash: None until the sealer has run) and details."""
    rows = (AuditEvent.select(AuditEvent.id, AuditEvent.at, AuditEvent.action, AuditEvent.outcome, AuditEvent.seq,
                              AuditEvent.chain_hash, AuditEvent.details)
            .where(AuditEvent.action == action, AuditEvent.target == target).order_by(AuditEvent.id))
    return [{"id": r.id, "at": r.at, "action": r.action, "outcome": r.outcome, "seq": r.seq,
             "chain_hash": r.chain_hash, "details": r.details} for r in rows]
