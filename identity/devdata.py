"""Development data: registry entries and the demo seed (never used in production)."""
from __future__ import annotations

import peewee as pw
from flask import current_app

from app.db import unit_of_work
from app.errors import ValidationFailed
from app.idnumber import IdNumberError, normalize_id_number
from identity import models, smscodes, stepup
from identity.accounts import phone_index, user_by_phone
from identity.login import _create_user
from identity.realname import verify_real_name
from identity.staff import create_staff

# Fictitious people with valid check digits (area 340102: 合肥市瑶海区).
DEMO_PEOPLE = [
    ("张三", "340102199003071232"),
    ("李四", "340102198512154314"),
    ("王五", "340102197001015211"),
    ("欧阳娜娜", "340102200002297024"),
]
# The demo citizen and the family member who acts for them (both real-name verified, L2): people and
# phones the tests do not log in with, so a test may seed the demo data and still verify 张三 itself.
DEMO_CITIZEN = ("13855550101", DEMO_PEOPLE[2])
DEMO_FAMILY = ("13955550102", DEMO_PEOPLE[3])
DEMO_STAFF = [("clerk01", "Counter#Demo2026", "clerk", "340100-ZWFW-01"), ("admin", "Admin#Demo2026!", "admin", None)]


def add_registry_entry(*, name: str, id_number: str) -> None:
    try:
        id_number = normalize_id_number(id_number)
    except IdNumberError as exc:
        raise ValidationFailed(str(exc), errors={"id_number": [str(exc)]}) from None
    cipher = current_app.extensions["pii"]
    index = cipher.blind_index("id", id_number)
    with unit_of_work():
        models.upsert_registry_entry(id_number_index=index,
                                     id_number_enc=cipher.encrypt(id_number, "registry.id_number"),
                                     name_enc=cipher.encrypt(name.strip(), "registry.name"))


def _demo_person(phone: str, name: str, id_number: str) -> str:
    """The account on `phone`, created and real-name verified once (idempotent); its id."""
    user = user_by_phone(phone)
    if user is None:
        with unit_of_work():
            user = _create_user(phone=phone, index=phone_index(phone))
    if user.real_name_verified_at is None:
        verify_real_name(user_id=user.id, name=name, id_number=id_number)
    return user.id


def demo_people() -> dict[str, str]:
    """The demo citizen's and the family member's user ids (`citizen`, `family`), made on first call:
    other features' demo seeders build on them."""
    return {role: _demo_person(phone, *person)
            for role, (phone, person) in (("citizen", DEMO_CITIZEN), ("family", DEMO_FAMILY))}


def demo_step_up_code(user_id: str, purpose: str) -> str:
    """A fresh step-up code for a demo account (the seeders' stand-in for reading the SMS)."""
    return smscodes.new_code(stepup._subject(user_id, purpose))


def seed() -> list[str]:
    lines = []
    for name, id_number in DEMO_PEOPLE:
        add_registry_entry(name=name, id_number=id_number)
    lines.append(f"registry: {len(DEMO_PEOPLE)} people ({', '.join(p[0] for p in DEMO_PEOPLE)})")
    for username, password, role, hall in DEMO_STAFF:
        if not models.staff_username_taken(username):
            try:
                create_staff(username=username, password=password, role=role, hall_code=hall)
            except pw.IntegrityError:
                pass
        lines.append(f"staff: {username} / {password} ({role}{', hall ' + hall if hall else ''})")
    demo_people()
    for role, (phone, (name, _)) in (("demo citizen", DEMO_CITIZEN), ("family member", DEMO_FAMILY)):
        lines.append(f"{role}: {name}, phone {phone} (real-name verified, L2); log in at /m/ with an SMS code")
    lines.append("SMS codes in development: GET /api/v1/dev/sms-outbox?phone=<phone> (after asking for a code)")
    lines.append("open http://127.0.0.1:8000/m/ (citizen H5), /counter/ (counter clerk: clerk01), /api/docs (the API)")
    return lines
