"""网号 links and identity consents (issue 19, WP4).

`ncid_link`: the account's link to its 网号 (网络身份应用标识, the national service's per-app pseudonym):
found by `app_user_id_bidx` = blind_index("ncid", appUserId), kept SM4-encrypted in `app_user_id_enc`;
one 网号 per account and one account per 网号 (both unique). `mode` is the service mode of the last
authentication (R01..R04), `last_login_at` the last 网号 login.

`identity_consent`: the citizen's separate consent (单独同意, 管理办法) to let the platform release their
identity data for one purpose (licence_matching, signing, enterprise_registration); a withdrawn one
keeps its row with `withdrawn_at`."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class NcidLink(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        user_id = pw.CharField(max_length=32, unique=True)
        app_user_id_bidx = pw.CharField(max_length=64, unique=True)
        app_user_id_enc = pw.BlobField()
        mode = pw.CharField(max_length=3)
        linked_at = pw.DateTimeField()
        last_login_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "ncid_link"

    @migrator.create_model
    class IdentityConsent(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        user_id = pw.CharField(max_length=32)
        purpose = pw.CharField(max_length=32)
        granted_at = pw.DateTimeField()
        withdrawn_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "identity_consent"
            indexes = [(("user_id", "purpose"), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("identity_consent")
    migrator.remove_model("ncid_link")
