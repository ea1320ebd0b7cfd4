"""Staff accounts (counter clerks, administrators) and machine clients (OAuth client credentials)."""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from typing import Any

import peewee as pw
from flask import current_app

from app import audit, ratelimit
from app.db import unit_of_work
from app.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from app.health import STAFF_LOGIN_REFUSED, STAFF_LOGIN_THROTTLED
from app.i18n import N_
from app.logs import mask_text
from app.security.passwords import hash_password, password_problems, verification_slot, verify_password
from app.security.pii import constant_time_equal
from app.security.tokens import Principal
from identity import models, sessions
from identity.errors import (
    ClientInvalid, CredentialsInvalid, GrantTypeUnsupported, ScopeInvalid, StaffLoginBusy, StaffLoginRateLimited,
    StaffLoginThrottled,
)
from identity.models import ApiClient, StaffUser

ROLES = {"clerk": "clerk", "counter": "clerk", "admin": "admin"}
SCOPES = frozenset({"licences:issue", "cases:write", "signatures:verify", "halls:write",
                    "verifications:request",  # a third party asking a citizen to disclose (consent/)
                    "matters:admin",  # managing the catalogue of matters (用证事项, /admin/matters)
                    "issuers:admin",  # managing the issuer registry (发证机关, /admin/issuers)
                    "timestamps:request"})  # RFC 3161 time-stamp tokens (POST /api/v1/timestamps)
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
log = logging.getLogger(__name__)


# --- Staff ---------------------------------------------------------------------------------------

def create_staff(*, username: str, password: str, role: str, hall_code: str | None = None,
                 actor: str = "cli") -> StaffUser:
    username = username.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise ValidationFailed(errors={"username": ["3–64 位小写字母、数字或 ._-"]})
    if role not in ROLES:
        raise ValidationFailed(errors={"role": ["角色应为 counter（柜员）或 admin（管理员）"]})
    role = ROLES[role]
    if role == "clerk" and not hall_code:
        raise ValidationFailed(errors={"hall": ["柜员须绑定大厅编码"]})
    problems = password_problems(password)
    if problems:
        raise ValidationFailed(N_("密码强度不足。"), errors={"password": problems})
    try:
        with unit_of_work():
            staff = models.create_staff(username=username, password_hash=hash_password(password), role=role,
                                        hall_code=hall_code if role == "clerk" else None)
            audit.record("staff.create", actor_kind="admin", actor_id=actor, target=staff.id, details={"role": role})
    except pw.IntegrityError:
        raise Conflict(N_("用户名已存在。"), code="username_taken") from None
    return staff


def _login_limits(ip: str) -> list[ratelimit.Limit]:
    cfg = current_app.config
    return [ratelimit.Limit(f"staff-login:ip:{{{ip}}}", cfg["STAFF_LOGIN_PER_IP_MINUTE"], 60),
            ratelimit.Limit("staff-login:{all}", cfg["STAFF_LOGIN_PER_MINUTE"], 60)]


def _backoffs(username: str, ip: str) -> tuple[ratelimit.Backoff, ratelimit.Backoff]:
    """The (username, address) pair's backoff, then the username's across all addresses (looser,
    capped low: it slows a distributed guesser without locking the clerk out). One hash slot."""
    cfg = current_app.config
    tag = hashlib.sha256(username.encode()).hexdigest()[:16]
    window = cfg["STAFF_FAILURE_WINDOW_SECONDS"]
    return (ratelimit.Backoff(f"staff-login:{{{tag}}}:ip:{ip}", cfg["STAFF_PAIR_FREE_FAILURES"],
                              cfg["STAFF_BACKOFF_BASE_SECONDS"], cfg["STAFF_PAIR_BACKOFF_MAX_SECONDS"], window),
            ratelimit.Backoff(f"staff-login:{{{tag}}}:user", cfg["STAFF_USER_FREE_FAILURES"],
                              cfg["STAFF_BACKOFF_BASE_SECONDS"], cfg["STAFF_USER_BACKOFF_MAX_SECONDS"], window))


def _before_hashing(username: str, ip: str) -> tuple[ratelimit.Backoff, ratelimit.Backoff]:
    """What is refused without an Argon2 verification: the address's and the deployment's login
    rates (429 `login_rate_limited`), then a pair or username still waiting (429 `login_throttled`)."""
    try:
        ratelimit.consume(_login_limits(ip))
    except TooManyRequests as exc:
        STAFF_LOGIN_REFUSED.labels("rate_limited").inc()
        raise StaffLoginRateLimited(exc.extra["retry_after"]) from None
    backoffs = _backoffs(username, ip)
    waiting = ratelimit.backoff_wait(list(backoffs))
    if waiting is not None:
        STAFF_LOGIN_REFUSED.labels("throttled").inc()
        raise StaffLoginThrottled(waiting[1])
    return backoffs


def _failed(backoffs: tuple[ratelimit.Backoff, ratelimit.Backoff], staff: StaffUser | None, ip: str) -> None:
    """Count the failure; when it starts a throttle, alert: a WARNING log, the Prometheus counter
    and an audit row (the username is not logged: a mistyped one may be a password)."""
    pair, user = ratelimit.record_failure(list(backoffs))
    started = [(scope, f) for scope, f in (("pair", pair), ("user", user)) if f.failures == f.backoff.free + 1]
    with unit_of_work():
        if staff is not None:
            audit.record("auth.login.staff", outcome="failure", actor_kind="staff", actor_id=staff.id,
                         details={"throttled_for": pair.delay})
        for scope, failure in started:
            STAFF_LOGIN_THROTTLED.labels(scope).inc()
            log.warning("staff login throttled", extra={
                "scope": scope, "staff_id": staff.id if staff else None, "client_ip": ip,
                "failures": failure.failures, "wait_seconds": failure.delay})
            audit.record("auth.login.staff.throttled", outcome="failure", actor_kind="staff",
                         actor_id=staff.id if staff else None, target=staff.id if staff else None,
                         details={"scope": scope, "failures": failure.failures, "wait_seconds": failure.delay,
                                  "known_account": staff is not None})


def staff_login(*, username: str, password: str, ip: str | None = None) -> dict[str, Any]:
    """Password login, guarded before any Argon2 work (issue 14 items 4 and 7): a per-address and a
    deployment-wide rate, a progressive wait per (username, address) after a few failures and a
    looser one per username from any address (never a hard lock: the right password from another
    address still gets in), and at most STAFF_HASH_CONCURRENCY verifications at once per process.
    Unknown usernames are counted and hashed like known ones: no enumeration."""
    username, ip = username.strip().lower(), ip or "unknown"
    backoffs = _before_hashing(username, ip)
    with verification_slot(current_app.config["STAFF_HASH_CONCURRENCY"]) as free:
        if not free:
            STAFF_LOGIN_REFUSED.labels("busy").inc()
            raise StaffLoginBusy()
        staff = models.staff_by_username(username)
        ok = verify_password(staff.password_hash if staff else None, password)
    if not ok or staff is None or staff.disabled:
        _failed(backoffs, staff, ip)
        raise CredentialsInvalid()
    ratelimit.forget_failures(backoffs[0])  # the pair's own count; the username's keeps slowing others
    with unit_of_work():
        answer = sessions.open_session(Principal("staff", staff.id, staff.role, hall_code=staff.hall_code),
                                       channel="counter", ip=ip)
        audit.record("auth.login.staff", actor_kind="staff", actor_id=staff.id)
    answer["staff"] = staff_view(staff)
    return answer


def get_staff(staff_id: str) -> StaffUser:
    staff = models.staff_by_id(staff_id)
    if staff is None:
        raise NotFound(N_("工作人员账号不存在。"), code="staff_not_found")
    return staff


def staff_view(staff: StaffUser) -> dict[str, Any]:
    return {"id": staff.id, "username": staff.username, "role": staff.role, "hall_code": staff.hall_code}


# --- Machine clients -----------------------------------------------------------------------------

def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()  # 256-bit random secrets: no KDF needed


def create_client(*, name: str, scopes: list[str], halls: list[str] = (), actor: str = "cli") -> tuple[ApiClient, str]:
    """Register a machine client; returns it and its secret (shown once, stored hashed). `halls`
    binds it to those halls (by code): a `halls:write` client reports only their queues."""
    unknown = sorted(set(scopes) - SCOPES)
    if unknown or not scopes:
        raise ValidationFailed(errors={"scopes": [f"可选范围：{' '.join(sorted(SCOPES))}"]})
    if not name.strip():
        raise ValidationFailed(errors={"name": ["必填"]})
    halls = _hall_codes(halls)
    secret = secrets.token_urlsafe(32)
    with unit_of_work():
        client = models.create_api_client(name=name.strip(), secret_hash=_secret_hash(secret),
                                          scopes=" ".join(sorted(set(scopes))))
        for code in halls:
            models.bind_client_hall(client.client_id, code)
        audit.record("client.create", actor_kind="admin", actor_id=actor, target=client.client_id,
                     details={"scopes": client.scopes, "halls": halls})
    return client, secret


def _hall_codes(codes) -> list[str]:
    codes = sorted({c.strip() for c in codes if c.strip()})
    if any(len(c) > 64 for c in codes):
        raise ValidationFailed(errors={"halls": ["大厅编码最长 64 个字符"]})
    return codes


def set_client_halls(*, client_id: str, add: list[str] = (), remove: list[str] = (),
                     actor: str = "cli") -> list[str]:
    """Bind a machine client to more halls or unbind it (audited); returns its halls now."""
    add, remove = _hall_codes(add), _hall_codes(remove)
    with unit_of_work():
        if models.api_client(client_id) is None:
            raise ValidationFailed(errors={"client_id": ["没有这个客户端"]})
        bound = models.client_halls(client_id)
        for code in sorted(set(add) - bound):
            models.bind_client_hall(client_id, code)
        if remove:
            models.unbind_client_halls(client_id, remove)
        now = sorted((bound | set(add)) - set(remove))
        if add or remove:
            audit.record("client.halls", actor_kind="admin", actor_id=actor, target=client_id,
                         details={"added": sorted(set(add) - bound), "removed": sorted(bound & set(remove)),
                                  "halls": now})
    return now


def client_serves_hall(client_id: str, hall_code: str) -> bool:
    return models.client_serves_hall(client_id, hall_code)


def staff_usernames(staff_ids: set[str]) -> dict[str, str]:
    """The usernames of these staff members, by id (unknown ids are left out)."""
    return models.staff_usernames(staff_ids)


def client_token(*, grant_type: str, client_id: str, client_secret: str, scope: str | None,
                 basic_auth: bool = False) -> dict[str, Any]:
    """OAuth 2.0 client-credentials grant (RFC 6749 §4.4)."""
    if grant_type != "client_credentials":
        raise GrantTypeUnsupported(extra={"error": "unsupported_grant_type"})
    client = models.api_client(client_id)
    expected = client.secret_hash if client else _secret_hash(secrets.token_urlsafe(8))
    if not constant_time_equal(expected, _secret_hash(client_secret)) or client is None or client.disabled:
        with unit_of_work():
            # Whatever a caller typed as client_id: an ID number or phone there is masked (`make fuzz` found one).
            audit.record("auth.client_token", outcome="failure", actor_kind="client",
                         actor_id=mask_text(client_id[:40]))
        headers = {"WWW-Authenticate": 'Basic realm="yiwang"'} if basic_auth else None
        raise ClientInvalid(extra={"error": "invalid_client"}, headers=headers)
    allowed = frozenset(client.scopes.split())
    requested = frozenset(scope.split()) if scope else allowed
    if not requested <= allowed:
        raise ScopeInvalid(extra={"error": "invalid_scope"})
    ttl = current_app.config["CLIENT_TOKEN_TTL"]
    token, expires_in = current_app.extensions["tokens"].issue(
        Principal("client", client.client_id, scopes=requested), ttl=ttl)
    with unit_of_work():
        audit.record("auth.client_token", actor_kind="client", actor_id=client.client_id,
                     details={"scope": " ".join(sorted(requested))})
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in,
            "scope": " ".join(sorted(requested))}
