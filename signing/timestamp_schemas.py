"""Shapes of the time-stamping API's JSON form (the RFC 3161 wire form is DER, not JSON)."""
from __future__ import annotations

import marshmallow as ma

from app.crypto.tsa import MAX_NONCE_BITS, POLICY_OID
from app.fields import StrictBoolean
from app.i18n import N_

HASH_ALGORITHMS = ("sm3", "sha256")
NONCE_MAX = 2**63 - 1  # the JSON form's nonce fits a signed 64-bit integer (OpenAPI int64); the wire form takes more
assert NONCE_MAX.bit_length() <= MAX_NONCE_BITS


class TimestampRequestSchema(ma.Schema):
    """What to stamp: the digest of the data (never the data), by SM3 or SHA-256."""

    hash_algorithm = ma.fields.String(required=True, validate=ma.validate.OneOf(HASH_ALGORITHMS),
                                      metadata={"example": "sm3"})
    hashed_message_hex = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^[0-9a-fA-F]{64}$", error=N_("须为 64 位十六进制。")),
        metadata={"description": "数据的摘要（SM3 或 SHA-256，32 字节，十六进制）", "example": "66c7f0f4" * 8})
    nonce = ma.fields.Integer(load_default=None, strict=True, validate=ma.validate.Range(0, NONCE_MAX),
                              metadata={"description": "随机数，原样写入 TSTInfo（防重放）", "format": "int64",
                                        "example": 8021477381024715})
    cert_req = StrictBoolean(load_default=True, metadata={
        "description": "true：令牌内附 TSA 证书（RFC 3161 certReq）"})


class TimestampTokenSchema(ma.Schema):
    token_b64 = ma.fields.String(required=True, metadata={"description": "TimeStampToken（DER ContentInfo，Base64）"})
    gen_time = ma.fields.DateTime(required=True, metadata={"description": "TSTInfo genTime（精度 1 秒）"})
    serial = ma.fields.String(required=True, metadata={"description": "TSTInfo serialNumber（十六进制）",
                                                       "example": "5b1e0c"})
    policy = ma.fields.String(required=True, metadata={"example": POLICY_OID})
    tsa_certificate_pem = ma.fields.String(required=True, metadata={"description": "TSA 证书（PEM）"})
