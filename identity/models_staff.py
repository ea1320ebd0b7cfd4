"""Staff (counter clerks, administrators) and machine clients with the halls they act for: their tables
and queries, moved out of identity/models.py (which re-exports them) along the seam between people's
accounts and the operators and systems that call the API."""
from __future__ import annotations

import peewee as pw

from app.db import BaseModel, UTCDateTimeField, new_id, select_where, utcnow


class StaffUser(BaseModel):
    """A counter clerk (bound to a hall) or an administrator."""

    id = pw.CharField(primary_key=True, max_length=32)
    username = pw.CharField(max_length=64, unique=True)
    password_hash = pw.CharField(max_length=255)
    role = pw.CharField(max_length=16)  # clerk | admin
    hall_code = pw.CharField(max_length=32, null=True)
    disabled = pw.BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)


class ApiClient(BaseModel):
    """A machine client (issuer, department system, third party) with OAuth scopes."""

    client_id = pw.CharField(primary_key=True, max_length=40)
    name = pw.CharField(max_length=128)
    secret_hash = pw.CharField(max_length=64)
    scopes = pw.CharField(max_length=512)
    disabled = pw.BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)


class ApiClientHall(BaseModel):
    """A hall a machine client acts for: a queue system (`halls:write`) reports only its halls."""

    client_id = pw.CharField(max_length=40)
    hall_code = pw.CharField(max_length=64)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "api_client_hall"
        primary_key = pw.CompositeKey("client_id", "hall_code")


# Staff and machine clients


def staff_by_id(staff_id: str) -> StaffUser | None:
    return StaffUser.get_or_none(StaffUser.id == staff_id)


def staff_by_username(username: str) -> StaffUser | None:
    return StaffUser.get_or_none(StaffUser.username == username)


def staff_username_taken(username: str) -> bool:
    return StaffUser.select().where(StaffUser.username == username).exists()


def create_staff(*, username: str, password_hash: str, role: str, hall_code: str | None) -> StaffUser:
    return StaffUser.create(id=new_id("st"), username=username, password_hash=password_hash, role=role,
                            hall_code=hall_code)


def staff_usernames(staff_ids: set[str]) -> dict[str, str]:
    if not staff_ids:
        return {}
    return {s.id: s.username for s in
            StaffUser.select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(staff_ids))}


def api_client(client_id: str) -> ApiClient | None:
    return ApiClient.get_or_none(ApiClient.client_id == client_id)


def create_api_client(*, name: str, secret_hash: str, scopes: str) -> ApiClient:
    return ApiClient.create(client_id=new_id("cl"), name=name, secret_hash=secret_hash, scopes=scopes)


def client_halls(client_id: str) -> set[str]:
    return {h.hall_code for h in ApiClientHall.select().where(ApiClientHall.client_id == client_id)}


def bind_client_hall(client_id: str, hall_code: str) -> None:
    ApiClientHall.create(client_id=client_id, hall_code=hall_code)


def unbind_client_halls(client_id: str, hall_codes: list[str]) -> None:
    ApiClientHall.delete().where((ApiClientHall.client_id == client_id)
                                 & ApiClientHall.hall_code.in_(hall_codes)).execute()


def client_serves_hall(client_id: str, hall_code: str) -> bool:
    return select_where(ApiClientHall, client_id=client_id, hall_code=hall_code) is not None
