"""Consent-based online verification (用证授权): a third party asks, the citizen decides.

Modelled on OpenID for Verifiable Presentations 1.0 where it fits:
- the verifier (a bank, a hotel, an employer: a machine client with scope `verifications:request`)
  sends a request object — `dcql_query` (DCQL-style: one credential, its licence types and claims),
  `nonce`, `state`, `response_mode` `direct_post` with a `response_uri`;
- the citizen's wallet (this app) shows who asks (the client's registered name), the matter
  (用证事项) and its legal basis, the fields; the citizen approves — choosing the licence, proving it
  is them with a step-up — or refuses;
- the answer is a signed disclosure (`vp_token`) or an `access_denied` error, POSTed form-encoded to
  the `response_uri` (direct_post) and served to the verifier's poll.

Where YiWang differs, and why:
- the request is not delivered to a wallet by a QR or a deep link the verifier shows: the verifier
  names the citizen (the phone number the citizen gave it) and the platform tells the citizen's app
  (push, inbox, live), since a bank's counter and a citizen's phone are not in one browser session.
  A phone no verified account holds gets the same 201 (the request simply expires): the API cannot be
  used to learn who is registered. An ID number is never a lookup key.
- the request object is not a signed JWT (JAR): the verifier is authenticated by its OAuth client
  token, and what the citizen sees (its name) comes from the registry, not from the request.
- the scope of a request is a matter from the platform's catalogue, never free text: the DCQL query
  may only narrow the matter's licence types and fields (anything else: 422 consent_query_invalid).
- the disclosure is not an SD-JWT VC or an mdoc: it is one JWS-like compact object signed by the
  platform's "disclosure" key with alg `SM2-SM3` — SM2 has no registered JOSE algorithm (HAIP allows
  ecosystem profiles to add suites) — and it carries exactly the matter's fields as the matter shows
  them (masked where it says), so the verifier checks one signature against the published trust list
  (`/.well-known/yiwang/issuers`, `platform_keys`), not the issuer's. The response is not encrypted
  (`direct_post`, not `direct_post.jwt`): it travels over TLS to a URI the verifier registered in its
  own request, and is also served on its authenticated poll.
- polling `GET /verifier/requests/{id}` is offered beside direct_post (response_mode `poll`), for
  verifiers that cannot receive calls.
State lives in the database; every check fails closed (an unknown key, a bad signature, an expired
or answered request, an unreachable response_uri are refusals, never a silent pass).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from app import audit, i18n, ratelimit
from app.db import after_commit, new_id, unit_of_work, utcnow
from app.i18n import N_, T_
from app.idnumber import normalize_phone
from app.ratelimit import Limit
from app.security.pii import mask_phone
from consent import delivery, models, notices
from consent.disclosure import DisclosureInvalid, sign_disclosure, verify_disclosure  # noqa: F401 (the service answers for both)
from consent.errors import (
    ConsentLicenceNotApplicable, ConsentMatterUnknown, ConsentQueryInvalid, ConsentRequestAnswered,
    ConsentRequestExpired, ConsentRequestNotFound, ConsentResponseUriInvalid,
)
from consent.models import APPROVED, EXPIRED, PENDING, REFUSED, ConsentRequest
from identity import service as identity
from identity.service import PhoneInvalid, PhoneRequired, StepUpFailed
from signing import service as signing
from wallet import service as wallet

log = logging.getLogger(__name__)

SCOPE = "verifications:request"
MAX_LIMIT = 50


def clock() -> datetime:
    """Now (UTC, aware); tests move it."""
    return utcnow()


def _cfg(name: str) -> Any:
    return current_app.config[name]


# --- The verifier ------------------------------------------------------------------------------

def _query(matter_code: str, dcql: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """(the matter, the licence types asked for, the claims asked for), each within the matter's."""
    matter = wallet.consent_matter(matter_code)
    if matter is None:
        allowed = wallet.consent_matter_codes()
        raise ConsentMatterUnknown(errors={"matter": [N_("可选事项：{codes}", codes=", ".join(allowed))]},
                                   extra={"allowed_matters": allowed})
    credential = dcql["credentials"][0]
    types = list(dict.fromkeys((credential.get("meta") or {}).get("type_values") or matter["fields"]))
    outside = [t for t in types if t not in matter["fields"]]
    if outside:
        raise ConsentQueryInvalid(errors={"dcql_query": [N_("该事项可用的证照类型：{types}",
                                                            types=", ".join(matter["fields"]))]},
                                  extra={"allowed_types": list(matter["fields"])})
    allowed_claims = list(dict.fromkeys(key for t in types for key in matter["fields"][t]))
    asked = credential.get("claims")
    claims = list(dict.fromkeys(c["path"][0] for c in asked)) if asked else allowed_claims
    beyond = [c for c in claims if c not in allowed_claims]
    if beyond:
        raise ConsentQueryInvalid(errors={"dcql_query": [N_("该事项可查询的字段：{claims}",
                                                            claims=", ".join(allowed_claims))]},
                                  extra={"allowed_claims": allowed_claims, "outside": beyond})
    return matter, types, claims


def _response_uri(mode: str, uri: str | None) -> str | None:
    if mode != "direct_post":
        return None
    parts = urlsplit(uri or "")
    http_ok = _cfg("CONSENT_ALLOW_HTTP_RESPONSE_URI") and parts.scheme == "http"
    if not parts.hostname or (parts.scheme != "https" and not http_ok) or parts.username or parts.password:
        raise ConsentResponseUriInvalid(errors={"response_uri": [ConsentResponseUriInvalid.detail]})
    return uri


def create_request(*, client_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A verifier asks a citizen (named by the phone the citizen gave it) to disclose a matter's
    fields. Checks: the matter and query (422), the response_uri (422), the phone's form (422), the
    verifier's limits (429). The citizen is told when a verified account holds the phone; the
    answer is the same either way."""
    matter, types, claims = _query(body["matter"], body["dcql_query"])
    response_uri = _response_uri(body["response_mode"], body.get("response_uri"))
    phone = normalize_phone(body["citizen"]["phone"])
    if phone is None:
        raise PhoneInvalid(errors={"citizen": {"phone": [N_("请输入 11 位中国大陆手机号码。")]}})
    bidx = identity.phone_index(phone)
    ratelimit.consume([
        Limit(f"consent:client:{client_id}", _cfg("CONSENT_PER_CLIENT_HOUR"), 3600, "consent_rate_limited",
              N_("用证授权请求过于频繁，请稍后再试。")),
        Limit(f"consent:pair:{client_id}:{bidx}", _cfg("CONSENT_PER_CITIZEN_HOUR"), 3600, "consent_rate_limited",
              N_("用证授权请求过于频繁，请稍后再试。")),
    ])
    holder = identity.user_by_phone(phone)
    user_id = holder.id if holder is not None and identity.verified_level(holder.id) >= 2 else None
    now = clock()
    ttl = int(body.get("expires_in") or _cfg("CONSENT_REQUEST_TTL"))
    with unit_of_work():
        request = models.insert_request(
            id=new_id("cr"), client_id=client_id, verifier_name=identity.client_name(client_id) or client_id,
            user_id=user_id, matter=matter["code"], type_codes=json.dumps(types), claims=json.dumps(claims),
            dcql_query=json.dumps(body["dcql_query"], ensure_ascii=False, sort_keys=True), nonce=body["nonce"],
            state=body.get("state"), response_mode=body["response_mode"], response_uri=response_uri,
            created_at=now, expires_at=now + timedelta(seconds=ttl))
        audit.record("consent.request", actor_kind="client", actor_id=client_id, target=request.id,
                     details={"matter": matter["code"], "types": types, "claims": claims,
                              "response_mode": body["response_mode"], "citizen_found": user_id is not None})
        if user_id is not None:
            notices.requested(request)
    return verifier_view(request)


def status_of(request: ConsentRequest, now: datetime | None = None) -> str:
    if request.status == PENDING and request.expires_at <= (now or clock()):
        return EXPIRED
    return request.status


def verifier_view(request: ConsentRequest) -> dict[str, Any]:
    """The request as its verifier polls it: with the signed disclosure once approved, the error
    once refused or expired (OpenID4VP's `access_denied`)."""
    status = status_of(request)
    view: dict[str, Any] = {
        "id": request.id, "status": status, "matter": request.matter, "nonce": request.nonce,
        "state": request.state, "response_mode": request.response_mode, "response_uri": request.response_uri,
        "created_at": request.created_at, "expires_at": request.expires_at, "answered_at": request.answered_at,
        "vp_token": request.disclosure if status == APPROVED else None,
        "error": {REFUSED: "access_denied", EXPIRED: "expired_request"}.get(status),
        "delivery": request.delivery,
    }
    return view


def get_for_verifier(*, client_id: str, request_id: str) -> dict[str, Any]:
    request = models.find_request(request_id)
    if request is None or request.client_id != client_id:
        raise ConsentRequestNotFound()
    return verifier_view(request)


# --- The citizen -------------------------------------------------------------------------------

def _own(user_id: str, request_id: str) -> ConsentRequest:
    request = models.find_request(request_id)
    if request is None or request.user_id is None or request.user_id != user_id:
        raise ConsentRequestNotFound()
    return request


def citizen_view(request: ConsentRequest) -> dict[str, Any]:
    """What the citizen is shown: who asks, the matter and its legal basis, which fields of which
    licence types; once approved, which licence and fields were disclosed (names, never values)."""
    matter = wallet.consent_matter(request.matter) or {}
    types = json.loads(request.type_codes)
    claims = json.loads(request.claims)
    basis = i18n.translate(matter["legal_basis"]) if matter.get("legal_basis") else None
    name = i18n.translate(matter["name"]) if matter.get("name") else request.matter
    fields = []
    for key in claims:
        owner = next((t for t in types if key in (matter.get("fields") or {}).get(t, ())), types[0])
        fields.append({"key": key, "label": i18n.label("licence_field", (owner, key))})
    disclosed = json.loads(request.disclosed) if request.disclosed else None
    return {
        "id": request.id, "status": status_of(request),
        "verifier": {"name": request.verifier_name},
        "matter": {"code": request.matter, "name": name,
                   "legal_basis": basis},
        "licence_types": [{"code": t, "name": i18n.label("licence_type", t)} for t in types],
        "fields": fields,
        "created_at": request.created_at, "expires_at": request.expires_at, "answered_at": request.answered_at,
        "licence_id": request.licence_id, "disclosed_fields": disclosed,
        "step_up": request.step_up,
    }


def list_for_citizen(*, user_id: str, status: str | None, limit: int = 20,
                     cursor: str | None = None) -> dict[str, Any]:
    """The citizen's requests, newest first (approved ones are the record of what was disclosed)."""
    identity.require_level(user_id, 2)
    page, next_cursor = models.user_requests_page(user_id, status=status, now=clock(),
                                                  limit=max(1, min(limit, MAX_LIMIT)), cursor=cursor)
    return {"items": [citizen_view(r) for r in page], "next_cursor": next_cursor}


def get_for_citizen(*, user_id: str, request_id: str) -> dict[str, Any]:
    return citizen_view(_own(user_id, request_id))


def _open(request: ConsentRequest) -> None:
    status = status_of(request)
    if status == EXPIRED:
        raise ConsentRequestExpired()
    if status != PENDING:
        raise ConsentRequestAnswered()


def _code_subject(request_id: str, user_id: str) -> str:
    return f"consent:{request_id}:{user_id}"


def send_step_up_code(*, user_id: str, request_id: str) -> dict[str, Any]:
    """An SMS code to the citizen's bound phone, good for approving this one request only."""
    request = _own(user_id, request_id)
    _open(request)
    phone = identity.bound_phones([user_id]).get(user_id)
    if phone is None:
        raise PhoneRequired()
    bidx = identity.phone_index(phone)
    ratelimit.consume([Limit(f"sms:{{{bidx}}}:step-up:consent", 1, _cfg("SMS_RESEND_COOLDOWN"),
                             "sms_resend_too_soon", N_("验证码发送过于频繁，请稍后再试。")),
                       *identity.phone_send_limits(bidx)])
    subject = _code_subject(request.id, user_id)
    code = identity.new_sms_code(subject)
    try:
        identity.send_sms(phone, code)
    except identity.SmsDeliveryError as exc:
        identity.discard_sms_code(subject)
        ratelimit.reset(f"sms:{{{bidx}}}:step-up:consent")
        raise _sms_unavailable() from exc
    return {"expires_in": _cfg("SMS_CODE_TTL"), "resend_after": _cfg("SMS_RESEND_COOLDOWN"),
            "phone_masked": mask_phone(phone)}


def _sms_unavailable():
    from app.errors import ServiceUnavailable
    return ServiceUnavailable(N_("短信发送暂时不可用，请稍后再试或使用电子签名密码。"))


def _step_up(*, user_id: str, request_id: str, sms_code: str | None, pin: str | None) -> str:
    """Proof beyond the bearer token (a stolen token must not disclose a licence to a third party):
    the signing PIN (its wrong tries count toward its lockout) or the SMS code sent for THIS
    request. Outside any transaction, so a wrong try's count stays."""
    if pin:
        signing.check_pin(user_id=user_id, pin=pin)
        return "pin"
    answer = identity.check_sms_code(_code_subject(request_id, user_id), sms_code or "") if sms_code else None
    if answer is not identity.CodeCheck.OK:
        with unit_of_work():
            audit.record("consent.step_up", outcome="refused", actor_kind="citizen", actor_id=user_id,
                         target=request_id, details={"reason": getattr(answer, "value", "missing")})
        raise StepUpFailed(extra={"reason": getattr(answer, "value", "missing")})
    return "sms"


def approve(*, user_id: str, request_id: str, licence_id: str, sms_code: str | None = None,
            pin: str | None = None) -> dict[str, Any]:
    """Disclose the matter's fields of the chosen licence to the verifier: checks the request is
    the citizen's (404), still open (410/409), the step-up (403 / PIN errors), the licence (404, 422
    when the verifier did not ask for its type or the matter does not accept it, 422 when not
    valid now); signs the disclosure; the answer commits with its audit row and the citizen's notice;
    then the direct_post is attempted (retried by `flask consent deliver`)."""
    request = _own(user_id, request_id)
    _open(request)
    how = _step_up(user_id=user_id, request_id=request.id, sms_code=sms_code, pin=pin)
    claims = json.loads(request.claims)
    shown = wallet.matter_disclosure(user_id=user_id, licence_id=licence_id, matter_code=request.matter,
                                     claims=claims)
    if shown["type_code"] not in json.loads(request.type_codes):
        raise ConsentLicenceNotApplicable(errors={"licence_id": [ConsentLicenceNotApplicable.detail]})
    now = clock()
    compact = sign_disclosure(request, shown, now)
    with unit_of_work():
        changed = models.answer_request(request.id, status=APPROVED, answered_at=now, step_up=how,
                                        licence_id=licence_id, disclosed=json.dumps(list(shown["fields"])),
                                        disclosure=compact,
                                        delivery=models.DELIVERY_PENDING if request.response_uri else models.NO_DELIVERY)
        if not changed:
            raise ConsentRequestAnswered()
        if models.find_request(request.id).expires_at <= now:  # expired between the checks and now
            raise ConsentRequestExpired()
        audit.record("consent.approve", actor_kind="citizen", actor_id=user_id, target=request.id,
                     details={"client_id": request.client_id, "matter": request.matter, "licence": licence_id,
                              "fields": list(shown["fields"]), "step_up": how})
        request = models.find_request(request.id)
        notices.disclosed(request, shown["type_code"], list(shown["fields"]))
        if request.response_uri:
            after_commit(deliver, request.id)
    return citizen_view(request)


def refuse(*, user_id: str, request_id: str) -> dict[str, Any]:
    """Refuse: nothing is disclosed (no step-up needed); the verifier gets `access_denied`."""
    request = _own(user_id, request_id)
    _open(request)
    now = clock()
    with unit_of_work():
        changed = models.answer_request(request.id, status=REFUSED, answered_at=now,
                                        delivery=models.DELIVERY_PENDING if request.response_uri else models.NO_DELIVERY)
        if not changed:
            raise ConsentRequestAnswered()
        audit.record("consent.refuse", actor_kind="citizen", actor_id=user_id, target=request.id,
                     details={"client_id": request.client_id, "matter": request.matter})
        if request.response_uri:
            after_commit(deliver, request.id)
    return citizen_view(models.find_request(request.id))


# --- direct_post -------------------------------------------------------------------------------

def deliver(request_id: str) -> bool:
    """POST the answer to the verifier's response_uri (form-encoded, as OpenID4VP direct_post:
    `vp_token` and `state`, or `error=access_denied` and `state`). A 2xx marks it delivered; anything
    else (a refusal, a redirect, a timeout) leaves it pending for `flask consent deliver`, failed
    after CONSENT_DELIVERY_MAX_ATTEMPTS. Never changes the answer itself."""
    request = models.find_request(request_id)
    if request is None or request.delivery != models.DELIVERY_PENDING or not request.response_uri:
        return False
    if request.status == APPROVED:
        form = {"vp_token": request.disclosure, "state": request.state or ""}
    else:
        form = {"error": "access_denied", "error_description": "the citizen refused", "state": request.state or ""}
    outcome = delivery.post_form(current_app, request.response_uri, form)
    attempts = request.delivery_attempts + 1
    with unit_of_work():
        if outcome is None:
            models.set_delivery(request.id, delivery=models.DELIVERED, delivery_attempts=attempts,
                                delivered_at=clock(), delivery_error=None)
        else:
            failed = attempts >= _cfg("CONSENT_DELIVERY_MAX_ATTEMPTS")
            models.set_delivery(request.id, delivery=models.DELIVERY_FAILED if failed else models.DELIVERY_PENDING,
                                delivery_attempts=attempts, delivery_error=outcome[:64])
        audit.record("consent.deliver", outcome="success" if outcome is None else "failure", actor_kind="system",
                     target=request.id, details={"attempt": attempts, "error": outcome})
    return outcome is None


def deliver_due() -> tuple[int, int]:
    """Retry every pending direct_post once: (delivered, still not delivered)."""
    done = left = 0
    for request in models.deliveries_due():
        if deliver(request.id):
            done += 1
        else:
            left += 1
    return done, left


T_("用证授权")  # the journey's name in the catalogue (notices and the H5 screen)
