"""Signature evidence (issue 18, signing/evidence.py).

`signing_signature` gains, for each signature made from a known document digest: the detached CMS
SignedData (GM/T 0010, with the platform TSA's RFC 3161 token as an unsigned attribute), the SM3 of
its signature value (hex, indexed: verification finds a signature's evidence by it), the token's
genTime and the TSA certificate's serial; and, when the document itself was sent, the attached form
kept without its eContent (GmSSL 3.1 signs the eContent itself, so the attached form has its own
signature and token: SM3 of that signature, indexed too). Older signatures and digest-only requests
without `document_sm3` have none of these (NULL).

`signing_document`: a document-mode request's document, encrypted (SM4-GCM), kept only while the
request is pending — the attached SignedData can only be signed with the document at hand — and
deleted when it is signed or refused (expired ones by the next request, or `flask signing
prune-documents`)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("signing_signature",
                        cms_der=pw.BlobField(null=True),
                        cms_signature_sm3=pw.CharField(max_length=64, null=True, index=True),
                        timestamped_at=pw.DateTimeField(null=True),
                        tsa_serial=pw.CharField(max_length=42, null=True),
                        cms_attached_der=pw.BlobField(null=True),
                        cms_attached_sm3=pw.CharField(max_length=64, null=True, index=True))

    @migrator.create_model
    class SigningDocument(pw.Model):
        request_id = pw.CharField(max_length=32, primary_key=True)
        document_enc = pw.BlobField()
        expires_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "signing_document"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("signing_document")
    migrator.drop_index("signing_signature", "cms_attached_sm3")
    migrator.drop_index("signing_signature", "cms_signature_sm3")
    migrator.remove_fields("signing_signature", "cms_der", "cms_signature_sm3", "timestamped_at", "tsa_serial",
                           "cms_attached_der", "cms_attached_sm3")
