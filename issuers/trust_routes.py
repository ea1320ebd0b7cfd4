"""The published trust list and the departments' signing keys over HTTP.

Public (no token): GET /.well-known/yiwang/issuers (the signed trust list; issuers/trust.py says
the format) and GET /.well-known/yiwang/keys/{kid}.pem (a platform or issuer key's certificate).
Admin (machine client with scope `issuers:admin`, as the registry's admin API):
GET/POST /api/v1/admin/issuers/{id}/keys (list; rotate) and POST …/keys/{kid}/revoke.

The admin schemas are here with the routes they belong to (the registry's own are in schemas.py).
"""
from __future__ import annotations

import base64
import json
import re

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, current_principal
from issuers import service
from issuers.errors import KeyCertificateNotFound
from issuers.service import Actor
from issuers.service import REVOCATION_REASONS
from issuers.service import SIGNATURE_ALG as ALG
from issuers.service import SIGNATURE_ALG_HEADER as ALG_HEADER
from issuers.service import SIGNATURE_HEADER
from issuers.service import SIGNATURE_KID_HEADER as KID_HEADER
from issuers.service import TRUST_LIST_DESCRIPTION as DESCRIPTION
from issuers.service import TRUST_LIST_MAX_AGE as MAX_AGE

blp = Blueprint("issuer_trust", __name__, description="信任列表与发证机关签名密钥 (trust list, issuer keys)")

_ADMIN = {"kinds": ("client",), "scopes": ("issuers:admin",)}
_KID = re.compile(r"[0-9a-f]{16}")
_CACHE = f"public, max-age={MAX_AGE}"


# --- schemas ---------------------------------------------------------------------------------------

class IssuerKeySchema(ma.Schema):
    kid = ma.fields.String(metadata={"description": "密钥标识：SM3(SubjectPublicKeyInfo DER) 的前 16 位十六进制",
                                     "example": "3f9a0c51d2e4b768"})
    status = ma.fields.String(metadata={"description": "active 签发新证照 | retired 已轮换（仍可验证其签发的证照）| "
                                                       "expired 证书已过期 | revoked 已吊销"})
    not_before = ma.fields.DateTime(metadata={"description": "签名期起（证书有效期）"})
    not_after = ma.fields.DateTime(metadata={"description": "签名期止（证书有效期）"})
    certificate = ma.fields.String(metadata={"description": "平台 CA 签发的证书（PEM）：O/CN = 机关名称，serialNumber = 统一社会信用代码"})
    certificate_serial = ma.fields.String()
    public_key = ma.fields.Function(lambda k: base64.b64encode(k["public_key"]).decode(),
                                    metadata={"description": "SM2 公钥（SubjectPublicKeyInfo DER，base64）"})
    revoked_since = ma.fields.DateTime(allow_none=True, metadata={
        "description": "吊销起始时间：此时间及之后签发的证照版本在核验时被标记"})
    revoked_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class IssuerKeyListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(IssuerKeySchema), metadata={"description": "最新的在前"})


class RevokeKeySchema(ma.Schema):
    since = ma.fields.AwareDateTime(required=True, metadata={
        "description": "从何时起不再信任该密钥（RFC 3339，带时区偏移；不能晚于当前时间，否则 422 "
                       "issuer_key_revocation_invalid）。该时间及之后由它签名的证照版本被标记并在柜台拒绝；"
                       "之前的仍然有效。证书吊销日期（CRL）即此时间。", "example": "2026-11-01T00:00:00+08:00"})
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(REVOCATION_REASONS), metadata={
        "description": "RFC 5280 吊销原因", "example": "keyCompromise"})


# --- public ------------------------------------------------------------------------------------------

@blp.route("/.well-known/yiwang/issuers", methods=["GET"])
@blp.doc(security=[], summary="The signed trust list (public, cacheable)", description=DESCRIPTION, responses={
    200: {"description": "信任列表：响应体即被签名的字节（规范化 JSON）", "content": {"application/json": {}},
          "headers": {
              SIGNATURE_HEADER: {"description": "SM2 签名（DER，base64）", "schema": {"type": "string"}},
              KID_HEADER: {"description": "签名所用平台密钥的 kid", "schema": {"type": "string"}},
              ALG_HEADER: {"description": ALG, "schema": {"type": "string"}},
              "ETag": {"description": "强 ETag", "schema": {"type": "string"}}}},
    304: {"description": "Not Modified（If-None-Match 与 ETag 一致）"}})
def trust_list():
    body, etag, kid, signature = service.trust_list()
    headers = {"ETag": f'"{etag}"', "Cache-Control": _CACHE}
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    headers.update({SIGNATURE_HEADER: base64.b64encode(signature).decode(), KID_HEADER: kid, ALG_HEADER: ALG})
    return Response(body, status=200, mimetype="application/json", headers=headers)


@blp.route("/.well-known/yiwang/issuers/envelope", methods=["GET"])
@blp.doc(security=[], summary="The same signed trust list as one JSON file (public, cacheable)", description=(
    "同一版本、同一签名，装在一个 JSON 信封里，供只保存一个文件的设备（离线核验的柜台终端）："
    "`{payload: base64(响应体字节，即被签名的规范化 JSON), kid, alg: \"SM2-with-SM3\", signature: base64(DER)}`。"
    "验证：对 base64 解码后的 payload 验签（与 GET /.well-known/yiwang/issuers 相同）；ETag 与之相同。"),
    responses={200: {"description": "信封", "content": {"application/json": {}}},
               304: {"description": "Not Modified（If-None-Match 与 ETag 一致）"}})
def trust_list_envelope():
    body, etag, kid, signature = service.trust_list()
    headers = {"ETag": f'"{etag}"', "Cache-Control": _CACHE}
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    envelope = {"payload": base64.b64encode(body).decode(), "kid": kid, "alg": ALG,
                "signature": base64.b64encode(signature).decode()}
    return Response(json.dumps(envelope, separators=(",", ":")), status=200, mimetype="application/json",
                    headers=headers)


@blp.route("/.well-known/yiwang/keys/<kid>.pem", methods=["GET"])
@blp.doc(security=[], summary="A platform or issuer key's certificate by kid (public)", responses={
    200: {"description": "PEM", "content": {"application/x-pem-file": {}}}})
@problems(blp, {404: "key_not_found"})
def key_certificate(kid):
    """The certificate of the key `kid` (platform keys while their certificate is valid, issuer keys
    always): the trust list's signer for verifiers with the OpenSSL CLI alone."""
    pem = service.key_certificate(kid) if _KID.fullmatch(kid) else None
    if pem is None:
        raise KeyCertificateNotFound()
    return Response(pem, mimetype="application/x-pem-file", headers={"Cache-Control": _CACHE})


# --- admin -------------------------------------------------------------------------------------------

def _actor() -> Actor:
    return Actor("client", current_principal().id)


@blp.route("/api/v1/admin/issuers/<issuer_id>/keys", methods=["GET"])
@blp.response(200, IssuerKeyListSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "issuer_not_found"})
@auth_required(**_ADMIN)
def list_keys(issuer_id):
    """A department's signing keys, newest first, with their certificates and status."""
    return {"items": service.issuer_keys(issuer_id)}


@blp.route("/api/v1/admin/issuers/<issuer_id>/keys", methods=["POST"])
@blp.response(201, IssuerKeySchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "issuer_not_found"})
@auth_required(**_ADMIN)
def rotate_key(issuer_id):
    """Rotate: a new key signs the department's new licences; the previous one is retired and keeps
    verifying what it signed (it stays in the trust list); audited."""
    return service.rotate_key(issuer_id, actor=_actor())


@blp.route("/api/v1/admin/issuers/<issuer_id>/keys/<kid>/revoke", methods=["POST"])
@blp.arguments(RevokeKeySchema())
@blp.response(200, IssuerKeySchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "issuer_not_found, issuer_key_not_found",
                409: "issuer_key_already_revoked", 422: "validation_failed, issuer_key_revocation_invalid"})
@auth_required(**_ADMIN)
def revoke_key(body, issuer_id, kid):
    """Revoke a compromised key from a date: it signs nothing more, its certificate is revoked in the
    platform CA (the CRL lists it), licences it signed at or after `since` are flagged at every
    verification and refused at the counter (422 licence_key_revoked); the department gets a new key
    if it was the signing one. Audited."""
    return service.revoke_key(issuer_id, kid, since=body["since"], reason=body["reason"], actor=_actor())
