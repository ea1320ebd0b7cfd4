"""Consent endpoints (用证授权): the verifier's request and poll; the citizen's list, detail, step-up
code, approval and refusal."""
from __future__ import annotations

from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, current_principal
from consent import schemas as s
from consent import service as consent

blp = Blueprint("consent", __name__, url_prefix="/api/v1", description="用证授权 (consent-based online verification)")

FORMAT_DOC = """
**Model: OpenID4VP 1.0**, where it fits — a request object with a DCQL-style `dcql_query`, `nonce`, `state`,
`response_mode: direct_post` with a `response_uri`; the answer is a `vp_token` or `error=access_denied`.

**Where YiWang differs, and why.** (1) The verifier names the citizen by the phone number the citizen gave it
(`citizen.phone`), and the platform notifies the citizen's app (push, inbox, live, deep link
`yiwang://consent/<id>`), instead of showing a QR for a wallet in the same browser session. A phone that no verified
account holds gets the same 201 and the request simply expires: the API tells nobody who is registered. An ID number
is never a lookup key. (2) The request object is not a signed JWT: the verifier is authenticated by its OAuth client
token (scope `verifications:request`) and the citizen is shown its registered name. (3) What may be asked is a
matter (用证事项) of the platform's catalogue with its legal basis; `dcql_query` may only narrow the matter's licence
types and fields (else 422 `consent_query_invalid`). One credential per request. (4) The approval needs a step-up
(the signing PIN, or an SMS code sent for that one request): a stolen access token cannot disclose a licence.
(5) The `vp_token` is not an SD-JWT VC: it is a JWS-like compact object signed by the platform's `disclosure` key
with `alg: "SM2-SM3"` — SM2 has no registered JOSE algorithm (HAIP lets ecosystem profiles add suites) — carrying
exactly the matter's fields as the matter shows them (masked where it says). (6) The response is not encrypted
(`direct_post`, not `direct_post.jwt`); it goes over TLS to the https `response_uri` given in the request, and the
same answer is served on this authenticated poll (`response_mode: poll` is YiWang's extension for verifiers that
cannot receive calls). Redirects are not followed; an undelivered answer is retried (`flask consent deliver`).

**The `vp_token` format.** `BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)` (no padding).
header: `{"alg":"SM2-SM3","kid":"<16 hex>","typ":"yiwang-disclosure+jws"}`. payload: `iss`, `aud` (your client id),
`iat`, `exp` (Unix seconds), `jti` (the request id), `nonce`, `state` (echoed: compare them), `matter`,
`credential` {`format`: yiwang-licence, `type`, `licence_id`, `identifier` (GB/T 36904, its version segment),
`version`, `issuer_uscc`, `issuer_name`, `status`, `valid_until`}, `claims` {field: value as disclosed},
`disclosure` {field: full|masked|tail4}. signature: SM2 with SM3 and the default user id `1234567812345678`, over
the ASCII bytes `BASE64URL(header) "." BASE64URL(payload)`; r and s as two 32-byte big-endian integers (64 bytes, as
JWS ES256 encodes ECDSA). The key: the trust list `GET /.well-known/yiwang/issuers`, `platform_keys` entry whose
`kid` is the header's and whose purpose is `disclosure` (its certificate chains to the platform CA).

Verify with the OpenSSL CLI (3.x): split the token; write the first two parts joined by "." to `msg`; convert the
64-byte signature to DER (`SEQUENCE { INTEGER r, INTEGER s }`, e.g. `openssl asn1parse -genconf` or 5 lines of
Python); take the key's certificate PEM from the trust list and
`openssl x509 -in disclosure.pem -pubkey -noout > pub.pem`, then
`openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -digest sm3 -pkeyopt distid:1234567812345678 -in msg -sigfile sig.der`
("Signature Verified Successfully"). Then check `aud`, `exp`, `nonce`, `state`. Anything else is a failure
(fail closed).
"""


@blp.route("/verifier/requests", methods=["POST"])
@blp.doc(description=FORMAT_DOC)
@blp.arguments(s.ConsentCreateRequestSchema())
@blp.response(201, s.ConsentVerifierRequestSchema())
@problems(blp, {403: "insufficient_scope", 422: "validation_failed, phone_invalid, consent_matter_unknown, "
                                                 "consent_query_invalid, consent_response_uri_invalid",
                429: "consent_rate_limited"})
@auth_required(kinds=("client",), scopes=(consent.SCOPE,))
def create_request(body):
    """Ask a citizen to disclose a matter's fields (verifier, scope `verifications:request`)."""
    return consent.create_request(client_id=current_principal().id, body=body), 201


@blp.route("/verifier/requests/<request_id>", methods=["GET"])
@blp.doc(description=FORMAT_DOC)
@blp.response(200, s.ConsentVerifierRequestSchema())
@problems(blp, {403: "insufficient_scope", 404: "consent_request_not_found"})
@auth_required(kinds=("client",), scopes=(consent.SCOPE,))
def poll_request(request_id):
    """Poll my request: pending, approved (with `vp_token`), refused or expired (with `error`)."""
    return consent.get_for_verifier(client_id=current_principal().id, request_id=request_id)


@blp.route("/consent/requests", methods=["GET"])
@blp.arguments(s.ConsentListArgsSchema(), location="query")
@blp.response(200, s.ConsentCitizenRequestListSchema())
@problems(blp, {403: "assurance_level_insufficient, proxy_not_allowed", 422: "cursor_invalid, validation_failed"})
@auth_required(level=2)
def list_requests(args):
    """Requests to disclose my licences, newest first (approved ones: what I disclosed, to whom)."""
    return consent.list_for_citizen(user_id=current_principal().id, status=args["status"], limit=args["limit"],
                                    cursor=args["cursor"])


@blp.route("/consent/requests/<request_id>", methods=["GET"])
@blp.response(200, s.ConsentCitizenRequestSchema())
@problems(blp, {403: "assurance_level_insufficient, proxy_not_allowed", 404: "consent_request_not_found"})
@auth_required(level=2)
def get_request(request_id):
    """Who asks, for which matter (with its legal basis), which fields of which licence types."""
    return consent.get_for_citizen(user_id=current_principal().id, request_id=request_id)


@blp.route("/consent/requests/<request_id>/step-up-code", methods=["POST"])
@blp.response(202, s.ConsentStepUpCodeSchema())
@problems(blp, {403: "assurance_level_insufficient, proxy_not_allowed", 404: "consent_request_not_found",
                409: "consent_request_answered, phone_required", 410: "consent_request_expired",
                429: "sms_resend_too_soon, rate_limited", 503: "service_unavailable"})
@auth_required(level=2)
def send_step_up_code(request_id):
    """Send an SMS code to my bound phone, good for approving this request only."""
    return consent.send_step_up_code(user_id=current_principal().id, request_id=request_id), 202


@blp.route("/consent/requests/<request_id>/approve", methods=["POST"])
@blp.arguments(s.ConsentApproveSchema())
@blp.response(200, s.ConsentCitizenRequestSchema())
@problems(blp, {400: "pin_invalid", 403: "assurance_level_insufficient, proxy_not_allowed, step_up_failed",
                404: "consent_request_not_found, licence_not_found, signing_not_enrolled",
                409: "consent_request_answered", 410: "consent_request_expired",
                422: "validation_failed, consent_licence_not_applicable, matter_not_applicable, licence_not_valid",
                423: "signing_locked"})
@auth_required(level=2)
def approve_request(body, request_id):
    """Approve with a step-up (`pin` or `sms_code`), choosing the licence: the verifier gets the
    signed disclosure of the matter's fields."""
    return consent.approve(user_id=current_principal().id, request_id=request_id, licence_id=body["licence_id"],
                           sms_code=body["sms_code"], pin=body["pin"])


@blp.route("/consent/requests/<request_id>/refuse", methods=["POST"])
@blp.response(200, s.ConsentCitizenRequestSchema())
@problems(blp, {403: "assurance_level_insufficient, proxy_not_allowed", 404: "consent_request_not_found",
                409: "consent_request_answered", 410: "consent_request_expired"})
@auth_required(level=2)
def refuse_request(request_id):
    """Refuse: nothing is disclosed; the verifier gets `access_denied`."""
    return consent.refuse(user_id=current_principal().id, request_id=request_id)
