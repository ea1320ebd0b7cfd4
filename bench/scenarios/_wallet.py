"""Shared preparation for the wallet scenarios: L2 holders with licences, a counter clerk.

Runs inside the preparing process's app context (see bench/prepare.py), through the app's own
services: the development registry entry, an SMS-phone account, real-name verification (L2),
licence issuance by a bench issuing client, access tokens from the app's token service.
"""
from __future__ import annotations

import secrets
from datetime import date

from flask import current_app

from app.security.tokens import Principal
from identity import service as identity
from issuers import service as issuers
from issuers import uscc
from wallet import service as wallet

_ISSUER_CLIENT: list[str] = []  # the bench department's issuing client, made on first use
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(rng: secrets.SystemRandom) -> str:
    first17 = f"340102{rng.randrange(1960, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}" \
              f"{rng.randrange(1000):03d}"
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def make_holders(n: int) -> list[tuple[str, str, str, str]]:
    """n new L2 citizens: (user_id, name, id_number, access token)."""
    rng = secrets.SystemRandom()
    tokens = current_app.extensions["tokens"]
    holders, seen = [], set()
    while len(holders) < n:
        id_number = _id_number(rng)
        if id_number in seen:
            continue
        seen.add(id_number)
        name = "测试" + "一二三四五六七八九十"[len(holders) % 10]
        phone = f"199{rng.randrange(10**8):08d}"
        identity.add_registry_entry(name=name, id_number=id_number)
        user = identity._create_user(phone=phone, index=identity.phone_index(phone))
        identity.verify_real_name(user_id=user.id, name=name, id_number=id_number)
        token, _ = tokens.issue(Principal("citizen", user.id))
        holders.append((user.id, name, id_number, token))
    return holders


def issue_licence(holder: tuple[str, str, str, str]) -> str:
    """A driving licence for the holder (attached to the account); returns its id."""
    _, name, id_number, _ = holder
    data = {"name": name, "id_number": id_number, "sex": "男", "nationality": "中国",
            "address": "安徽省合肥市庐阳区长江中路1号", "birth_date": f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
            "first_issued_on": "2010-05-01", "vehicle_class": "C1", "valid_from": "2020-05-01",
            "valid_until": "2030-05-01", "status": "有效", "issuing_authority": "合肥市公安局交通警察支队"}
    request = wallet.IssueRequest("driving_licence", name, id_number, data, date(2020, 5, 1), date(2030, 5, 1),
                                  f"bench-{secrets.token_hex(8)}")
    view, _ = wallet.issue_licence(client_id=issuer_client(), request=request)
    return view["id"]


def issuer_client() -> str:
    """A machine client of a bench department registered to issue driving licences (issue 17: an
    issuing client must act for a registered department)."""
    if not _ISSUER_CLIENT:
        code = uscc.complete("11340100" + "".join(secrets.choice("0123456789") for _ in range(8)))
        department = issuers.register(uscc_code=code, name="压测发证机关", region="340100", types=["driving_licence"])
        client, _ = identity.create_client(name=f"压测发证系统-{secrets.token_hex(3)}", scopes=["licences:issue"])
        issuers.bind_client(department.id, client.client_id)
        _ISSUER_CLIENT.append(client.client_id)
    return _ISSUER_CLIENT[0]


def clerk_token() -> str:
    staff = identity.create_staff(username=f"bench.clerk.{secrets.token_hex(4)}",
                                  password="Bench-Counter-Pass-2026!", role="counter", hall_code="H1")
    token, _ = current_app.extensions["tokens"].issue(Principal("staff", staff.id, "clerk", hall_code="H1"))
    return token


def department_token() -> str:
    """An access token (15 minutes) of a new department client with the `cases:write` scope."""
    client, _ = identity.create_client(name=f"压测办件系统-{secrets.token_hex(3)}", scopes=["cases:write"])
    token, _ = current_app.extensions["tokens"].issue(
        Principal("client", client.client_id, scopes=frozenset({"cases:write"})), ttl=900)
    return token


def line(path: str, headers: dict[str, str], body: str) -> str:
    """One prepared request of a `per_request` scenario: PATH, then `Name: value` headers, then the
    body, tab-separated (JSON bodies never hold a raw tab)."""
    parts = [path, *(f"{k}: {v}" for k, v in headers.items()), body]
    if any("\t" in p or "\n" in p for p in parts):
        raise ValueError("a prepared request must not contain tabs or newlines")
    return "\t".join(parts)
