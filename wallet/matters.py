"""The catalogue of matters (用证事项): what a citizen shows a licence for. The counter and third parties
ask by matter, never by free text; the matter decides which licence types it accepts and which fields
are disclosed (最小必要), each "full" (the value as it is), "masked" (the field's own mask in the
licence catalogue, e.g. 张* for a name) or "tail4" (all but the last four characters hidden, e.g. the
ID number at a hotel's front desk), and names its legal basis.

The catalogue is a table (wallet_matter, seeded by migration 023 with a realistic set) managed at run
time by `flask matters …` and /api/v1/admin/matters (scope `matters:admin`), every change audited
with its before and after. A matter is never deleted (checks and usage records name it): it is
deactivated, and an inactive matter is refused like an unknown one. Names and legal bases are data in
both languages (`i18n.Words`), not catalogue messages.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from app import audit, i18n
from app.db import unit_of_work, utcnow
from app.errors import ValidationFailed
from app.i18n import N_, Series, Words
from wallet import matter_models as models
from wallet.catalogue import LicenceType, get_type, mask_value
from wallet.errors import MatterChanged, MatterExists, MatterInvalid, MatterNotFound, MatterUnknown

HOW = ("full", "masked", "tail4")
CODE_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
_CODE = re.compile(CODE_PATTERN)
NAME_MAX, BASIS_MAX = 64, 500


@dataclass(frozen=True)
class Matter:
    """A 用证事项: its code, names and legal basis (zh, en), per accepted licence type ((field, how), ...)."""

    code: str
    name_zh: str
    name_en: str
    legal_basis_zh: str
    legal_basis_en: str
    disclosures: Mapping[str, tuple[tuple[str, str], ...]]
    active: bool = True
    version: int = 1

    @property
    def name(self) -> Words:
        """The name, rendered in the answer's language where it is put into a message."""
        return Words(self.name_zh, self.name_en)

    @property
    def legal_basis(self) -> Words:
        return Words(self.legal_basis_zh, self.legal_basis_en)

    @property
    def accepts(self) -> tuple[str, ...]:
        """The licence type codes this matter accepts, in its order."""
        return tuple(self.disclosures)

    def fields_for(self, type_code: str) -> tuple[tuple[str, str], ...]:
        return self.disclosures[type_code]

    def snapshot(self) -> dict[str, Any]:
        """What the audit keeps of it (before / after a change)."""
        return {"name_zh": self.name_zh, "name_en": self.name_en, "legal_basis_zh": self.legal_basis_zh,
                "legal_basis_en": self.legal_basis_en, "active": self.active,
                "disclosures": {t: [list(f) for f in fields] for t, fields in self.disclosures.items()}}


def _of(row: models.MatterRecord) -> Matter:
    disclosures = {type_code: tuple((key, how) for key, how in fields)
                   for type_code, fields in json.loads(row.disclosures)}
    return Matter(row.code, row.name_zh, row.name_en, row.legal_basis_zh, row.legal_basis_en,
                  MappingProxyType(disclosures), bool(row.active), row.version)


def get_matter(code: str) -> Matter | None:
    """The matter with this code, active or not; None when there is none."""
    row = models.matter_by_code(code) if isinstance(code, str) else None
    return _of(row) if row is not None else None


def list_matters(active_only: bool = True) -> list[Matter]:
    return [_of(row) for row in models.matters(active_only=active_only)]


def active_matter(code: str, row: models.MatterRecord | None = None) -> Matter:
    """The active matter with this code; 422 matter_unknown listing the active ones otherwise.
    `row`: its record when the caller has just read it (else it is read here)."""
    matter = _of(row) if row is not None and row.code == code else get_matter(code)
    if matter is not None and matter.active:
        return matter
    allowed = [m.code for m in list_matters()]
    raise MatterUnknown(errors={"matter": [N_("可选的事项：{codes:、}（见 GET /counter/matters）。",
                                              codes=Series(allowed))]},
                        extra={"allowed_matters": allowed})


def disclose_for(matter: Matter, licence_type: LicenceType, data: dict) -> tuple[dict[str, str], dict[str, str]]:
    """(field key → value as the matter shows it, field key → how); fields the licence's data lacks
    are left out."""
    shown: dict[str, str] = {}
    hows: dict[str, str] = {}
    for key, how in matter.fields_for(licence_type.code):
        value = data.get(key)
        if value is None:
            continue
        field = licence_type.field(key)
        if how == "full":
            shown[key] = value
        elif how == "tail4":
            shown[key] = "*" * max(len(value) - 4, 4) + value[-4:] if len(value) > 4 else "****"
        else:
            shown[key] = mask_value(field, value) if field.sensitive else value
        hows[key] = how
    return shown, hows


def ref(matter: Matter | None) -> dict[str, Any] | None:
    """The matter as an answer names it: code, name and legal basis in the answer's language."""
    if matter is None:
        return None
    return {"code": matter.code, "name": i18n.translate(matter.name),
            "legal_basis": i18n.translate(matter.legal_basis)}


def refs(codes: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    """`ref` of each of these matters (one query; inactive ones too: old records name them)."""
    return {code: ref(_of(row)) for code, row in models.matters_by_codes(c for c in codes if c).items()}


def localized(active_only: bool = True) -> list[dict]:
    """The matters as the counter and the admin API list them: code, names, legal basis, active, the
    accepted types with their names and the fields each shows."""
    items = []
    for matter in list_matters(active_only):
        types = [{"code": type_code, "name": i18n.label("licence_type", type_code),
                  "fields": [{"key": key, "label": i18n.label("licence_field", (type_code, key)), "how": how}
                             for key, how in fields]}
                 for type_code, fields in matter.disclosures.items()]
        items.append(ref(matter) | {"name_zh": matter.name_zh, "name_en": matter.name_en,
                                    "legal_basis_zh": matter.legal_basis_zh, "legal_basis_en": matter.legal_basis_en,
                                    "active": matter.active, "version": matter.version, "licence_types": types})
    return items


def localized_one(code: str) -> dict:
    matter = get_matter(code)
    if matter is None:
        raise MatterNotFound()
    return next(item for item in localized(active_only=False) if item["code"] == code)


# --- Managing the catalogue (CLI and admin API) -------------------------------------------------

def _checked_disclosures(licence_types: Any) -> dict[str, tuple[tuple[str, str], ...]]:
    """[{code, fields: [{key, how}, ...]}, ...] as {licence type: ((field, how), ...)}, every type and
    field checked against the licence catalogue; 422 matter_invalid with the reasons by type otherwise."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, tuple[tuple[str, str], ...]] = {}
    if not licence_types:
        raise MatterInvalid(errors={"licence_types": [N_("至少须有一种证照类型。")]})
    for entry in licence_types:
        type_code, fields = entry["code"], entry["fields"]
        problems = errors.setdefault(type_code, [])
        if type_code in checked:
            problems.append(N_("证照类型重复。"))
            continue
        try:
            licence_type = get_type(type_code)
        except KeyError:
            problems.append(N_("证照类型不存在。"))
            continue
        pairs: list[tuple[str, str]] = []
        for field in fields:
            key, how = field["key"], field["how"]
            if key not in {f.key for f in licence_type.fields}:
                problems.append(N_("字段 {key} 不在该证照类型中。", key=key))
            elif how not in HOW:
                problems.append(N_("字段 {key} 的展示方式应为 full、masked 或 tail4。", key=key))
            elif key in dict(pairs):
                problems.append(N_("字段 {key} 重复。", key=key))
            else:
                pairs.append((key, how))
        if not fields:
            problems.append(N_("至少须出示一个字段。"))
        checked[type_code] = tuple(pairs)
    errors = {code: problems for code, problems in errors.items() if problems}
    if errors:
        raise MatterInvalid(errors=errors)
    return checked


_LIMITS = {"name_zh": NAME_MAX, "name_en": 2 * NAME_MAX, "legal_basis_zh": BASIS_MAX, "legal_basis_en": BASIS_MAX}


def _texts(**texts: str | None) -> dict[str, str]:
    """The names and legal basis given (stripped), each 1 to its limit of characters."""
    errors = {name: [N_("须为 1–{limit} 个字符。", limit=_LIMITS[name])] for name, value in texts.items()
              if value is not None and not (value.strip() and len(value) <= _LIMITS[name])}
    if errors:
        raise ValidationFailed(errors=errors)
    return {name: value.strip() for name, value in texts.items() if value is not None}


def add_matter(*, actor_kind: str, actor_id: str | None, code: str, name_zh: str, name_en: str,
               legal_basis_zh: str, legal_basis_en: str, licence_types: list[dict]) -> Matter:
    """A new active matter (409 matter_exists when the code is taken); audited `wallet.matter_added`."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ValidationFailed(errors={"code": [N_("须为小写字母开头的 2–32 位小写字母、数字或下划线。")]})
    texts = _texts(name_zh=name_zh, name_en=name_en, legal_basis_zh=legal_basis_zh, legal_basis_en=legal_basis_en)
    checked = _checked_disclosures(licence_types)
    now = utcnow()
    with unit_of_work():
        row = models.insert_matter(code=code, disclosures=json.dumps(list(checked.items()), ensure_ascii=False),
                                   active=True, version=1, created_at=now, updated_at=now, **texts)
        if row is None:
            raise MatterExists()
        matter = _of(row)
        audit.record("wallet.matter_added", actor_kind=actor_kind, actor_id=actor_id, target=code,
                     details={"after": matter.snapshot()})
    return matter


def update_matter(*, actor_kind: str, actor_id: str | None, code: str, version: int | None = None,
                  name_zh: str | None = None, name_en: str | None = None, legal_basis_zh: str | None = None,
                  legal_basis_en: str | None = None, licence_types: list[dict] | None = None,
                  active: bool | None = None) -> Matter:
    """Change what is given (a `version` that is no longer current: 409 matter_changed); audited
    `wallet.matter_updated` (or `_deactivated` / `_activated` for the flag alone) with before and after."""
    before = get_matter(code)
    if before is None:
        raise MatterNotFound()
    values: dict[str, Any] = _texts(name_zh=name_zh, name_en=name_en, legal_basis_zh=legal_basis_zh,
                                    legal_basis_en=legal_basis_en)
    if licence_types is not None:
        values["disclosures"] = json.dumps(list(_checked_disclosures(licence_types).items()), ensure_ascii=False)
    if active is not None:
        values["active"] = active
    if not values:
        return before
    with unit_of_work():
        if not models.update_matter(code, version=before.version if version is None else version,
                                    updated_at=utcnow(), **values):
            raise MatterChanged()
        after = get_matter(code)
        action = ("wallet.matter_updated" if set(values) != {"active"}
                  else "wallet.matter_activated" if active else "wallet.matter_deactivated")
        audit.record(action, actor_kind=actor_kind, actor_id=actor_id, target=code,
                     details={"before": before.snapshot(), "after": after.snapshot()})
    return after
