"""Identity tables: citizens, WeChat links, staff, machine clients, sessions, refresh tokens,
development registry, audit trail."""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""
    
    @migrator.create_model
    class ApiClient(pw.Model):
        client_id = pw.CharField(max_length=40, primary_key=True)
        name = pw.CharField(max_length=128)
        secret_hash = pw.CharField(max_length=64)
        scopes = pw.CharField(max_length=512)
        disabled = pw.BooleanField(default=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "api_client"

    @migrator.create_model
    class AuditEvent(pw.Model):
        id = pw.BigAutoField()
        at = pw.DateTimeField(index=True)
        action = pw.CharField(index=True, max_length=64)
        outcome = pw.CharField(max_length=16)
        actor_kind = pw.CharField(max_length=16, null=True)
        actor_id = pw.CharField(index=True, max_length=40, null=True)
        target = pw.CharField(max_length=128, null=True)
        ip = pw.CharField(max_length=64, null=True)
        request_id = pw.CharField(max_length=64, null=True)
        details = pw.TextField(null=True)

        class Meta:
            table_name = "audit_event"

    @migrator.create_model
    class AuthSession(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        principal_kind = pw.CharField(max_length=16)
        principal_id = pw.CharField(index=True, max_length=40)
        channel = pw.CharField(default='app', max_length=16)
        ip = pw.CharField(max_length=64, null=True)
        created_at = pw.DateTimeField()
        revoked_at = pw.DateTimeField(null=True)
        revoked_reason = pw.CharField(max_length=32, null=True)

        class Meta:
            table_name = "auth_session"

    @migrator.create_model
    class RefreshToken(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        session = pw.ForeignKeyField(column_name='session_id', field='id', model=migrator.orm['auth_session'], on_delete='CASCADE')
        token_hash = pw.CharField(max_length=64, unique=True)
        created_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        used_at = pw.DateTimeField(null=True)
        replaced_by = pw.CharField(max_length=32, null=True)

        class Meta:
            table_name = "refresh_token"

    @migrator.create_model
    class RegistryEntry(pw.Model):
        id_number_bidx = pw.CharField(max_length=64, primary_key=True)
        id_number_enc = pw.BlobField()
        name_enc = pw.BlobField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "registry_entry"

    @migrator.create_model
    class StaffUser(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        username = pw.CharField(max_length=64, unique=True)
        password_hash = pw.CharField(max_length=255)
        role = pw.CharField(max_length=16)
        hall_code = pw.CharField(max_length=32, null=True)
        disabled = pw.BooleanField(default=False)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "staff_user"

    @migrator.create_model
    class User(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        phone_enc = pw.BlobField(null=True)
        phone_bidx = pw.CharField(max_length=64, null=True, unique=True)
        name_enc = pw.BlobField(null=True)
        id_number_enc = pw.BlobField(null=True)
        id_number_bidx = pw.CharField(max_length=64, null=True, unique=True)
        assurance_level = pw.SmallIntegerField(default=1)
        real_name_verified_at = pw.DateTimeField(null=True)
        liveness_verified_at = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "user"

    @migrator.create_model
    class WeChatIdentity(pw.Model):
        openid = pw.CharField(max_length=64, primary_key=True)
        unionid = pw.CharField(index=True, max_length=64, null=True)
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        session_key_enc = pw.BlobField()
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "we_chat_identity"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('we_chat_identity')

    migrator.remove_model('user')

    migrator.remove_model('staff_user')

    migrator.remove_model('registry_entry')

    migrator.remove_model('refresh_token')

    migrator.remove_model('auth_session')

    migrator.remove_model('audit_event')

    migrator.remove_model('api_client')
