"""Re-issue (补领), renewal (换领) and change (变更) of a licence by its issuer: a new version.

The new version has status 01 (有效), the identifier's next version segment, the changed data
(merged into the current data and checked as at issuance: the catalogue, the holder, the validity
dates, the status), a new issuer signature. The superseded version is kept as signed and the event
is in the licence's history (wallet/lifecycle.py); the holder is told. A licence may be re-issued
from 01 and from 05 失效 (lifecycle.REISSUABLE).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from app import audit
from app.db import unit_of_work, utcnow
from app.security.pii import field_cipher
from wallet import lifecycle, models, notices
from wallet.catalogue import PERMANENT, get_type
from wallet.consistency import with_status
from wallet.issuance import IssueRequest, _checked, _consistent, _own_licence, _sign, decrypt_parts, issuer_view
from wallet.models import STATUS_LABELS

_KEEP = object()  # "not given": the current value stays


@dataclass(frozen=True)
class Reissue:
    """What the issuer asks: the kind (reissue 补领 | renewal 换领 | change 变更), its reason, the
    data fields that change, and optionally a new holder name and validity (None = permanent)."""

    kind: str
    reason: str
    changes: dict[str, Any]
    holder_name: str | None = None
    valid_from: date | None = None
    valid_until: Any = _KEEP  # a date, None (permanent) or _KEEP


def _new_request(licence: models.Licence, ask: Reissue) -> tuple[Any, IssueRequest]:
    """The new version's content, checked as an issuing request is."""
    name, id_number, stored = decrypt_parts(licence)
    licence_type = get_type(licence.type_code)
    valid_from = ask.valid_from or licence.valid_from
    valid_until = licence.valid_until if ask.valid_until is _KEEP else ask.valid_until
    data = with_status(licence_type, stored, STATUS_LABELS[lifecycle.VALID])
    # New top-level validity dates are written into the data's validity fields unless the change names them.
    for fact, value in (("licence.valid_from", valid_from.isoformat()),
                        ("licence.valid_until", valid_until.isoformat() if valid_until else PERMANENT)):
        for field in licence_type.fields_same_as(fact):
            if field.key in data:
                data[field.key] = value
    data.update(ask.changes)
    request = IssueRequest(type_code=licence.type_code, holder_name=ask.holder_name or name,
                           holder_id_number=id_number, data=data, valid_from=valid_from, valid_until=valid_until,
                           reference=licence.reference, holder_kind=licence.holder_kind)
    licence_type, request = _checked(request)
    return licence_type, _consistent(licence_type, request, licence.user_id)


def reissue(*, client_id: str, licence_id: str, ask: Reissue) -> dict[str, Any]:
    """Re-issue, renew or change a licence of this client's issuer: the issuer's view of the new version."""
    with unit_of_work():
        models.lock_licence(licence_id)  # concurrent changes of one licence queue here
        licence, issuer = _own_licence(client_id, licence_id)
        lifecycle.check_reissuable(licence.status)
        _, request = _new_request(licence, ask)
        now = utcnow()
        lifecycle.supersede(licence, at=now)
        from_status = licence.status
        c = field_cipher()
        licence.holder_name_enc = c.encrypt(request.holder_name, "licence.holder_name")
        licence.data_enc = c.encrypt(json.dumps(request.data, ensure_ascii=False), "licence.data")
        licence.valid_from, licence.valid_until = request.valid_from, request.valid_until
        licence.status, licence.status_reason = lifecycle.VALID, ask.reason
        lifecycle.next_version(licence)
        licence.updated_at = now
        _sign(licence, issuer, request.holder_name, request.holder_id_number, request.data)
        models.save_licence(licence)
        lifecycle.record(licence, kind=ask.kind, from_status=from_status, reason=ask.reason, actor_kind="client",
                         actor_id=client_id, at=now)
        if licence.user_id is not None:
            notices.reissued(licence, kind=ask.kind)
        audit.record("wallet.licence_reissued", actor_kind="client", actor_id=client_id, target=licence.id,
                     details={"kind": ask.kind, "from": from_status, "version": licence.version,
                              "changed": sorted(ask.changes)})
    return issuer_view(licence, issuer)
