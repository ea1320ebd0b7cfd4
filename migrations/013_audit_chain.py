"""Audit trail hash chain: each sealed row's sequence number and chain hash, the chain head
(one row, the sealers' lock) and the archive checkpoints (app/audit_chain.py)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("audit_event", seq=pw.BigIntegerField(null=True, unique=True),
                        chain_hash=pw.CharField(max_length=64, null=True))

    @migrator.create_model
    class AuditChainHead(pw.Model):
        id = pw.IntegerField(primary_key=True)
        seq = pw.BigIntegerField()
        chain_hash = pw.CharField(max_length=64)
        last_at = pw.DateTimeField(null=True)
        sealed_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "audit_chain_head"

    @migrator.create_model
    class AuditArchive(pw.Model):
        id = pw.AutoField()
        through_seq = pw.BigIntegerField(unique=True)
        chain_hash = pw.CharField(max_length=64)
        first_seq = pw.BigIntegerField()
        count = pw.IntegerField()
        before = pw.DateTimeField()
        file_name = pw.CharField(max_length=255)
        manifest_mac = pw.CharField(max_length=64)
        archived_at = pw.DateTimeField()

        class Meta:
            table_name = "audit_archive"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("audit_archive")
    migrator.remove_model("audit_chain_head")
    migrator.remove_fields("audit_event", "seq", "chain_hash")
