"""The audit trail's hash chain (审计链): seal, verify, archive.

`app.audit.record` stays one INSERT with no lock. The sealer, run every few seconds, takes the
committed rows not yet sealed, in id order, and gives each the next sequence number and
`chain_hash = HMAC-SM3(audit key, previous hash ‖ canonical(row))`. Sealers serialise on the
single `audit_chain_head` row (row lock, then a conditional UPDATE on the head's seq), so two
sealers never fork the chain. Rows younger than AUDIT_SEAL_MIN_AGE are left for the next run;
a transaction that commits late is sealed then, with a later seq than rows of higher id.

Verification walks the chain from genesis or from the last archive checkpoint: a changed row
fails its HMAC, a deleted row leaves a gap in seq (or a head past the last row), and a row
slipped in with a forged seq/hash fails its HMAC. A row inserted without seq but dated well
before rows already sealed (older than AUDIT_SEAL_MAX_LAG behind the head) is not sealed but
reported as inserted out of chain. The key is derived from the data master key ("audit/chain").
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee as pw
from flask import current_app

from app.audit import AuditEvent
from app.db import BaseModel, UTCDateTimeField, db, insert_row, unit_of_work, utcnow
from app.security.pii import derive_key, hmac_sm3

GENESIS = "0" * 64
RETENTION_DAYS = 180
_BATCH = 1000
_FIELDS = ("id", "seq", "at", "action", "outcome", "actor_kind", "actor_id", "target", "ip", "request_id",
           "details")


class AuditChainHead(BaseModel):
    """One row (id 1): the last sealed seq and hash; the sealers' lock."""
    id = pw.IntegerField(primary_key=True)
    seq = pw.BigIntegerField()
    chain_hash = pw.CharField(max_length=64)
    last_at = UTCDateTimeField(null=True)  # `at` of the last sealed row
    sealed_at = UTCDateTimeField(null=True)


class AuditArchive(BaseModel):
    """A checkpoint: rows up to `through_seq` went to `file_name`; the chain resumes from `chain_hash`."""
    id = pw.AutoField()
    through_seq = pw.BigIntegerField(unique=True)
    chain_hash = pw.CharField(max_length=64)
    first_seq = pw.BigIntegerField()
    count = pw.IntegerField()
    before = UTCDateTimeField()
    file_name = pw.CharField(max_length=255)
    manifest_mac = pw.CharField(max_length=64)
    archived_at = UTCDateTimeField()


class ChainBusy(RuntimeError):
    """Another sealer moved the head first; this run's work was rolled back."""


class RetentionError(ValueError):
    """Archiving would remove records younger than the retention period."""


@dataclass(frozen=True)
class Problem:
    kind: str  # changed | deleted | inserted
    event_id: int | None
    seq: int | None
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    head_seq: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _key() -> bytes:
    return derive_key(current_app.extensions["keys"].data_master_key, "audit/chain")


def row_dict(row: AuditEvent) -> dict:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["at"] = row.at.isoformat() if row.at else None
    return values


def canonical(values: dict) -> bytes:
    return json.dumps({k: values[k] for k in _FIELDS}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def chain_hash(key: bytes, prev_hash: str, values: dict) -> str:
    return hmac_sm3(key, bytes.fromhex(prev_hash) + canonical(values)).hex()


def _head() -> AuditChainHead:
    insert_row(AuditChainHead, ignore_conflict=True, id=1, seq=0, chain_hash=GENESIS)
    return AuditChainHead.get_by_id(1)


def _late_limit(head: AuditChainHead) -> datetime | None:
    if head.last_at is None:
        return None
    return head.last_at - timedelta(seconds=current_app.config["AUDIT_SEAL_MAX_LAG"])


def _seal_batch(key: bytes) -> int:
    with unit_of_work():
        _head()
        # Take the head row's lock first (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE already holds the file).
        AuditChainHead.update(sealed_at=utcnow()).where(AuditChainHead.id == 1).execute()
        head = AuditChainHead.get_by_id(1)
        cutoff = utcnow() - timedelta(seconds=current_app.config["AUDIT_SEAL_MIN_AGE"])
        query = AuditEvent.select().where(AuditEvent.seq.is_null(), AuditEvent.at <= cutoff)
        late = _late_limit(head)
        if late is not None:
            query = query.where(AuditEvent.at >= late)
        rows = list(query.order_by(AuditEvent.id).limit(_BATCH))
        seq, prev, last_at = head.seq, head.chain_hash, head.last_at
        for row in rows:
            seq += 1
            row.seq = seq
            prev = chain_hash(key, prev, row_dict(row))
            AuditEvent.update(seq=seq, chain_hash=prev).where(AuditEvent.id == row.id, AuditEvent.seq.is_null()).execute()
            last_at = max(last_at, row.at) if last_at else row.at
        if rows:
            moved = (AuditChainHead.update(seq=seq, chain_hash=prev, last_at=last_at)
                     .where(AuditChainHead.id == 1, AuditChainHead.seq == head.seq).execute())
            if moved != 1:
                raise ChainBusy("the chain head moved under this sealer")
        return len(rows)


def seal() -> int:
    """Seal every committed row old enough; returns how many were sealed."""
    key, total = _key(), 0
    while True:
        sealed = _seal_batch(key)
        total += sealed
        if sealed < _BATCH:
            return total


def _start() -> tuple[int, str]:
    checkpoint = AuditArchive.select().order_by(AuditArchive.through_seq.desc()).first()
    return (checkpoint.through_seq, checkpoint.chain_hash) if checkpoint else (0, GENESIS)


def _walk(key: bytes, seq: int, prev: str, problems: list[Problem]) -> tuple[int, str, int, int | None]:
    checked, last_id = 0, None
    for row in AuditEvent.select().where(AuditEvent.seq.is_null(False)).order_by(AuditEvent.seq).iterator():
        if row.seq <= seq:
            problems.append(Problem("inserted", row.id, row.seq, f"id {row.id} has seq {row.seq}, inside the archived part"))
            continue
        if row.seq != seq + 1:
            problems.append(Problem("deleted", None, seq + 1, f"seq {seq + 1}–{row.seq - 1} missing "
                                    f"(between id {last_id} and id {row.id})"))
        expected = chain_hash(key, prev, row_dict(row))
        # After a gap the previous hash is the deleted row's, unknown here: the gap is the finding.
        if expected != row.chain_hash and row.seq == seq + 1:
            problems.append(Problem("changed", row.id, row.seq, f"id {row.id} (seq {row.seq}) does not match its hash"))
        seq, prev, last_id, checked = row.seq, row.chain_hash or expected, row.id, checked + 1
    return seq, prev, checked, last_id


def verify() -> VerifyResult:
    """Recompute the chain; problems in chain order (the first is the earliest)."""
    key, problems = _key(), []
    with db.connection_context():
        seq, prev = _start()
        seq, prev, checked, last_id = _walk(key, seq, prev, problems)
        head = _head()
        if head.seq > seq:
            problems.append(Problem("deleted", None, seq + 1, f"seq {seq + 1}–{head.seq} missing after id {last_id} "
                                    "(the chain head is further on)"))
        elif head.seq < seq or (head.seq == seq and head.chain_hash != prev):
            problems.append(Problem("inserted", last_id, seq, f"the last row (seq {seq}) is not the chain head"))
        late = _late_limit(head)
        if late is not None:
            stray = AuditEvent.select().where(AuditEvent.seq.is_null(), AuditEvent.at < late).order_by(AuditEvent.id)
            problems += [Problem("inserted", r.id, None, f"id {r.id} is unsealed and dated before sealed records")
                         for r in stray]
    return VerifyResult(checked=checked, head_seq=head.seq, problems=problems)


def _manifest_line(key: bytes, manifest: dict) -> str:
    body = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    return json.dumps({"manifest": manifest, "mac": hmac_sm3(key, body.encode()).hex()}, sort_keys=True)


def archive(*, before: datetime, out: str) -> int:
    """Move the sealed rows dated before `before` (a prefix of the chain) to a JSONL file, then
    delete them and record the checkpoint. Refuses dates inside the retention period."""
    if before > utcnow() - timedelta(days=RETENTION_DAYS):
        raise RetentionError(f"records are kept at least {RETENTION_DAYS} days; choose a date before "
                             f"{(utcnow() - timedelta(days=RETENTION_DAYS)).date().isoformat()}")
    key = _key()
    with unit_of_work():
        first_seq, prev = _start()
        rows = []
        for row in AuditEvent.select().where(AuditEvent.seq.is_null(False)).order_by(AuditEvent.seq).iterator():
            if row.at >= before:
                break
            rows.append(row)
        if not rows:
            return 0
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps({**row_dict(row), "chain_hash": row.chain_hash}, ensure_ascii=False,
                                    sort_keys=True) + "\n")
            manifest = {"from_seq": rows[0].seq, "through_seq": rows[-1].seq, "count": len(rows),
                        "prev_hash": prev, "head_hash": rows[-1].chain_hash, "before": before.isoformat(),
                        "created_at": utcnow().isoformat()}
            line = _manifest_line(key, manifest)
            fh.write(line + "\n")
        os.replace(tmp, out)
        AuditEvent.delete().where(AuditEvent.seq <= rows[-1].seq).execute()
        insert_row(AuditArchive, through_seq=rows[-1].seq, chain_hash=rows[-1].chain_hash, first_seq=rows[0].seq,
                   count=len(rows), before=before, file_name=os.path.basename(out),
                   manifest_mac=json.loads(line)["mac"], archived_at=utcnow())
    return len(rows)


def verify_archive_file(path: str) -> list[str]:
    """Check an archive file on its own: its manifest MAC and its rows' chain. Problems found."""
    key, problems = _key(), []
    with open(path, encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    if not lines or "manifest" not in lines[-1]:
        return ["no manifest line"]
    manifest, rows = lines[-1]["manifest"], lines[:-1]
    if _manifest_line(key, manifest) != json.dumps(lines[-1], sort_keys=True):
        problems.append("manifest MAC does not match")
    prev = manifest["prev_hash"]
    for values in rows:
        if chain_hash(key, prev, values) != values["chain_hash"]:
            problems.append(f"id {values['id']} (seq {values['seq']}) does not match its hash")
        prev = values["chain_hash"]
    if prev != manifest["head_hash"] or len(rows) != manifest["count"]:
        problems.append("rows do not end at the manifest's head hash")
    return problems
