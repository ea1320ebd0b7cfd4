"""Hypothesis strategies for the house formats of app/fields.py, registered with schemathesis.

Each strategy draws values the server accepts, so `positive_data_acceptance` can hold the server
to the document: an ID number with a real province, birth date and check character; a signing
PIN the strength rules accept (for the fuzzing citizen); a mainland mobile number.
"""
from __future__ import annotations

from datetime import date, timedelta

import schemathesis
from hypothesis import strategies as st

from app.idnumber import check_char
from signing.pin import weak_reasons
from tests import vectors

_PROVINCES = ("11", "31", "32", "34", "44", "51", "65", "81")


@st.composite
def id_numbers(draw) -> str:
    """GB 11643: area code, a birth date from 1900 to 18 years ago, sequence, check character."""
    area = draw(st.sampled_from(_PROVINCES)) + draw(st.from_regex(r"\A[0-9]{4}\Z"))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date.today() - timedelta(days=18 * 366)))
    first17 = area + born.strftime("%Y%m%d") + draw(st.from_regex(r"\A[0-9]{3}\Z"))
    return first17 + check_char(first17)


def signing_pins(id_number: str = vectors.ZHANG_SAN[1]) -> st.SearchStrategy[str]:
    """Six digits that pass the strength rules for the holder of `id_number`."""
    return st.from_regex(r"\A[0-9]{6}\Z").filter(lambda pin: not weak_reasons(pin, id_number=id_number))


def phones() -> st.SearchStrategy[str]:
    return st.from_regex(r"\A1[3-9][0-9]{9}\Z")


# The custom formats the document uses (app/fields.py) → what to draw for them.
STRATEGIES = {"gb11643": id_numbers(), "signing-pin": signing_pins(), "cn-mobile": phones()}


# DER request bodies (the OCSP responder, signing/pki_routes.py): sent as raw bytes, like octet-stream.
BINARY_MEDIA_TYPES = ["application/ocsp-request"]
schemathesis.serializer.alias(BINARY_MEDIA_TYPES, "application/octet-stream")


def register() -> None:
    """Teach schemathesis the custom formats."""
    for name, strategy in STRATEGIES.items():
        schemathesis.openapi.format(name, strategy)
