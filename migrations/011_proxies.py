"""Authorised proxies (授权代理 / 亲友代办): grants and the actions done under them."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ProxyGrant(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        principal_id = pw.CharField(max_length=32)
        proxy_id = pw.CharField(max_length=32)
        scopes = pw.CharField(max_length=255)
        status = pw.CharField(max_length=16, default="active")
        active_key = pw.CharField(max_length=72, null=True, unique=True)
        principal_name_masked = pw.CharField(max_length=64, null=True)
        proxy_name_masked = pw.CharField(max_length=64, null=True)
        proxy_phone_masked = pw.CharField(max_length=32, null=True)
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)
        revoked_by = pw.CharField(max_length=16, null=True)

        class Meta:
            table_name = "proxy_grant"
            indexes = [(("principal_id", "created_at", "id"), False), (("proxy_id", "created_at", "id"), False)]

    @migrator.create_model
    class ProxyAction(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        grant_id = pw.CharField(max_length=32)
        principal_id = pw.CharField(max_length=32)
        proxy_id = pw.CharField(max_length=32)
        method = pw.CharField(max_length=8)
        route = pw.CharField(max_length=255)
        scope = pw.CharField(max_length=32, null=True)
        status = pw.IntegerField(null=True)
        at = pw.DateTimeField()
        request_id = pw.CharField(max_length=64, null=True)

        class Meta:
            table_name = "proxy_action"
            indexes = [(("grant_id", "at", "id"), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("proxy_action")
    migrator.remove_model("proxy_grant")
