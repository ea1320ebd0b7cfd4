"""Development data: registry entries and the demo seed (never used in production)."""
from __future__ import annotations

import peewee as pw
from flask import current_app

from app.db import unit_of_work
from app.errors import ValidationFailed
from app.idnumber import IdNumberError, normalize_id_number
from identity import models
from identity.staff import create_staff

# Fictitious people with valid check digits (area 340102: 合肥市瑶海区).
DEMO_PEOPLE = [
    ("张三", "340102199003071232"),
    ("李四", "340102198512154314"),
    ("王五", "340102197001015211"),
    ("欧阳娜娜", "340102200002297024"),
]
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
        lines.append(f"staff: {username} / {password} ({role})")
    return lines
