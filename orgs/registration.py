"""Enterprise registration by its legal representative (POST /enterprises, plan §5 WP5).

A citizen at L3 within 600 s (checked by the route; `register` checks it again, so no caller can
skip it) names a USCC. Checks, in order, each before anything is written:

1. the USCC itself (app/uscc.py: alphabet, MOD 31, the GB 11714 inner check, a known region) → 422,
   before any registry call: a typo never leaves YiWang;
2. who the citizen is (identity.service.require_identity, purpose "enterprise_registration"): a
   网号 account that has not consented → 403 identity_consent_required; an account holding only the
   ID number's blind index gives the number in the request (`legal_rep_id_number`), which must hash
   to that index → else 422;
3. the registry's entity: none → 404 enterprise_not_found; 吊销/注销/迁出/其他 → 409 enterprise_inactive;
4. the registry's LR check with the citizen's verified name and ID number → 403 not_legal_representative;
5. not yet registered → else 409 enterprise_exists (last: only the LR learns that it is).

At most 10 attempts an hour reach the registry (429 enterprise_register_attempts_exceeded).
The registry unreachable or untrustworthy → 503 business_registry_unavailable (fail closed). The
enterprise row and the audit row commit together; `enterprise_registered` is sent after the commit.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from app import audit, ratelimit
from app.db import after_commit, unit_of_work, utcnow
from app.i18n import N_
from app.idnumber import IdNumberError, normalize_id_number
from app.ratelimit import Limit
from app.security.pii import constant_time_equal, field_cipher
from app.uscc import normalise_uscc, uscc_problem
from identity import service as identity
from orgs import models, providers
from orgs.adapters.bizreg import BusinessRegistryUnavailable as RegistryDown
from orgs.errors import (
    BusinessRegistryUnavailable, EnterpriseExists, EnterpriseInactive, EnterpriseNotInRegistry, LegalRepIdInvalid,
    NotLegalRepresentative, UsccInvalid,
)
from orgs.models import ACTIVE_STATUS
from orgs.signals import enterprise_registered

OPERATION = "enterprise_register"  # ASSURANCE_POLICY row: L3 within 600 s
IDENTITY_PURPOSE = "enterprise_registration"  # the consent purpose (identity/ncid_consent.py)
# Each attempt past the local checks asks the registry (and sends the citizen's ID number): a few an hour.
ATTEMPTS = Limit("orgs:register:{}", 10, 3600, "enterprise_register_attempts_exceeded",
                 N_("企业注册尝试过于频繁，请稍后再试。"))


def _require_level(user_id: str) -> None:
    level, max_age = identity.policy(OPERATION)
    identity.require_level(user_id, level, max_age=max_age, purpose=OPERATION)


def _unverified() -> Exception:
    level, max_age = identity.policy(OPERATION)
    return identity.AssuranceInsufficient(required_level=level, max_age=max_age, purpose=OPERATION)


def _identity(user_id: str, given_id_number: str | None) -> tuple[str, str]:
    """The citizen's verified (name, ID number) for the LR check."""
    require = getattr(identity, "require_identity", None)
    if require is not None:
        found = require(user_id, IDENTITY_PURPOSE)
        if found is None:  # not verified at all: the level check refuses it first; never trust it here
            raise _unverified()
        name, id_number, index = found.name, found.id_number, found.id_number_index
    else:  # before the 网号 consent lands: registry-verified accounts only
        found = identity.verified_identity(user_id)
        if found is None:
            raise _unverified()
        name, id_number, index = found.name, found.id_number, None
    if id_number is None:
        refused = LegalRepIdInvalid(errors={"legal_rep_id_number": [LegalRepIdInvalid.detail]})
        try:
            id_number = normalize_id_number(given_id_number or "")
        except IdNumberError:
            raise refused from None
        if index is None or not constant_time_equal(field_cipher().blind_index("id", id_number), index):
            raise refused
    if not name:
        raise _unverified()
    return name, id_number


def _refuse(user_id: str, uscc: str, reason: str, error: Exception) -> Exception:
    """Audit a refusal after the registry was asked (its own unit: the request's unit rolls back)."""
    with unit_of_work():
        audit.record("orgs.enterprise_register", outcome="refused", actor_kind="citizen", actor_id=user_id,
                     details={"uscc": uscc, "reason": reason})
    return error


def register(*, user_id: str, uscc: str, legal_rep_id_number: str | None = None) -> dict[str, Any]:
    _require_level(user_id)
    code = normalise_uscc(uscc)
    problem = uscc_problem(code)
    if problem is not None:
        raise UsccInvalid(errors={"uscc": [UsccInvalid.detail]}, extra={"reason": problem})
    name, id_number = _identity(user_id, legal_rep_id_number)
    ratelimit.consume([Limit(ATTEMPTS.key.format(user_id), ATTEMPTS.limit, ATTEMPTS.window, ATTEMPTS.code,
                             ATTEMPTS.detail)])
    registry = providers.business_registry()
    try:
        entity = registry.lookup(code)
        if entity is None:
            raise _refuse(user_id, code, "not_found", EnterpriseNotInRegistry())
        if entity.status != ACTIVE_STATUS:
            raise _refuse(user_id, code, f"status_{entity.status}",
                          EnterpriseInactive(extra={"registry_status": entity.status}))
        is_lr = registry.is_legal_representative(uscc=code, name=entity.name, lr_name=name, lr_id_number=id_number)
    except RegistryDown:
        current_app.logger.warning("business registry unavailable for %s", code)
        raise BusinessRegistryUnavailable() from None
    if not is_lr:
        raise _refuse(user_id, code, "not_legal_representative", NotLegalRepresentative())
    now = utcnow()
    with unit_of_work():
        row = models.insert_enterprise(id=models.new_enterprise_id(), uscc=code, name=entity.name,
                                       entity_type=entity.entity_type, status=entity.status,
                                       region_code=entity.region_code, legal_rep_user_id=user_id,
                                       registered_at=now, checked_at=now)
        if row is None:
            raise EnterpriseExists()
        audit.record("orgs.enterprise_register", actor_kind="citizen", actor_id=user_id, target=row.id,
                     details={"uscc": code})
        after_commit(_announce, row.id, code)
    return {"id": row.id, "uscc": code, "name": entity.name, "status": entity.status, "role": "legal_representative"}


def _announce(enterprise_id: str, uscc: str) -> None:
    enterprise_registered.send(enterprise_id, uscc=uscc)
