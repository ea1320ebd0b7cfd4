"""The licence life cycle (证照状态生命周期): which status may follow which, the versions, the history.

Status codes are those of the provincial feeds (DOMAIN.md, `models.STATUS_LABELS`): 01 有效, 02 暂扣,
03 撤销, 04 注销, 05 失效, 06 办理转出, 07 吊销, 99 其他. The issuer changes a status; the table below
is checked for every change, and a change it does not allow is 409 `licence_transition_forbidden`
naming from, to and the allowed targets:

- 01 有效 → any other status (02 suspended, 03 withdrawn, 04 cancelled, 05 lapsed, 06 transferred out,
  07 revoked, 99 other).
- 02 暂扣 → 01 (restored after the suspension), 03, 04, 05, 07, 99. Not 06: a suspended licence is
  not transferred to another region (the suspension is lifted first).
- 03, 04, 05, 06, 07, 99 are final for status changes. Expiry by time needs no change: a licence
  past `valid_until` is refused as expired wherever it is checked (presentation.licence_valid_now).

Re-issue (补领), renewal (换领) and change (变更) make a new version with status 01: allowed from 01,
and from 05 失效 (a lapsed licence renewed); not from 02 (it would lift a suspension) nor from an
ended licence (03, 04, 06, 07, 99: a new licence is issued instead) — 409 `licence_reissue_forbidden`.

Versions: every change re-signs the licence as a new version, and the version segment of its
identifier (GB/T 36904: `….<serial>.<version>.<check>`) is that version: each signed document has
its own identifier, so a copy signed before a change (an offline QR, a stale app cache, a printout)
is told from the current one by its identifier alone. The superseded version is kept as signed
(`models.LicenceVersion`); each event is a `models.LicenceHistory` row (version, from, to, reason,
actor kind and id, time).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app import i18n
from app.i18n import N_, T_, Series
from wallet import models
from wallet.errors import LicenceReissueForbidden, LicenceTransitionForbidden, LicenceVersionsExhausted
from wallet.identifier import make_identifier, parse_identifier
from wallet.models import STATUS_LABELS, Licence

VALID, SUSPENDED, LAPSED = "01", "02", "05"
ENDED = ("03", "04", "05", "06", "07", "99")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    VALID: ("02", "03", "04", "05", "06", "07", "99"),
    SUSPENDED: ("01", "03", "04", "05", "07", "99"),
    **{code: () for code in ENDED},
}
REISSUABLE = (VALID, LAPSED)
REISSUE_KINDS = ("reissue", "renewal", "change")  # 补领, 换领, 变更
KIND_LABELS = {"issued": N_("签发"), "status": N_("状态变更"), "reissue": N_("补领"), "renewal": N_("换领"),
               "change": N_("变更")}
i18n.register_labels("licence_event", KIND_LABELS)
MAX_VERSION = 999


def _label(code: str) -> Any:
    return T_(STATUS_LABELS[code])  # marked in wallet/models.py


def allowed_targets(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def check_transition(from_status: str, to_status: str) -> None:
    """409 licence_transition_forbidden unless the table allows from → to."""
    allowed = allowed_targets(from_status)
    if to_status in allowed:
        return
    extra = {"from": from_status, "to": to_status, "allowed": list(allowed)}
    if not allowed:
        raise LicenceTransitionForbidden(
            N_("证照已处于“{current}”（终止状态），不能再变更为“{wanted}”。", current=_label(from_status),
               wanted=_label(to_status)), extra=extra)
    raise LicenceTransitionForbidden(
        N_("证照状态不能由“{current}”变更为“{wanted}”；当前可变更为：{allowed:、}。", current=_label(from_status),
           wanted=_label(to_status), allowed=Series(_label(code) for code in allowed)), extra=extra)


def check_reissuable(status: str) -> None:
    """409 licence_reissue_forbidden unless a licence in `status` may be re-issued, renewed or changed."""
    if status not in REISSUABLE:
        raise LicenceReissueForbidden(
            N_("证照当前状态为“{current}”，不能补领、换领或变更；仅{allowed:、}状态的证照可以。", current=_label(status),
               allowed=Series(_label(code) for code in REISSUABLE)),
            extra={"licence_status": status, "allowed_from": list(REISSUABLE)})


def next_version(licence: Licence) -> None:
    """Move the licence to its next version: the version number and its identifier's version segment
    (the check character recomputed). The caller has kept the current version (`supersede`)."""
    if licence.version >= MAX_VERSION:
        raise LicenceVersionsExhausted()
    parsed = parse_identifier(licence.identifier)
    licence.version += 1
    licence.identifier = make_identifier(parsed.type_code, parsed.issuer_code, parsed.serial, licence.version)


def supersede(licence: Licence, *, at: datetime) -> None:
    """Keep the current signed version (before the caller changes and re-signs the licence)."""
    models.keep_version(licence, superseded_at=at)


def record(licence: Licence, *, kind: str, from_status: str | None, reason: str | None, actor_kind: str,
           actor_id: str | None, at: datetime) -> None:
    """The history row of the version the licence is now at."""
    models.insert_history(licence=licence, kind=kind, from_status=from_status, reason=reason, actor_kind=actor_kind,
                          actor_id=actor_id, at=at)


def history(licence: Licence, *, issuer_name: str, for_issuer: bool) -> list[dict[str, Any]]:
    """The licence's events, oldest first. The holder sees the acting department by name; the
    issuer sees which of its systems acted (actor kind and client id)."""
    items = []
    for row in models.licence_history(licence.id):
        item = {"version": row.version, "identifier": row.identifier, "kind": row.kind,
                "kind_label": i18n.label("licence_event", row.kind), "from_status": row.from_status,
                "from_label": i18n.label("licence_status", row.from_status) if row.from_status else None,
                "to_status": row.to_status, "to_label": i18n.label("licence_status", row.to_status),
                "reason": row.reason, "at": row.at,
                "actor": ({"kind": row.actor_kind, "id": row.actor_id} if for_issuer
                          else {"kind": "issuer" if row.actor_kind == "client" else row.actor_kind,
                                "name": issuer_name if row.actor_kind == "client" else None})}
        items.append(item)
    return items


def presented_version(licence_id: str, shown_at: datetime) -> int | None:
    """The version a licence was at when it was shown (None when its history starts later)."""
    return models.version_at(licence_id, shown_at)


def superseded_flag(licence: Licence, version: int | None) -> dict[str, Any] | None:
    """`superseded`, when `version` (what was shown or is being verified) is older than the licence's
    current version: the version shown and the current version with its identifier."""
    if version is None or version >= licence.version:
        return None
    old = models.licence_version(licence.id, version)
    return {"version": version, "identifier": old.identifier if old else None,
            "current_version": licence.version, "current_identifier": licence.identifier}


def version_check(identifier: str) -> dict[str, Any] | None:
    """What YiWang knows of a licence identifier: the current version, or a superseded one (with the
    current version named); None when unknown. For verifiers holding an identifier and version
    (the offline QR, a consent disclosure, a printout)."""
    current = models.licence_by_identifier(identifier)
    if current is not None:
        return {"licence_id": current.id, "version": current.version, "current": True, "superseded": None,
                "status": current.status}
    old = models.superseded_version(identifier)
    if old is None:
        return None
    return {"licence_id": old.licence.id, "version": old.version, "current": False, "status": old.licence.status,
            "superseded": superseded_flag(old.licence, old.version)}
