"""Enterprises (issue 19, WP5/WP6): `enterprise` (registered by its legal representative, one per
USCC), `agent_grant` (the LR's grants to agents, 经办人) and `orgs_dev_registry` (the development
business registry's market entities). Created together so the agents work package builds on them."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Enterprise(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        uscc = pw.CharField(max_length=18, unique=True)
        name = pw.CharField(max_length=200)
        entity_type = pw.CharField(max_length=40)
        status = pw.CharField(max_length=2)
        region_code = pw.CharField(max_length=6)
        legal_rep_user_id = pw.CharField(max_length=32, index=True)
        registered_at = pw.DateTimeField()
        checked_at = pw.DateTimeField()

        class Meta:
            table_name = "enterprise"

    @migrator.create_model
    class AgentGrant(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        enterprise_id = pw.CharField(max_length=32, index=True)
        agent_user_id = pw.CharField(max_length=32, index=True)
        agent_name_enc = pw.TextField()
        granted_by = pw.CharField(max_length=32)
        scopes = pw.CharField(max_length=200)
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        accepted_at = pw.DateTimeField(null=True)
        declined_at = pw.DateTimeField(null=True)
        revoked_at = pw.DateTimeField(null=True)
        revoked_by = pw.CharField(max_length=32, null=True)

        class Meta:
            table_name = "agent_grant"

    @migrator.create_model
    class DevRegistryEntry(pw.Model):
        uscc = pw.CharField(max_length=18, primary_key=True)
        name = pw.CharField(max_length=200)
        entity_type = pw.CharField(max_length=40)
        status = pw.CharField(max_length=2)
        region_code = pw.CharField(max_length=6)
        established_on = pw.CharField(max_length=10, null=True)
        lr_name_enc = pw.BlobField()
        lr_id_bidx = pw.CharField(max_length=64)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "orgs_dev_registry"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("orgs_dev_registry")
    migrator.remove_model("agent_grant")
    migrator.remove_model("enterprise")
