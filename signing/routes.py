"""Signing endpoints — 电子云签: enrolment, certificate, signing requests and their authorisation,
history; the public CA certificate, CRL and status; the third-party verification API."""
from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from app.errors import flatten_messages
from app.openapi import problems
from app.errors import Forbidden
from app.security.auth import auth_required, current_principal
from identity import service as identity
from signing import report_schemas as rs
from signing import schemas as s
from signing import service
from signing.errors import VerificationInputInvalid

blp = Blueprint("signing", __name__, url_prefix="/api/v1/signing", description="电子云签 (SM2 cloud signing)")

_L2 = "assurance_level_insufficient"
_STEP_UP = "step_up_failed, liveness_required"
_AUTHORIZE_PROBLEMS = {
    400: "pin_invalid, sms_code_required, sms_code_invalid, sms_code_expired, sms_code_attempts_exceeded",
    403: f"{_L2}, liveness_required, step_up_required (SIGNING_REQUIRE_LIVENESS: {identity.policy_text('signing')})",
    404: "signing_request_not_found",
    409: "signing_request_used, signing_request_in_batch, signing_credential_changed, key_not_usable",
    410: "signing_request_expired", 422: "validation_failed",
}
# 423 with its extension members: until when (`locked_until`) and the way out now (`reset_url`).
_LOCKED = blp.alt_response(423, schema=s.SigningLockedProblemSchema, content_type="application/problem+json",
                           description="problem+json; code: signing_locked（locked_until；reset_url：忘记签名密码时重设，"
                                       "锁定期间可用）")


# --- Enrolment and certificate ------------------------------------------------------------------

@blp.route("/enrol", methods=["POST"])
@blp.arguments(s.EnrolSchema())
@blp.response(201, s.CertificateSchema())
@problems(blp, {403: f"{_L2}, {_STEP_UP}, identity_consent_required, phone_required",
                409: "signing_already_enrolled", 422: "pin_weak, validation_failed",
                503: "liveness_unavailable"})
@_LOCKED
@auth_required(level=2)
def enrol(body):
    """Enrol for cloud signing (L2+): set the 6-digit PIN with an SMS step-up code (re-enrolling: also liveness)."""
    return service.enrol(user_id=current_principal().id, pin=body["pin"], sms_code=body["sms_code"],
                           liveness_session_id=body["liveness_session_id"]), 201


@blp.route("/certificate", methods=["GET"])
@blp.response(200, s.CertificateSchema())
@problems(blp, {403: _L2, 404: "signing_not_enrolled"})
@auth_required()
def get_certificate():
    """My signing certificate and its status."""
    return service.get_certificate(user_id=current_principal().id)


@blp.route("/certificate/revoke", methods=["POST"])
@blp.arguments(s.RevokeSchema())
@blp.response(200, s.RevokedSchema())
@problems(blp, {400: "pin_invalid", 403: f"{_L2}, {_STEP_UP}", 404: "signing_not_enrolled",
                422: "validation_failed", 503: "liveness_unavailable"})
@_LOCKED
@auth_required(level=2)
def revoke_certificate(body):
    """Revoke my certificate with my PIN, or (PIN forgotten) an SMS step-up code and a fresh liveness check."""
    return service.revoke(user_id=current_principal().id, reason=body["reason"], pin=body["pin"],
                            sms_code=body["sms_code"], liveness_session_id=body["liveness_session_id"])


_PIN_RATE = "signing_pin_rate_limited（每人每小时次数有限）"


@blp.route("/pin/change", methods=["POST"])
@blp.arguments(s.PinChangeSchema())
@blp.response(200, s.PinChangedSchema())
@problems(blp, {400: "pin_invalid", 403: _L2, 404: "signing_not_enrolled", 409: "signing_pin_changed",
                422: "pin_weak, pin_unchanged, validation_failed", 429: _PIN_RATE})
@_LOCKED
@auth_required(level=2)
def change_pin(body):
    """Change my signing PIN with the current one (a wrong one counts toward the lockout; refused while locked)."""
    return service.change_pin(user_id=current_principal().id, old_pin=body["old_pin"], new_pin=body["new_pin"])


@blp.route("/pin/reset", methods=["POST"])
@blp.arguments(s.PinResetSchema())
@blp.response(200, s.PinChangedSchema())
@problems(blp, {403: f"{_L2}, {_STEP_UP}", 404: "signing_not_enrolled", 422: "pin_weak, validation_failed",
                429: _PIN_RATE, 503: "liveness_unavailable"})
@auth_required(level=2)
def reset_pin(body):
    """Forgot my signing PIN: set a new one with an SMS step-up code and a fresh liveness check; lifts a lockout."""
    return service.reset_pin(user_id=current_principal().id, sms_code=body["sms_code"],
                             liveness_session_id=body["liveness_session_id"], new_pin=body["new_pin"])


_OFFLINE = (
    "离线验签（仅需 OpenSSL 3）：\n\n"
    "1. `openssl verify -vfyopt distid:1234567812345678 -CAfile ca.pem signer.pem` — 证书链；\n"
    "2. `openssl x509 -in signer.pem -pubkey -noout -out pub.pem` — 取签名人公钥；\n"
    "3. `openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -digest sm3 "
    "-pkeyopt distid:1234567812345678 -in document -sigfile sig.der` — 签名。\n\n"
    "吊销状态见 `GET /signing/crl`（DER）或 `GET /signing/certificates/{serial}/status`。")


@blp.route("/ca.pem", methods=["GET"])
@blp.doc(security=[], description=_OFFLINE,
         responses={200: {"description": "PEM", "content": {"application/x-pem-file": {}}}})
def ca_certificate():
    """The platform CA certificate (public): verify signers' certificates offline with OpenSSL."""
    return Response(service.ca_certificate_pem(), mimetype="application/x-pem-file",
                    headers={"Cache-Control": "public, max-age=3600"})


@blp.route("/crl", methods=["GET"])
@blp.doc(security=[], responses={200: {"description": "DER CRL", "content": {"application/pkix-crl": {}}}})
def crl():
    """The platform CA's current CRL (public, DER); re-signed as soon as a certificate is revoked."""
    return Response(service.current_crl(), mimetype="application/pkix-crl",
                    headers={"Cache-Control": "no-cache"})


@blp.route("/certificates/<serial>/status", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, s.CertificateStatusSchema())
@problems(blp, {404: "certificate_not_found（序列号不是十六进制）"})
def certificate_status(serial):
    """Status of a certificate by serial (public, OCSP-like: an unknown serial is `unknown`)."""
    return service.certificate_status(serial)


# --- Signing requests ---------------------------------------------------------------------------
# A citizen's own, or an enterprise's (issue 19): under the token of its legal representative or of an
# agent holding `signing:sign` the request belongs to the enterprise, and the person acting signs it
# with their own certificate, PIN and face check. A relative's proxy token is refused (403).

_SIGNERS = {"kinds": ("citizen", "enterprise"), "delegable": "signing:sign", "delegable_kinds": ("enterprise",)}


def _parties() -> tuple[str, str | None]:
    """(the person who signs, the request's owner when it is not them: the enterprise acted for)."""
    principal = current_principal()
    if principal.kind == "enterprise":
        if not principal.delegated or not principal.actor_id:
            raise Forbidden()  # an enterprise acts only through a person
        return principal.actor_id, principal.id
    return principal.id, None


@blp.route("/requests", methods=["POST"])
@blp.arguments(s.CreateRequestSchema())
@blp.response(201, s.SigningRequestSchema())
@problems(blp, {403: _L2, 404: "signing_not_enrolled", 413: "document_too_large, payload_too_large",
                422: "document_invalid, validation_failed"})
@auth_required(level=2, **_SIGNERS)
def create_request(body):
    """Ask to sign a document (Base64) or a precomputed e = SM3(Z‖M); see `e_hex` for why not SM3(M).
    An enterprise token asks for the enterprise, to be signed by the person acting."""
    signer, owner = _parties()
    return service.create_request(user_id=signer, owner_id=owner, title=body["title"],
                                 document_b64=body["document_b64"], e_hex=body["e_hex"],
                                 document_sm3=body["document_sm3"]), 201


@blp.route("/requests", methods=["GET"])
@blp.arguments(s.RequestListArgsSchema(), location="query")
@blp.response(200, s.SigningRequestListSchema())
@problems(blp, {422: "cursor_invalid, validation_failed"})
@auth_required(**_SIGNERS)
def list_requests(args):
    """My signing requests (a batch's documents too, each with its batch_id), newest first (cursor
    pagination); `status` filters: `pending` still open, `expired` pending past expires_at. With an
    enterprise token: the enterprise's requests."""
    return service.list_requests(user_id=current_principal().id, status=args["status"], limit=args["limit"],
                                 cursor=args["cursor"])


@blp.route("/requests/<request_id>", methods=["GET"])
@blp.response(200, s.SigningRequestSchema())
@problems(blp, {404: "signing_request_not_found"})
@auth_required(**_SIGNERS)
def get_request(request_id):
    """What a request will sign, and whether it has been signed (an enterprise token: the enterprise's)."""
    return service.get_request(user_id=current_principal().id, request_id=request_id)


@blp.route("/requests/<request_id>/authorize", methods=["POST"])
@blp.arguments(s.AuthorizeSchema())
@blp.response(200, s.SignatureSchema())
@problems(blp, {**_AUTHORIZE_PROBLEMS, 409: _AUTHORIZE_PROBLEMS[409] + ", signing_request_other_signer"})
@_LOCKED
@auth_required(level=2, **_SIGNERS)
def authorize(body, request_id):
    """Authorise with my PIN: signs exactly this request's e, once (DER signature + certificate).
    An enterprise's request is signed by the person acting, with their own PIN (and lockout);
    409 signing_request_other_signer when another agent made it (it is bound to their key)."""
    signer, owner = _parties()
    return service.authorize(user_id=signer, owner_id=owner, request_id=request_id, pin=body["pin"],
                            sms_code=body["sms_code"], liveness_session_id=body["liveness_session_id"])


@blp.route("/requests/<request_id>/refuse", methods=["POST"])
@blp.arguments(s.RefuseSchema(), required=False)
@blp.response(200, s.SigningRequestSchema())
@problems(blp, {403: _L2, 404: "signing_request_not_found",
                409: "signing_request_not_pending, signing_request_in_batch", 422: "validation_failed"})
@auth_required(level=2, **_SIGNERS)
def refuse(body, request_id):
    """Refuse to sign this request (only while pending): it can no longer be authorised. The body is
    optional: `{reason}` (at most 200 characters, one line) is kept for me and shown on the request."""
    signer, owner = _parties()
    return service.refuse(user_id=signer, owner_id=owner, request_id=request_id, reason=(body or {}).get("reason"))


@blp.route("/requests/<request_id>/sms-code", methods=["POST"])
@blp.response(202, s.SmsSentSchema())
@problems(blp, {403: f"{_L2}, phone_required", 404: "signing_request_not_found", 429: "sms_resend_too_soon"})
@auth_required(**_SIGNERS)
def request_sms_code(request_id):
    """Send the SMS code that authorises this request (when SMS is required), to the person who signs."""
    signer, owner = _parties()
    return service.send_sms_code(user_id=signer, owner_id=owner, target_id=request_id), 202


@blp.route("/batches", methods=["POST"])
@blp.arguments(s.CreateBatchSchema())
@blp.response(201, s.BatchSchema())
@problems(blp, {403: _L2, 404: "signing_not_enrolled", 413: "document_too_large, payload_too_large",
                422: "batch_too_large, document_invalid, validation_failed"})
@auth_required(level=2)
def create_batch(body):
    """Ask to sign several documents with one authorisation (at most SIGNING_BATCH_MAX)."""
    return service.create_batch(user_id=current_principal().id, items=body["items"]), 201


@blp.route("/batches/<batch_id>", methods=["GET"])
@blp.response(200, s.BatchSchema())
@problems(blp, {404: "signing_request_not_found"})
@auth_required()
def get_batch(batch_id):
    """A batch and every document in it (what one authorisation will sign), in the order listed."""
    return service.get_batch(user_id=current_principal().id, batch_id=batch_id)


@blp.route("/batches/<batch_id>/authorize", methods=["POST"])
@blp.arguments(s.AuthorizeSchema())
@blp.response(200, s.BatchSignaturesSchema())
@problems(blp, _AUTHORIZE_PROBLEMS)
@_LOCKED
@auth_required(level=2)
def authorize_batch(body, batch_id):
    """Authorise a batch with my PIN: signs exactly its listed digests, once, all or none."""
    return service.authorize_batch(user_id=current_principal().id, batch_id=batch_id, pin=body["pin"],
                                  sms_code=body["sms_code"], liveness_session_id=body["liveness_session_id"])


@blp.route("/batches/<batch_id>/sms-code", methods=["POST"])
@blp.response(202, s.SmsSentSchema())
@problems(blp, {403: f"{_L2}, phone_required", 404: "signing_request_not_found", 429: "sms_resend_too_soon"})
@auth_required()
def batch_sms_code(batch_id):
    """Send the SMS code that authorises this batch (when SMS is required)."""
    return service.send_sms_code(user_id=current_principal().id, target_id=batch_id), 202


@blp.route("/signatures", methods=["GET"])
@blp.arguments(s.ListArgsSchema(), location="query")
@blp.response(200, s.SignatureListSchema())
@problems(blp, {403: _L2, 422: "cursor_invalid, validation_failed"})
@auth_required(level=2)
def list_signatures(args):
    """My signatures, newest first (cursor pagination)."""
    return service.list_signatures(user_id=current_principal().id, limit=args["limit"], cursor=args["cursor"])


# --- Signature evidence: the CMS SignedData (GM/T 0010) with its timestamp (issue 18) -------------

_VERIFY_CMS = ("GmSSL 3.1：`gmssl cmsverify -in signature.pem`（PEM：`-----BEGIN CMS-----`）；文件摘要：messageDigest = "
               "SM3(文件)。`flask signing export-evidence` 写出全部文件与命令（VERIFY.txt）。")


def _binary(media_type: str, description: str) -> dict:
    return {200: {"description": description, "content": {media_type: {"schema": {"type": "string",
                                                                                  "format": "binary"}}}}}


@blp.route("/signatures/<signature_id>/cms", methods=["GET"])
@blp.doc(responses=_binary("application/pkcs7-signature", "分离式 CMS SignedData（GM/T 0010，DER）：签名属性 "
                           "contentType、messageDigest = SM3(文件)、signingTime、signingCertificateV2；非签名属性 "
                           "id-aa-signatureTimeStampToken（平台 TSA 对签名值 SM3 的 RFC 3161 时间戳）。" + _VERIFY_CMS))
@problems(blp, {403: _L2, 404: "signature_not_found, signature_cms_not_made"})
@auth_required(level=2)
def signature_cms(signature_id):
    """My signature as a detached CMS SignedData (DER, .p7s) with its timestamp, to keep beside the document."""
    der = service.signature_cms(user_id=current_principal().id, signature_id=signature_id)
    return Response(der, mimetype="application/pkcs7-signature",
                    headers={"Content-Disposition": f'attachment; filename="{signature_id}.p7s"'})


@blp.route("/signatures/<signature_id>/cms", methods=["POST"])
@blp.arguments(s.AttachDocumentSchema())
@blp.doc(responses=_binary("application/pkcs7-mime", "含原文的 CMS SignedData（GM/T 0010，DER）：与分离式相同的签名"
                           "属性，签名与时间戳为签署时对原文所作（GmSSL 3.1 的签名覆盖原文）。" + _VERIFY_CMS))
@problems(blp, {403: _L2, 404: "signature_not_found, signature_cms_not_made", 409: "signature_attached_not_made",
                413: "document_too_large, payload_too_large",
                422: "document_mismatch, validation_failed（document_b64 不是 Base64）"})
@auth_required(level=2)
def attached_signature_cms(body, signature_id):
    """My signature as an attached CMS SignedData with the document I send (its SM3 must be the signed one)."""
    der = service.signature_cms(user_id=current_principal().id, signature_id=signature_id,
                                document_b64=body["document_b64"])
    return Response(der, mimetype="application/pkcs7-mime",
                    headers={"Content-Disposition": f'attachment; filename="{signature_id}.attached.p7s"'})


# --- Third-party verification (验签, `signatures:verify`) -----------------------------------------

class _BadRequestParser(FlaskParser):
    """Malformed verification input is a 400 problem (the issue's contract), not the house 422."""

    DEFAULT_VALIDATION_STATUS = 400

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages if isinstance(error.messages, dict) else {"json": error.messages}
        raise VerificationInputInvalid(errors=flatten_messages(messages))


class _VerifyBlueprint(Blueprint):
    ARGUMENTS_PARSER = _BadRequestParser()


verify_blp = _VerifyBlueprint("signature_verification", __name__, url_prefix="/api/v1/verify",
                              description="验签服务 (third-party signature verification)")


@verify_blp.route("/signatures", methods=["POST"])
@verify_blp.arguments(rs.VerifyRequestSchema())
@verify_blp.response(200, rs.ValidationReportSchema())
@verify_blp.doc(description=rs.FORMS_DOC)
@problems(verify_blp, {400: "verification_input_invalid, bad_request", 403: "insufficient_scope, forbidden",
                       429: "rate_limited"})
@auth_required(kinds=("client",), scopes=("signatures:verify",))
def verify_signature(body):
    """Verify an SM2 signature or CMS SignedData: a DSS-style report with art. 13 evidence, signed by the platform."""
    return service.verify(client_id=current_principal().id, body=body)
