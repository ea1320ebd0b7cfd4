"""A licence's data agrees with the licence (证照数据一致性): the fields that repeat a licence fact
(`Field.same_as`) say the same as the licence itself.

At issuance (issue 14 item 16): the holder's name against their real-name record, the name and ID
fields of the data against the holder, the validity dates of the data against each other and
against the top-level `valid_from` / `valid_until`, a status field against the licence's status.
At read time (item 15): a status field is the licence's current status, never the stored value.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from app.i18n import N_
from wallet.catalogue import PERMANENT, LicenceType

# Middle dots written in Chinese transliterated names (阿卜杜·热合曼) and their look-alikes.
_DOTS = str.maketrans({c: "·" for c in "·•・‧∙⋅."})

HOLDER_NAME_MISMATCH = "holder_name_mismatch"
VALIDITY_INCONSISTENT = "validity_inconsistent"
STATUS_INCONSISTENT = "status_inconsistent"

RECORD_MISMATCH = N_("与持证人的实名信息不一致。")
NAME_MISMATCH = N_("应与持证人姓名一致。")
END_BEFORE_START = N_("截止日期应晚于起始日期。")
FROM_MISMATCH = N_("应与证照有效期起始日期（valid_from）一致。")
UNTIL_MISMATCH = N_("应与证照有效期截止日期（valid_until）一致。")
STATUS_MISMATCH = N_("应与证照状态一致：新发证照的状态为“有效”。")


@dataclass(frozen=True)
class Contradiction:
    """One field that contradicts the licence: its request path, problem code and reason."""

    field: str
    code: str
    reason: str


def same_name(a: str, b: str) -> bool:
    """The same person's name as written: Unicode-normalised (NFKC), case and runs of spaces
    ignored, middle-dot variants taken as one."""
    def norm(name: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", name).translate(_DOTS).casefold().split())

    return norm(a) == norm(b)


def _first(licence_type: LicenceType, data: dict, fact: str) -> tuple[str, str] | tuple[None, None]:
    for field in licence_type.fields_same_as(fact):
        if field.key in data:
            return field.key, data[field.key]
    return None, None


def _validity(licence_type: LicenceType, data: dict, valid_from: date,
              valid_until: date | None) -> list[Contradiction]:
    found = []
    start_key, start = _first(licence_type, data, "licence.valid_from")
    if start is not None and start != valid_from.isoformat():
        found.append(Contradiction(f"data.{start_key}", VALIDITY_INCONSISTENT, FROM_MISMATCH))
    expected_end = valid_until.isoformat() if valid_until else PERMANENT
    for field in licence_type.fields_same_as("licence.valid_until"):
        end = data.get(field.key)
        if end is None:
            continue
        if start is not None and end != PERMANENT and end <= start:  # ISO dates order as strings
            found.append(Contradiction(f"data.{field.key}", VALIDITY_INCONSISTENT, END_BEFORE_START))
        elif end != expected_end:
            found.append(Contradiction(f"data.{field.key}", VALIDITY_INCONSISTENT, UNTIL_MISMATCH))
    return found


def contradictions(licence_type: LicenceType, data: dict, *, holder_name: str, record_name: str | None,
                   valid_from: date, valid_until: date | None, status_label: str) -> list[Contradiction]:
    """Every field of an issuing request that contradicts the licence, in the order the problem
    reports them (holder, validity, status). `record_name` is the holder's real-name record, None
    while they have none (the licence is then parked, and attaching it checks the name)."""
    found = []
    if record_name is not None and not same_name(holder_name, record_name):
        found.append(Contradiction("holder.name", HOLDER_NAME_MISMATCH, RECORD_MISMATCH))
    for field in licence_type.fields_same_as("holder.name"):
        if field.key in data and not same_name(data[field.key], holder_name):
            found.append(Contradiction(f"data.{field.key}", HOLDER_NAME_MISMATCH, NAME_MISMATCH))
    found += _validity(licence_type, data, valid_from, valid_until)
    for field in licence_type.fields_same_as("licence.status"):
        if field.key in data and data[field.key] != status_label:
            found.append(Contradiction(f"data.{field.key}", STATUS_INCONSISTENT, STATUS_MISMATCH))
    return found


def with_status(licence_type: LicenceType, data: dict, status_label: str) -> dict:
    """The data with every status field set to the licence's status (a copy): what is served, and
    what is signed at issuance and on each status change."""
    fields = licence_type.fields_same_as("licence.status")
    if not fields:
        return data
    return {**data, **{f.key: status_label for f in fields}}


def derived_keys(licence_type: LicenceType) -> list[str]:
    """The fields whose served value is the licence's live state, not the stored data."""
    return [f.key for f in licence_type.fields_same_as("licence.status")]
