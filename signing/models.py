"""Cloud-signing tables: a citizen's signing credential (PIN + key + certificate), signing
requests (what will be signed, awaiting the citizen's authorisation) and the signatures made.

Nothing here holds key material or a PIN in clear: the private key lives wrapped in the key store
(`key_id`), the PIN as an Argon2id hash of a peppered HMAC.
"""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, utcnow


class SigningCredential(BaseModel):
    """A citizen's enrolment (签名凭证): signing PIN, SM2 key in the key store, certificate.

    `active_slot` holds the user id while the credential is active (UNIQUE): two concurrent
    enrolments cannot both succeed. Revocation clears it; the row stays for history."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32, index=True)
    active_slot = pw.CharField(max_length=32, null=True, unique=True)
    status = pw.CharField(max_length=16, default="active")  # active | revoked
    key_id = pw.CharField(max_length=32)
    cert_serial = pw.CharField(max_length=42, unique=True)
    certificate_pem = pw.TextField()
    pin_hash = pw.CharField(max_length=255)
    failed_pins = pw.IntegerField(default=0)
    locked_until = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    revoked_at = UTCDateTimeField(null=True)
    revoke_reason = pw.CharField(max_length=32, null=True)

    class Meta:
        table_name = "signing_credential"


class SigningRequest(BaseModel):
    """What a citizen is asked to sign — 待签署文件: title, e = SM3(Z ‖ M) and, when the document
    was sent, its SM3 and size. Bound to the credential (and so the key) current when it was made.
    Consumed once by the conditional update `pending → signed`."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32, index=True)
    credential_id = pw.CharField(max_length=32)
    batch_id = pw.CharField(max_length=32, null=True, index=True)
    title = pw.CharField(max_length=128)
    e_hex = pw.CharField(max_length=64)
    document_sm3 = pw.CharField(max_length=64, null=True)
    document_size = pw.BigIntegerField(null=True)
    status = pw.CharField(max_length=16, default="pending")  # pending | signed
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    signed_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "signing_request"


class Signature(BaseModel):
    """A signature the platform made for a citizen (签名记录); `signature_sm3` finds it again
    from the bytes a relying party sends to the verification API."""

    id = pw.CharField(primary_key=True, max_length=32)
    user_id = pw.CharField(max_length=32)
    request_id = pw.CharField(max_length=32, unique=True)
    credential_id = pw.CharField(max_length=32)
    cert_serial = pw.CharField(max_length=42)
    title = pw.CharField(max_length=128)
    e_hex = pw.CharField(max_length=64)
    document_sm3 = pw.CharField(max_length=64, null=True)
    signature_der = pw.BlobField()
    signature_sm3 = pw.CharField(max_length=64, index=True)
    signed_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "signing_signature"
        indexes = ((("user_id", "signed_at", "id"), False),)
