"""网号 login, linking and step-up (issue 19, WP4; design D1/D3).

The national network identity service (国家网络身份认证公共服务) gives each relying app a per-app
pseudonym for the person, the 网络身份应用标识 (`appUserId`). Its 管理办法 (art. 2 and the 最小化
provisions) forbid asking a 网号 user for plaintext identity data without a law or their separate
consent, so a first 网号 login creates an account with NO phone, name or ID number: only
`ncid_link(app_user_id_bidx, app_user_id_enc)`. Who the person is was established by the platform:
the assurance event `ncid:R0x` sets `real_name_source = "ncid"` and the level of D1 (`ncid.level_for`).

Linking (POST /me/ncid) needs a fresh 网号 authentication bound to the account (purpose "link", the
bizSeq carries the user id): that authentication is itself the proof, so no SMS step-up is asked.
Unlinking is policy "ncid_unlink" (L2 within 300 s) and never removes the last way to log in.

The 凭据 is verified and spent by `identity.ncid.authenticate` (H3): a replayed login body finds its
bizSeq spent and is refused there (400 ncid_session_invalid, audited).
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from app import audit, ratelimit
from app.db import unit_of_work, utcnow
from app.errors import Conflict, Forbidden
from app.i18n import N_
from app.ratelimit import Limit
from app.security.pii import field_cipher
from app.security.tokens import Principal
from identity import assurance, models, ncid, sessions
from identity.accounts import get_user, user_view
from identity.login import create_user


class NcidLinkedElsewhere(Conflict):
    code, detail = "ncid_linked_elsewhere", N_("该网号已关联其他账号。请用网号登录那个账号，或先在那个账号中解除关联。")


class NcidAlreadyLinked(Conflict):
    code, detail = "ncid_already_linked", N_("您的账号已关联另一个网号，请先解除关联。")


class NcidNotLinked(Conflict):
    code, detail = "ncid_not_linked", N_("您的账号尚未关联网号，请先关联网号。")


class NcidLastLoginMethod(Conflict):
    code, detail = "ncid_last_login_method", N_("网号是您账号唯一的登录方式，解除关联后将无法登录。请先绑定手机号码。")


class NcidAccountMismatch(Forbidden):
    code, detail = "ncid_account_mismatch", N_("本次认证的网号不是您账号关联的网号，请用本人网号认证。")


def app_user_index(app_user_id: str) -> str:
    """The 网号's blind index (label "ncid": never equal to a phone's or an ID number's index)."""
    return field_cipher().blind_index("ncid", app_user_id)


def start_session(*, purpose: str, user_id: str | None = None, ip: str | None = None) -> dict[str, Any]:
    """A bizSeq for the national app (`wx.ncidas` / the 国家网络身份认证 App), bound to the purpose and
    the account (none for a login). Public for logins, so limited per address like SMS logins."""
    if user_id is None and ip is not None:
        ratelimit.consume([Limit(f"ncid:ip-minute:{ip}", current_app.config["LOGIN_PER_IP_MINUTE"], 60,
                                 "ncid_rate_limited", N_("网络身份认证请求过于频繁，请稍后再试。"))])
    return ncid.start(purpose=purpose, user_id=user_id)


def _authenticate(*, purpose: str, user_id: str | None, proof: dict[str, Any]) -> Any:
    return ncid.authenticate(biz_seq=proof["biz_seq"], purpose=purpose, id_card_auth_data=proof["id_card_auth_data"],
                             cert_pwd_data=proof.get("cert_pwd_data"), auth_mode=proof["auth_mode"], user_id=user_id)


def record_level(user_id: str, result: Any, ref: str) -> int:
    """The assurance event of this 网号 authentication (D1: the level depends on the standing one)."""
    level = ncid.level_for(result.mode, assurance.verified_level(user_id), result.face_score)
    assurance.record_assurance(user_id=user_id, level=level, method=f"ncid:{result.mode}", ref=ref)
    return level


def login_with_ncid(*, proof: dict[str, Any], ip: str | None, channel: str = "app") -> dict[str, Any]:
    """Log in with 网号; the first login creates a zero-plaintext account. The SMS login's token
    answer plus `account_created`."""
    result = _authenticate(purpose="login", user_id=None, proof=proof)
    index = app_user_index(result.app_user_id)
    now = utcnow()
    with unit_of_work():
        link = models.ncid_link_by_index(index)
        created = False
        if link is None or models.user_by_id(link.user_id) is None:
            if link is not None:  # its account was deleted (merged away): the 网号 starts afresh
                models.delete_ncid_link(link.user_id)
            user = create_user(phone=None, index=None)
            link = models.insert_ncid_link(user_id=user.id, index=index, now=now, mode=result.mode,
                                           app_user_id_enc=field_cipher().encrypt(result.app_user_id, "ncid.app_user_id"))
            if link is None:  # a concurrent first login with the same 网号 won: use its account
                models.delete_user(user)
                link = models.ncid_link_by_index(index)
            else:
                created = True
        else:
            models.touch_ncid_link(link.id, mode=result.mode, now=now)
        level = record_level(link.user_id, result, proof["biz_seq"])
        answer = sessions.open_session(Principal("citizen", link.user_id), channel=channel, ip=ip)
        audit.record("auth.ncid.login", actor_kind="citizen", actor_id=link.user_id,
                     details={"mode": result.mode, "level": level, "account_created": created})
    answer["user"] = user_view(models.reload_user(link.user_id))
    answer["account_created"] = created
    return answer


def _refused(action: str, user_id: str, reason: str, error: Exception) -> Exception:
    """Audit a refusal in its own transaction (the caller raises `error` afterwards)."""
    with unit_of_work():
        audit.record(action, outcome="refused", actor_kind="citizen", actor_id=user_id, details={"reason": reason})
    return error


def link_ncid(*, user_id: str, proof: dict[str, Any]) -> dict[str, Any]:
    """Link a 网号 to this account (then either way logs in); the profile."""
    user = get_user(user_id)
    result = _authenticate(purpose="link", user_id=user.id, proof=proof)
    index = app_user_index(result.app_user_id)
    held, mine = models.ncid_link_by_index(index), models.ncid_link_of(user.id)
    if held is not None and held.user_id != user.id:
        raise _refused("identity.ncid.link", user.id, "linked_elsewhere", NcidLinkedElsewhere())
    if mine is not None and mine.app_user_id_bidx != index:
        raise _refused("identity.ncid.link", user.id, "other_ncid_linked", NcidAlreadyLinked())
    now = utcnow()
    with unit_of_work():
        if mine is None:
            if models.insert_ncid_link(user_id=user.id, index=index, mode=result.mode, now=now,
                                       app_user_id_enc=field_cipher().encrypt(result.app_user_id,
                                                                              "ncid.app_user_id")) is None:
                raise NcidLinkedElsewhere()  # linked concurrently (by this account or another)
        else:
            models.touch_ncid_link(mine.id, mode=result.mode, now=now)
        level = record_level(user.id, result, proof["biz_seq"])
        audit.record("identity.ncid.link", actor_kind="citizen", actor_id=user.id,
                     details={"mode": result.mode, "level": level, "relinked": mine is not None})
    return user_view(models.reload_user(user.id))


def unlink_ncid(*, user_id: str) -> dict[str, Any]:
    """Remove the account's 网号 (policy "ncid_unlink": L2 within 300 s); never the last login method."""
    assurance.require_policy(user_id, "ncid_unlink")
    user = get_user(user_id)
    if models.ncid_link_of(user.id) is None:
        raise NcidNotLinked()
    if user.phone_bidx is None and not models.has_wechat_identity(user.id):
        raise _refused("identity.ncid.unlink", user.id, "last_login_method", NcidLastLoginMethod())
    with unit_of_work():
        models.delete_ncid_link(user.id)
        audit.record("identity.ncid.unlink", actor_kind="citizen", actor_id=user.id)
    return user_view(models.reload_user(user.id))


def step_up_ncid(*, user_id: str, proof: dict[str, Any]) -> dict[str, Any]:
    """A fresh 网证 authentication of the account's own 网号 → an assurance event (a 网号 account's
    face step-up is 网证+人脸, R03: it has no name and ID number for FACE v1)."""
    user = get_user(user_id)
    link = models.ncid_link_of(user.id)
    if link is None:
        raise NcidNotLinked()
    result = _authenticate(purpose="step_up", user_id=user.id, proof=proof)
    if link.app_user_id_bidx != app_user_index(result.app_user_id):
        raise _refused("identity.ncid.step_up", user.id, "other_ncid", NcidAccountMismatch())
    now = utcnow()
    with unit_of_work():
        models.touch_ncid_link(link.id, mode=result.mode, now=now)
        level = record_level(user.id, result, proof["biz_seq"])
        audit.record("identity.ncid.step_up", actor_kind="citizen", actor_id=user.id,
                     details={"mode": result.mode, "level": level})
    return {"level": f"L{level}", "method": f"ncid:{result.mode}", "at": now}


def ncid_linked(user_id: str) -> bool:
    return models.ncid_link_of(user_id) is not None
