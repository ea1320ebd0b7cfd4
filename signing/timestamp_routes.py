"""Time-stamping for third parties (时间戳服务, RFC 3161 / GB/T 20520): POST /api/v1/timestamps, scope
`timestamps:request`, and the TSA certificate at GET /api/v1/timestamps/tsa.pem (public).

Two forms of one operation, chosen by Content-Type:
- `application/timestamp-query`: a DER TimeStampReq (RFC 3161 §2.4.1, as `openssl ts -query` writes
  it) → 200 `application/timestamp-reply`, a DER TimeStampResp (§2.4.2, §3.4). Whatever the request
  holds, the answer is a TimeStampResp: granted with a token, or status rejection with its
  PKIFailureInfo (badAlg, badRequest, badDataFormat for a body that is not a DER TimeStampReq,
  unacceptedPolicy, unacceptedExtension). RFC 3161 carries the refusal in the protocol, so an
  RFC 3161 client (`openssl ts -reply`, a PDF signer) reads it; no problem+json there.
- `application/json`: {hash_algorithm, hashed_message_hex, nonce, cert_req} → 200 {token_b64,
  gen_time, serial, policy, tsa_certificate_pem}; the schema states every constraint (422 otherwise).
Other content types: 415. Both forms count against TIMESTAMP_PER_MINUTE per client (429) and
each issued token is audited (`timestamp.issue`: the client, the token's serial; never the imprint).
"""
from __future__ import annotations

import base64

import marshmallow as ma
from flask import Response, current_app, request
from flask_smorest import Blueprint

from app import audit
from app.crypto import platform_keys, tsa
from app.crypto.tsa_verify import SHA256_OID, SM3_OID
from app.i18n import N_
from app.openapi import problems
from app.ratelimit import Limit, consume
from app.security.auth import auth_required, current_principal
from signing import timestamp_schemas as s
from signing.timestamp_errors import TimestampMediaType

SCOPE = "timestamps:request"
QUERY, REPLY = "application/timestamp-query", "application/timestamp-reply"
_HASHES = {"sm3": SM3_OID, "sha256": SHA256_OID}

blp = Blueprint("timestamps", __name__, url_prefix="/api/v1/timestamps",
                description="时间戳服务 (RFC 3161 time-stamping authority; scope timestamps:request)")

_WIRE_DOC = (
    "RFC 3161 线路格式：请求体为 DER TimeStampReq（Content-Type: application/timestamp-query），应答为 DER "
    "TimeStampResp（application/timestamp-reply，HTTP 200）：签发成功（granted）或拒绝（rejection，含 "
    "PKIFailureInfo：badAlg 摘要算法非 SM3/SHA-256，badDataFormat 不是 DER TimeStampReq 或摘要长度不符，"
    "badRequest 版本或 nonce 不符，unacceptedPolicy 策略不是 " + tsa.POLICY_OID + "，unacceptedExtension）。\n\n"
    "例：`openssl ts -query -data doc -sha256 -cert -out q.tsq`，"
    "`curl -H 'Content-Type: application/timestamp-query' --data-binary @q.tsq -o r.tsr …`，"
    "`openssl ts -reply -in r.tsr -text`。\n\nJSON 格式：见 TimestampRequest / TimestampToken。")


def _wire_form() -> Response:
    reply = tsa.respond(request.get_data(cache=False))
    _, _, token = tsa.response_status(reply)
    if token is not None:
        _audit(token)
    return Response(reply, mimetype=REPLY)


def _json_form() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ma.ValidationError([N_("请求体须为 JSON 对象。")])
    args = s.TimestampRequestSchema().load(body)
    token = tsa.timestamp(bytes.fromhex(args["hashed_message_hex"]), hash_oid=_HASHES[args["hash_algorithm"]],
                          nonce=args["nonce"], cert_req=args["cert_req"])
    info = _audit(token)
    return {"token_b64": base64.b64encode(token).decode(), "gen_time": info["gen_time"],
            "serial": f"{info['serial']:x}", "policy": info["policy"],
            "tsa_certificate_pem": platform_keys.current(tsa.PURPOSE).certificate_pem}


def _audit(token: bytes) -> dict:
    info = tsa.token_info(token)
    audit.record("timestamp.issue", actor_kind="client", actor_id=current_principal().id,
                 target=f"{info['serial']:x}", details={"policy": info["policy"], "hash": info["hash_oid"]})
    return info


@blp.route("", methods=["POST"])
@blp.doc(description=_WIRE_DOC, requestBody={"required": True, "content": {
    QUERY: {"schema": {"type": "string", "format": "binary", "description": "DER TimeStampReq"}},
    "application/json": {"schema": s.TimestampRequestSchema}}})
@blp.response(200, s.TimestampTokenSchema(), description="JSON 格式的令牌；线路格式见 application/timestamp-reply")
@blp.doc(responses={200: {"content": {REPLY: {"schema": {"type": "string", "format": "binary",
                                                          "description": "DER TimeStampResp (granted or rejection)"}}}}})
@problems(blp, {403: "insufficient_scope, forbidden", 415: "unsupported_media_type", 422: "validation_failed",
                429: "rate_limited"})
@auth_required(kinds=("client",), scopes=(SCOPE,))
def create_timestamp():
    """Time-stamp a digest (SM3 or SHA-256): an RFC 3161 token signed SM2 by the platform's TSA."""
    if request.mimetype not in (QUERY, "application/json"):
        raise TimestampMediaType()
    consume([Limit(f"timestamp:{current_principal().id}", current_app.config["TIMESTAMP_PER_MINUTE"], 60)])
    return _wire_form() if request.mimetype == QUERY else _json_form()


@blp.route("/tsa.pem", methods=["GET"])
@blp.doc(security=[], responses={200: {"description": "PEM", "content": {"application/x-pem-file": {}}}})
def tsa_certificate():
    """The TSA's current certificate (public; issued by the platform CA, EKU timeStamping critical)."""
    return Response(platform_keys.current(tsa.PURPOSE).certificate_pem, mimetype="application/x-pem-file",
                    headers={"Cache-Control": "public, max-age=3600"})
