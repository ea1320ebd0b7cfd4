"""Wallet endpoints — 电子证照: the public catalogue, the issuer API and the holder's wallet."""
from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache

from flask import Response, jsonify, request
from flask_smorest import Blueprint

from app import i18n, qr
from app.openapi import problems
from app.security.auth import auth_required, current_principal
from identity import service as identity
from wallet import matter_schemas as ms
from wallet import schemas as s
from wallet import service

blp = Blueprint("wallet", __name__, url_prefix="/api/v1", description="电子证照 (e-licence wallet)")

_CACHE_CONTROL = "public, max-age=3600"


@lru_cache(maxsize=len(i18n.LANGUAGES))
def _catalogue_answer(language: str) -> tuple[dict, str]:
    """The catalogue as served in `language` and its strong ETag (one per language: the body
    differs); the catalogue only changes with a release."""
    with i18n.use(language):
        payload = s.LicenceTypeListSchema().dump({"items": service.localized_types()})
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return payload, f'"{digest[:32]}"'


@blp.route("/licence-types", methods=["GET"])
@blp.response(200, s.LicenceTypeListSchema())
@blp.alt_response(304, description="Not Modified (If-None-Match matched the ETag)")
def list_licence_types():
    """List the licence types the wallet can hold, with their fields (public, cacheable)."""
    payload, etag = _catalogue_answer(i18n.language())
    headers = {"ETag": etag, "Cache-Control": _CACHE_CONTROL}
    if etag.strip('"') in request.if_none_match:
        return Response(status=304, headers=headers)
    return payload, 200, headers


# --- Issuers (发证机关, `licences:issue`) --------------------------------------------------------


_ISSUE = {"kinds": ("client",), "scopes": ("licences:issue",)}
# a client acts for a registered, active department (issuers/, checked before the body is read)
_ISSUER_403 = "insufficient_scope, forbidden, issuer_not_registered, issuer_suspended"


@blp.route("/issuer/licences", methods=["POST"])
@blp.arguments(s.IssueLicenceSchema())
@blp.response(201, s.IssuedLicenceSchema())
@blp.alt_response(200, schema=s.IssuedLicenceSchema, description="同一 reference、同一内容的重复提交：原证照")
@problems(blp, {403: _ISSUER_403 + ", issuer_type_not_allowed (allowed)", 409: "reference_conflict",
                422: "validation_failed, licence_type_unknown, licence_data_invalid, id_number_invalid, uscc_invalid, "
                     "validity_invalid, "
                     "holder_name_mismatch, validity_inconsistent, status_inconsistent (field_codes: field → code)"})
@auth_required(**_ISSUE)
def issue_licence(body):
    """Issue and sign a licence for a holder (idempotent on `reference`)."""
    holder = body["holder"]
    enterprise = holder["kind"] == "enterprise"  # issued to a USCC (issue 19)
    request_ = service.IssueRequest(type_code=body["type_code"], holder_name=holder["name"],
                                    holder_id_number=holder["uscc"] if enterprise else holder["id_number"],
                                    data=body["data"], valid_from=body["valid_from"], valid_until=body["valid_until"],
                                    reference=body["reference"], holder_kind=holder["kind"])
    view, created = service.issue_licence(client_id=current_principal().id, request=request_)
    return view, 201 if created else 200


@blp.route("/issuer/licences/<licence_id>", methods=["GET"])
@blp.response(200, s.IssuedLicenceSchema())
@problems(blp, {403: _ISSUER_403, 404: "licence_not_found"})
@auth_required(**_ISSUE)
def get_issued_licence(licence_id):
    """Status of a licence this client issued."""
    return service.get_issued(client_id=current_principal().id, licence_id=licence_id)


@blp.route("/issuer/licences/<licence_id>/revoke", methods=["POST"])
@blp.arguments(s.ChangeStatusSchema())
@blp.response(200, s.IssuedLicenceSchema())
@problems(blp, {403: _ISSUER_403, 404: "licence_not_found", 409: "licence_transition_forbidden (from, to, allowed)",
                422: "validation_failed"})
@auth_required(**_ISSUE)
def revoke_licence(body, licence_id):
    """Change a licence's status (暂扣, 撤销, 注销, 吊销 …): a new, re-signed version."""
    return service.change_status(client_id=current_principal().id, licence_id=licence_id,
                                 status_code=body["status_code"], reason=body["reason"])


@blp.route("/issuer/licences/<licence_id>/status", methods=["POST"])
@blp.arguments(s.StatusChangeSchema())
@blp.response(200, s.IssuedLicenceSchema())
@problems(blp, {403: _ISSUER_403, 404: "licence_not_found", 409: "licence_transition_forbidden (from, to, allowed), "
                                                "licence_versions_exhausted", 422: "validation_failed"})
@auth_required(**_ISSUE)
def change_licence_status(body, licence_id):
    """Change a licence's status as its life cycle allows, 02 → 01 (restore) included: a new version."""
    return service.change_status(client_id=current_principal().id, licence_id=licence_id,
                                 status_code=body["status_code"], reason=body["reason"])


@blp.route("/issuer/licences/<licence_id>/reissue", methods=["POST"])
@blp.arguments(s.ReissueSchema())
@blp.response(200, s.IssuedLicenceSchema())
@problems(blp, {403: _ISSUER_403, 404: "licence_not_found", 409: "licence_reissue_forbidden (licence_status, allowed_from), "
                                                "licence_versions_exhausted",
                422: "validation_failed, licence_data_invalid, validity_invalid, holder_name_mismatch, "
                     "validity_inconsistent, status_inconsistent"})
@auth_required(**_ISSUE)
def reissue_licence(body, licence_id):
    """Re-issue (补领), renew (换领) or change (变更) a licence: a new version, the identifier's version + 1."""
    ask = service.Reissue(kind=body["kind"], reason=body["reason"], changes=body["data"],
                          holder_name=body.get("holder_name"), valid_from=body.get("valid_from"),
                          **({"valid_until": body["valid_until"]} if "valid_until" in body else {}))
    return service.reissue(client_id=current_principal().id, licence_id=licence_id, ask=ask)


# --- The holder's wallet (我的证照, L2+) --------------------------------------------------------

# A citizen, or an enterprise (issue 19): its legal representative's or an agent's enterprise token,
# whose subject (`current_principal().id`, "en_…") owns the enterprise's licences; the level is the
# acting person's.
_HOLDERS = ("citizen", "enterprise")


@blp.route("/wallet/licences", methods=["GET"])
@blp.arguments(s.WalletListArgsSchema(), location="query")
@blp.response(200, s.WalletLicenceListSchema())
@problems(blp, {403: "assurance_level_insufficient", 422: "cursor_invalid, validation_failed"})
@auth_required(kinds=_HOLDERS, delegable="licences:view", level=2)
def list_wallet_licences(args):
    """My licences, newest first (cursor pagination)."""
    return service.list_licences(user_id=current_principal().id, limit=args["limit"], cursor=args["cursor"])


@blp.route("/wallet/licences/<licence_id>", methods=["GET"])
@blp.response(200, s.WalletLicenceDetailSchema())
@problems(blp, {403: "assurance_level_insufficient", 404: "licence_not_found"})
@auth_required(kinds=_HOLDERS, delegable="licences:view")
def get_wallet_licence(licence_id):
    """One of my licences: all fields (sensitive ones masked) and the issuer signature checked now."""
    return service.get_licence(user_id=current_principal().id, licence_id=licence_id)


# --- Showing a licence (亮证) -------------------------------------------------------------------

@blp.route("/wallet/licences/<licence_id>/presentations", methods=["POST"])
@blp.arguments(s.CreatePresentationSchema())
@blp.response(201, s.PresentationSchema())
@problems(blp, {403: f"assurance_level_insufficient; {identity.policy_text('licence_present')}",
                404: "licence_not_found", 422: "licence_not_valid, validation_failed"})
@auth_required(kinds=_HOLDERS, delegable="licences:present", **identity.policy_requirement("licence_present"))
def create_presentation(body, licence_id):
    """Show a licence: a one-time QR text and manual code (default 60 s); retires the previous one."""
    principal = current_principal()
    return service.create_presentation(user_id=principal.id, licence_id=licence_id, fields=body["fields"],
                                       purpose=body["purpose"],
                                       shown_by=principal.actor_id if principal.delegated else None), 201


@blp.route("/wallet/licences/<licence_id>/matters", methods=["GET"])
@blp.response(200, s.OfflineMatterListSchema())
@problems(blp, {403: "assurance_level_insufficient", 404: "licence_not_found"})
@auth_required(delegable="licences:present", level=2)
def list_licence_matters(licence_id):
    """The matters (用证事项) one of my licences can be shown for, with the fields each discloses."""
    return service.offline_matters(user_id=current_principal().id, licence_id=licence_id)


@blp.route("/wallet/licences/<licence_id>/offline-presentations", methods=["POST"])
@blp.arguments(s.CreateOfflinePresentationSchema())
@blp.response(201, s.OfflinePresentationSchema())
@problems(blp, {403: "assurance_level_insufficient", 404: "licence_not_found",
                422: "licence_not_valid, licence_key_revoked, matter_unknown (allowed_matters), "
                     "matter_not_applicable (accepted_types), offline_qr_too_large, validation_failed",
                429: "rate_limited"})
@blp.doc(description=service.OFFLINE_QR_DESCRIPTION)
@auth_required(delegable="licences:present", level=2)
def create_offline_presentation(body, licence_id):
    """Show a licence offline: an SM2-signed QR for one matter that a verifier checks with the cached
    trust list and no network (≤ 5 minutes; format: YWO1: + base45 of version 1, documented in
    wallet/offline/format.py); recorded in my usage history as issued for the matter and its fields."""
    answer = service.create_offline_presentation(user_id=current_principal().id, licence_id=licence_id,
                                                 matter_code=body["matter"])
    answer["qr_png"] = base64.b64encode(answer.pop("png")).decode()
    return _no_store(jsonify(s.OfflinePresentationSchema().dump(answer))), 201


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/wallet/presentations/<presentation_id>/qr.png", methods=["GET"])
@blp.doc(responses={200: {"description": "PNG", "content": {"image/png": {}}}})
@problems(blp, {403: "assurance_level_insufficient", 404: "presentation_not_found"})
@auth_required(kinds=_HOLDERS, delegable="licences:present")
def presentation_png(presentation_id):
    """The QR code of my live presentation, as PNG."""
    text = service.qr_text_of(user_id=current_principal().id, presentation_id=presentation_id)
    return _no_store(Response(qr.render_png(text), mimetype="image/png"))


@blp.route("/wallet/presentations/<presentation_id>/qr.svg", methods=["GET"])
@blp.doc(responses={200: {"description": "SVG", "content": {"image/svg+xml": {}}}})
@problems(blp, {403: "assurance_level_insufficient", 404: "presentation_not_found"})
@auth_required(kinds=_HOLDERS, delegable="licences:present")
def presentation_svg(presentation_id):
    """The QR code of my live presentation, as SVG."""
    text = service.qr_text_of(user_id=current_principal().id, presentation_id=presentation_id)
    return _no_store(Response(qr.render_svg(text), mimetype="image/svg+xml"))


@blp.route("/wallet/presentations/<presentation_id>", methods=["DELETE"])
@blp.response(204)
@problems(blp, {403: "assurance_level_insufficient", 404: "presentation_not_found"})
@auth_required(kinds=_HOLDERS, delegable="licences:present")
def revoke_presentation(presentation_id):
    """Withdraw a code I showed: it can no longer be verified."""
    service.revoke_presentation(user_id=current_principal().id, presentation_id=presentation_id)
    return "", 204


@blp.route("/wallet/usage", methods=["GET"])
@blp.arguments(s.WalletListArgsSchema(), location="query")
@blp.response(200, s.UsageListSchema())
@problems(blp, {403: "assurance_level_insufficient", 422: "cursor_invalid, validation_failed"})
@auth_required(kinds=_HOLDERS, delegable="licences:view")
def wallet_usage(args):
    """Who verified my licences: when, which hall and clerk, which fields (names only), newest first."""
    return service.holder_usage(user_id=current_principal().id, limit=args["limit"], cursor=args["cursor"])


# --- Counter verification (柜台核验, clerks) ------------------------------------------------------

_CLERK = {"kinds": ("staff",), "roles": ("clerk",)}


@blp.route("/counter/verifications", methods=["POST"])
@blp.arguments(s.VerificationRequestSchema())
@blp.response(200, s.VerificationSchema())
@problems(blp, {400: "presentation_invalid", 403: "forbidden, counter_out_of_scope (the clerk has no hall)",
                409: "presentation_used", 410: "presentation_expired",
                422: "licence_not_valid (reason: suspended | revoked | ended | expired, since: the day), "
                     "matter_unknown (allowed_matters; the code stays live), "
                     "matter_not_applicable (accepted_types; the code stays live), validation_failed",
                429: "rate_limited"})
@auth_required(**_CLERK)
def verify_presentation(body):
    """Verify a scanned QR text (or a typed manual code) for a matter (用证事项): one time only, licence
    re-read and re-verified; the answer discloses exactly the matter's fields."""
    return service.verify_presentation(clerk=current_principal(), matter=body["matter"], qr_text=body["qr_text"],
                                       manual_code=body["manual_code"])


@blp.route("/counter/matters", methods=["GET"])
@blp.response(200, ms.MatterListSchema())
@problems(blp, {403: "forbidden"})
@auth_required(**_CLERK)
def list_counter_matters():
    """The active matters (用证事项) a clerk chooses from before scanning: the licence types each accepts,
    the fields it discloses (full, masked or only the last four characters) and its legal basis, in
    the answer's language."""
    return {"items": service.counter_matters()}


@blp.route("/counter/verifications", methods=["GET"])
@blp.response(200, s.CounterCheckListSchema())
@problems(blp, {403: "forbidden"})
@auth_required(**_CLERK)
def list_counter_verifications():
    """Today's verifications by me (this clerk), newest first."""
    return service.clerk_today(clerk=current_principal())


# --- The catalogue of matters (用证事项目录, `matters:admin`) ---------------------------------------

_MATTERS_ADMIN = {"kinds": ("client",), "scopes": ("matters:admin",)}


def _actor() -> dict:
    return {"actor_kind": "client", "actor_id": current_principal().id}


@blp.route("/admin/matters", methods=["GET"])
@blp.arguments(ms.MatterAdminArgsSchema(), location="query")
@blp.response(200, ms.MatterAdminListSchema())
@problems(blp, {403: "forbidden, insufficient_scope", 422: "validation_failed"})
@auth_required(**_MATTERS_ADMIN)
def list_matters_admin(args):
    """The catalogue of matters, inactive ones included (unless active_only), both languages."""
    return {"items": service.counter_matters(active_only=args["active_only"])}


@blp.route("/admin/matters", methods=["POST"])
@blp.arguments(ms.MatterCreateSchema())
@blp.response(201, ms.MatterAdminSchema())
@problems(blp, {403: "forbidden, insufficient_scope", 409: "matter_exists",
                422: "validation_failed, matter_invalid (errors: licence type → reasons)"})
@auth_required(**_MATTERS_ADMIN)
def add_matter(body):
    """Add a matter: its names, legal basis, and per licence type the fields it discloses (audited)."""
    service.add_matter(code=body["code"], name_zh=body["name_zh"], name_en=body["name_en"],
                       legal_basis_zh=body["legal_basis_zh"], legal_basis_en=body["legal_basis_en"],
                       licence_types=body["licence_types"], **_actor())
    return service.localized_one(body["code"]), 201


@blp.route("/admin/matters/<code>", methods=["GET"])
@blp.response(200, ms.MatterAdminSchema())
@problems(blp, {403: "forbidden, insufficient_scope", 404: "matter_not_found"})
@auth_required(**_MATTERS_ADMIN)
def get_matter_admin(code):
    """One matter of the catalogue, active or not."""
    return service.localized_one(code)


@blp.route("/admin/matters/<code>", methods=["PATCH"])
@blp.arguments(ms.MatterUpdateSchema())
@blp.response(200, ms.MatterAdminSchema())
@problems(blp, {403: "forbidden, insufficient_scope", 404: "matter_not_found", 409: "matter_changed",
                422: "validation_failed, empty_update, matter_invalid (errors: licence type → reasons)"})
@auth_required(**_MATTERS_ADMIN)
def update_matter(body, code):
    """Change a matter (what is given), or deactivate / reactivate it (`active`); audited with before and after."""
    service.update_matter(code=code, **body, **_actor())
    return service.localized_one(code)

