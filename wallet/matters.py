"""The matters (用证事项) a counter verifies a licence for: the clerk chooses what the citizen is
there for before scanning, and the matter decides which licence types it accepts and which fields
the counter sees (最小必要), each in full or masked.

A fixed list in code until issue 17 brings the real matter catalogue. A matter names, per licence
type it accepts, the fields it discloses and how: "full" (the value as it is), "masked" (the
field's own mask in the catalogue, e.g. 张* for a name) or "tail4" (all but the last four
characters hidden, e.g. the ID number at a hotel's front desk). Names are Chinese, marked with N_;
their English is in the catalogue (app/translations).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from app import i18n
from app.i18n import N_
from wallet.catalogue import LicenceType, get_type, mask_value

HOW = ("full", "masked", "tail4")


@dataclass(frozen=True)
class Matter:
    """A 用证事项: its code, Chinese name and, per accepted licence type, ((field key, how), ...)."""

    code: str
    name: str
    disclosures: Mapping[str, tuple[tuple[str, str], ...]]

    @property
    def accepts(self) -> tuple[str, ...]:
        """The licence type codes this matter accepts, in catalogue order."""
        return tuple(self.disclosures)

    def fields_for(self, type_code: str) -> tuple[tuple[str, str], ...]:
        return self.disclosures[type_code]


def _m(code: str, name: str, **disclosures: tuple[tuple[str, str], ...]) -> Matter:
    return Matter(code, name, MappingProxyType(dict(disclosures)))


_IDENTITY = (("name", "masked"), ("id_number", "masked"))

_MATTERS: tuple[Matter, ...] = (
    _m("identity_check", N_("身份核验"),
       resident_id_card=_IDENTITY, driving_licence=_IDENTITY, household_register=_IDENTITY,
       social_security_card=(("name", "masked"), ("social_security_number", "masked"))),
    _m("hotel_check_in", N_("旅馆住宿登记"),
       resident_id_card=(("name", "full"), ("id_number", "tail4"), ("valid_until", "full"))),
    _m("vehicle_check", N_("驾驶资格核查"),
       driving_licence=(("name", "masked"), ("vehicle_class", "full"), ("valid_until", "full"), ("status", "full"))),
    _m("business_registration", N_("企业登记核验"),
       business_licence=(("credit_code", "full"), ("name", "full"), ("legal_representative", "masked"),
                         ("business_term_until", "full"))),
    _m("marriage_check", N_("婚姻登记核验"),
       marriage_certificate=(("holder_name", "masked"), ("spouse_name", "masked"), ("registered_on", "full"))),
    _m("property_check", N_("不动产权属核验"),
       real_estate_certificate=(("certificate_number", "full"), ("obligee", "masked"), ("location", "masked"),
                                ("right_type", "full"))),
    _m("social_security_service", N_("社保业务办理"),
       social_security_card=(("name", "masked"), ("social_security_number", "masked"), ("issuing_region", "full"))),
    _m("household_check", N_("户籍核验"),
       household_register=(("name", "masked"), ("id_number", "masked"), ("relationship_to_head", "full"),
                           ("household_type", "full"))),
)
_BY_CODE: Mapping[str, Matter] = MappingProxyType({m.code: m for m in _MATTERS})
CODES: tuple[str, ...] = tuple(_BY_CODE)

i18n.register_labels("counter_matter", {m.code: m.name for m in _MATTERS})


def _check() -> None:
    """Every matter names licence types and fields the catalogue has (at import: a typo fails fast)."""
    for matter in _MATTERS:
        for type_code, fields in matter.disclosures.items():
            licence_type = get_type(type_code)
            for key, how in fields:
                licence_type.field(key)
                assert how in HOW, (matter.code, key, how)


_check()


def all_matters() -> tuple[Matter, ...]:
    return _MATTERS


def get_matter(code: str) -> Matter:
    """The matter with this code; KeyError when unknown."""
    return _BY_CODE[code]


def name_of(code: str | None) -> str | None:
    """The matter's name in the answer's language (None for None; the code for an unknown one)."""
    return i18n.label("counter_matter", code)


def disclose_for(matter: Matter, licence_type: LicenceType, data: dict) -> tuple[dict[str, str], dict[str, str]]:
    """(field key → value as the counter sees it, field key → how) for this matter; fields the
    licence's data lacks are left out."""
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


def localized() -> list[dict]:
    """The matters as the counter page lists them: code, name, accepted types with names and fields."""
    items = []
    for matter in _MATTERS:
        types = []
        for type_code, fields in matter.disclosures.items():
            types.append({"code": type_code, "name": i18n.label("licence_type", type_code),
                          "fields": [{"key": key, "label": i18n.label("licence_field", (type_code, key)), "how": how}
                                     for key, how in fields]})
        items.append({"code": matter.code, "name": name_of(matter.code), "licence_types": types})
    return items
