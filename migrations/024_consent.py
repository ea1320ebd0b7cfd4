"""Consent-based online verification (用证授权, issue 17): a verifier's request to a citizen for a
matter's fields, the citizen's answer and its signed disclosure, and the direct_post delivery."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ConsentRequest(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        client_id = pw.CharField(max_length=40, index=True)
        verifier_name = pw.CharField(max_length=128)
        user_id = pw.CharField(max_length=32, null=True)
        matter = pw.CharField(max_length=64)
        type_codes = pw.TextField()
        claims = pw.TextField()
        dcql_query = pw.TextField()
        nonce = pw.CharField(max_length=128)
        state = pw.CharField(max_length=128, null=True)
        response_mode = pw.CharField(max_length=16)
        response_uri = pw.CharField(max_length=512, null=True)
        status = pw.CharField(max_length=16, default="pending")
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        answered_at = pw.DateTimeField(null=True)
        step_up = pw.CharField(max_length=8, null=True)
        licence_id = pw.CharField(max_length=32, null=True)
        disclosed = pw.TextField(null=True)
        disclosure = pw.TextField(null=True)
        delivery = pw.CharField(max_length=16, default="none")
        delivery_attempts = pw.IntegerField(default=0)
        delivered_at = pw.DateTimeField(null=True)
        delivery_error = pw.CharField(max_length=64, null=True)

        class Meta:
            table_name = "consent_request"
            indexes = [(("user_id", "created_at", "id"), False), (("delivery", "answered_at"), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("consent_request")
