"""The issuer registry's public API: the only module another feature may import.

A department (发证机关) is registered with its USCC (issuers/uscc.py checks it), name, region, the
licence types it may issue (codes of the wallet's catalogue) and acts through machine clients bound
to it. Other features ask:

- `issuer_for_client(client_id)`: the department a client acts for; 403 `issuer_not_registered`
  (no department) or `issuer_suspended`;
- `check_type(issuer, type_code)`: 403 `issuer_type_not_allowed` naming the allowed types;
- `get_issuer(issuer_id)` (404 `issuer_not_found`), `issuer_by_uscc(uscc)` (None when unknown),
  `list_issuers(active_only=True)`, `allowed_types(issuer)`, `client_ids(issuer)`.

Every change (register, update, suspend, resume, bind, unbind) is audited with the department's
state before and after, in the change's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

from app import audit
from app.db import new_id, unit_of_work
from app.errors import ValidationFailed
from app.i18n import N_
from identity import service as identity
from issuers import keys, models, trust, uscc
from issuers.errors import IssuerKeyNotFound
from issuers.errors import (
    ClientBoundElsewhere, ClientNotBound, ClientUnknown, IssuerNotFound, IssuerNotRegistered, IssuerSuspended,
    IssuerTypeNotAllowed, IssuerTypesInvalid, RegionInvalid, UsccFixed, UsccInvalid, UsccMissing, UsccTaken,
)
from issuers.models import STATUSES, Issuer

__all__ = ["Actor", "Issuer", "STATUSES", "allowed_types", "bind_client", "catalogue_codes", "check_type",
           "client_ids", "demo_client_for", "get_issuer", "issuer_by_uscc", "issuer_for_client", "issuer_view",
           "list_issuers", "list_views", "register", "set_status", "unbind_client", "update"]

NAME_MAX = 128


@dataclass(frozen=True)
class Actor:
    """Who changes the registry, for the audit: ("client", client id) through the admin API,
    ("operator", "flask-cli") from the command line."""

    kind: str
    id: str


CLI = Actor("operator", "flask-cli")


# --- What other features ask ---------------------------------------------------------------------

def issuer_for_client(client_id: str) -> Issuer:
    """The active department this machine client acts for; 403 issuer_not_registered / issuer_suspended."""
    issuer = models.issuer_of_client(client_id)
    if issuer is None:
        raise IssuerNotRegistered()
    if issuer.status != "active":
        raise IssuerSuspended()
    return issuer


def allowed_types(issuer: Issuer) -> tuple[str, ...]:
    """The licence type codes the department may issue (sorted)."""
    return issuer.type_codes


def check_type(issuer: Issuer, type_code: str) -> None:
    """403 issuer_type_not_allowed (naming the allowed types) unless the department may issue it."""
    allowed = allowed_types(issuer)
    if type_code not in allowed:
        raise IssuerTypeNotAllowed(
            N_("该发证机关无权签发此类证照；可签发的证照类型：{types}。", types=", ".join(allowed) or "-"),
            extra={"type_code": type_code, "allowed": list(allowed)})


def get_issuer(issuer_id: str) -> Issuer:
    issuer = models.issuer_by_id(issuer_id)
    if issuer is None:
        raise IssuerNotFound()
    return issuer


def issuer_by_uscc(code: str) -> Issuer | None:
    return models.issuer_by_uscc(uscc.normalise(code))


def list_issuers(active_only: bool = True) -> list[Issuer]:
    return models.list_issuers(active_only=active_only)


def client_ids(issuer: Issuer) -> list[str]:
    return models.client_ids(issuer.id)


def catalogue_codes() -> tuple[str, ...]:
    """The licence type codes of the wallet's catalogue (GET /api/v1/licence-types)."""
    from wallet import service as wallet  # at call time: the wallet asks this module too

    return tuple(t.code for t in wallet.localized_types())


def demo_client_for(type_code: str) -> str | None:
    """A client of an active department that may issue `type_code` (the demo seeders)."""
    for issuer in list_issuers(active_only=True):
        if type_code in issuer.type_codes:
            clients = client_ids(issuer)
            if clients:
                return clients[0]
    return None


# --- Views ---------------------------------------------------------------------------------------

def issuer_view(issuer: Issuer, clients: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": issuer.id, "uscc": issuer.uscc, "legacy_code": issuer.legacy_code, "name": issuer.name,
        "region": issuer.region, "types": list(issuer.type_codes), "status": issuer.status,
        "clients": clients if clients is not None else models.client_ids(issuer.id),
        "created_at": issuer.created_at, "updated_at": issuer.updated_at,
    }


def list_views(*, active_only: bool = False) -> list[dict[str, Any]]:
    issuers = list_issuers(active_only=active_only)
    clients = models.clients_by_issuer([i.id for i in issuers])
    return [issuer_view(i, clients[i.id]) for i in issuers]


def _state(issuer: Issuer) -> dict[str, Any]:
    """What the audit keeps before and after a change (no timestamps: the row's own)."""
    return {"uscc": issuer.uscc, "name": issuer.name, "region": issuer.region, "types": list(issuer.type_codes),
            "status": issuer.status, "clients": models.client_ids(issuer.id)}


# --- Checks --------------------------------------------------------------------------------------

def _checked_uscc(code: str) -> str:
    code = uscc.normalise(code)
    problems = uscc.uscc_problems(code)
    if problems:
        raise UsccInvalid(errors={"uscc": problems})
    return code


def _checked_region(region: str) -> str:
    region = region.strip() if isinstance(region, str) else region
    problem = uscc.region_problem(region)
    if problem is not None:
        raise RegionInvalid(errors={"region": [problem]})
    return region


def _checked_name(name: str) -> str:
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed(errors={"name": [N_("名称应为 1–{max} 个字符。", max=NAME_MAX)]})
    return name


def _checked_types(types: list[str]) -> str:
    codes = sorted({t.strip() for t in types if t and t.strip()})
    known = catalogue_codes()
    unknown = [t for t in codes if t not in known]
    if unknown or not codes:
        raise IssuerTypesInvalid(errors={"types": [N_("可选的证照类型：{types}", types=", ".join(known))]},
                                 extra={"unknown": unknown, "allowed": list(known)})
    return ",".join(codes)


# --- Changes (audited) ---------------------------------------------------------------------------

def register(*, uscc_code: str, name: str, region: str, types: list[str], actor: Actor = CLI) -> Issuer:
    """Register a department (active). 422 uscc_invalid / region_invalid / issuer_types_invalid;
    409 uscc_taken."""
    code, region, name, type_list = _checked_uscc(uscc_code), _checked_region(region), _checked_name(name), \
        _checked_types(types)
    try:
        with unit_of_work():
            issuer = models.create_issuer(id=new_id("iss"), uscc=code, name=name, region=region, types=type_list,
                                          status="active")
            audit.record("issuers.register", actor_kind=actor.kind, actor_id=actor.id, target=issuer.id,
                         details={"before": None, "after": _state(issuer)})
    except pw.IntegrityError:
        raise UsccTaken() from None
    return issuer


def update(issuer_id: str, *, name: str | None = None, region: str | None = None, types: list[str] | None = None,
           uscc_code: str | None = None, actor: Actor = CLI) -> Issuer:
    """Change a department's name, region or types; record the USCC of a carried-over department
    (a registered USCC never changes: 409 uscc_fixed)."""
    try:
        with unit_of_work():
            issuer = models.issuer_for_update(issuer_id)
            if issuer is None:
                raise IssuerNotFound()
            before = _state(issuer)
            if uscc_code is not None:
                code = _checked_uscc(uscc_code)
                if issuer.uscc is not None and issuer.uscc != code:
                    raise UsccFixed()
                issuer.uscc = code
            if name is not None:
                issuer.name = _checked_name(name)
            if region is not None:
                issuer.region = _checked_region(region)
            if types is not None:
                issuer.types = _checked_types(types)
            after = _state(issuer)
            if after != before:
                models.save_issuer(issuer)
                audit.record("issuers.update", actor_kind=actor.kind, actor_id=actor.id, target=issuer.id,
                             details={"before": before, "after": after})
    except pw.IntegrityError:
        raise UsccTaken() from None
    return issuer


def set_status(issuer_id: str, status: str, *, actor: Actor = CLI) -> Issuer:
    """Suspend (its clients can no longer issue or change licences) or resume a department; a
    carried-over department resumes only once its USCC and region are recorded (409)."""
    assert status in STATUSES
    with unit_of_work():
        issuer = models.issuer_for_update(issuer_id)
        if issuer is None:
            raise IssuerNotFound()
        if status == "active" and (issuer.uscc is None or issuer.region is None):
            raise UsccMissing()
        before = _state(issuer)
        if issuer.status != status:
            issuer.status = status
            models.save_issuer(issuer)
            audit.record("issuers.suspend" if status == "suspended" else "issuers.resume", actor_kind=actor.kind,
                         actor_id=actor.id, target=issuer.id, details={"before": before, "after": _state(issuer)})
    return issuer


def bind_client(issuer_id: str, client_id: str, *, actor: Actor = CLI) -> Issuer:
    """Bind a machine client to the department (idempotent); 409 client_bound_elsewhere when it acts
    for another; 422 client_unknown."""
    client_id = client_id.strip()
    try:
        with unit_of_work():
            issuer = models.issuer_for_update(issuer_id)
            if issuer is None:
                raise IssuerNotFound()
            if identity.client_name(client_id) is None:
                raise ClientUnknown(errors={"client_id": [N_("没有这个客户端。")]})
            bound = models.client_binding(client_id)
            if bound is not None:
                if bound.issuer_id != issuer.id:
                    raise ClientBoundElsewhere()
                return issuer
            before = _state(issuer)
            models.bind_client(client_id, issuer.id)
            audit.record("issuers.bind_client", actor_kind=actor.kind, actor_id=actor.id, target=issuer.id,
                         details={"client_id": client_id, "before": before, "after": _state(issuer)})
    except pw.IntegrityError:  # bound concurrently
        raise ClientBoundElsewhere() from None
    return issuer


def unbind_client(issuer_id: str, client_id: str, *, actor: Actor = CLI) -> Issuer:
    """Unbind a client from the department: it can no longer issue for it (409 client_not_bound)."""
    with unit_of_work():
        issuer = models.issuer_for_update(issuer_id)
        if issuer is None:
            raise IssuerNotFound()
        bound = models.client_binding(client_id)
        if bound is None or bound.issuer_id != issuer.id:
            raise ClientNotBound()
        before = _state(issuer)
        models.unbind_client(client_id)
        audit.record("issuers.unbind_client", actor_kind=actor.kind, actor_id=actor.id, target=issuer.id,
                     details={"client_id": client_id, "before": before, "after": _state(issuer)})
    return issuer


# --- Signing keys and the published trust list (issuers/keys.py, issuers/trust.py) -----------------

REVOCATION_REASONS = keys.REVOCATION_REASONS
TRUST_LIST_DESCRIPTION = trust.DESCRIPTION  # the route's OpenAPI description: format and verification
TRUST_LIST_MAX_AGE = trust.MAX_AGE
SIGNATURE_ALG = trust.ALG
SIGNATURE_HEADER, SIGNATURE_KID_HEADER, SIGNATURE_ALG_HEADER = trust.SIGNATURE_HEADER, trust.KID_HEADER, trust.ALG_HEADER

def signing_key_id(issuer_id: str) -> str:
    """The key store id of the key that signs the department's next licence (its newest active key;
    adopted, made or renewed as needed: issuers/keys.py)."""
    key, made = keys.signing_key(get_issuer(issuer_id))
    if made:
        trust.forget()  # a department's first key (or a renewed one) is published at once
    return key.key_id


def signature_status(key_id: str, signed_at: datetime) -> dict[str, Any]:
    """{key_id: kid, key_status, revoked_since, flagged} for a licence version signed by `key_id`
    at `signed_at` (flagged: signed at or after its key's revocation date, or outside its validity)."""
    return keys.signature_status(key_id, signed_at)


def kid_for_key_id(key_id: str) -> str | None:
    """The published kid (trust list) of a licence's signing key."""
    return keys.kid_for_key_id(key_id)


def issuer_keys(issuer_id: str) -> list[dict[str, Any]]:
    return keys.keys_of(get_issuer(issuer_id))


def rotate_key(issuer_id: str, *, actor: Actor = CLI) -> dict[str, Any]:
    """A new signing key for the department (the current one retired, still verifying); audited."""
    key = keys.rotate(get_issuer(issuer_id), actor=(actor.kind, actor.id))
    trust.forget()
    return keys.key_view(key)


def revoke_key(issuer_id: str | None, kid: str, *, since: datetime, reason: str, actor: Actor = CLI) -> dict[str, Any]:
    """Revoke a key from `since` (its certificate too); `issuer_id` None: the key's own department."""
    if issuer_id is None:
        found = models.issuer_key(kid)
        if found is None:
            raise IssuerKeyNotFound()
        issuer_id = found.issuer_id
    key = keys.revoke(get_issuer(issuer_id), kid, since=since, reason=reason, actor=(actor.kind, actor.id))
    trust.forget()
    return keys.key_view(key)


def trust_list() -> tuple[bytes, str, str, bytes]:
    """(the exact signed bytes, ETag value, signing kid, DER signature) of the current trust list."""
    row = trust.current()
    return bytes(row.body), trust.etag(row), row.kid, bytes(row.signature)


def key_certificate(kid: str) -> str | None:
    """The certificate (PEM) of a platform or issuer key by kid."""
    return trust.signer_certificate(kid)


__all__ += ["REVOCATION_REASONS", "SIGNATURE_ALG", "SIGNATURE_ALG_HEADER", "SIGNATURE_HEADER", "SIGNATURE_KID_HEADER",
            "TRUST_LIST_DESCRIPTION", "TRUST_LIST_MAX_AGE", "issuer_keys", "key_certificate", "kid_for_key_id", "revoke_key", "rotate_key", "signature_status",
            "signing_key_id", "trust_list"]
