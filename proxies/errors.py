"""Proxy errors (授权代理): stable codes the apps localise, Chinese details citizens can read."""
from __future__ import annotations

from app.errors import AppError, Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.security.auth import DelegationUnchecked

# The kernel's 401 for a proxy token whose grant no longer holds (checked on every request).
ProxyGrantInactive = DelegationUnchecked


class ProxyRelativeNotFound(ValidationFailed):
    # One answer for "no account", "not real-name verified" and "name does not match" (issue 14
    # item 22): the form cannot be used to learn who is registered or the real name behind a phone.
    code = "proxy_relative_not_found"
    detail = N_("未找到与该手机号和姓名相符的实名用户（对方须已注册并完成实名认证），请核对后重试。")


class ProxySelf(ValidationFailed):
    code, detail = "proxy_self", N_("不能授权给自己。")


class ProxyScopeInvalid(ValidationFailed):
    code, detail = "proxy_scope_invalid", N_("所选权限不可授权他人代办（电子签名等事项只能本人办理）。")


class ProxyExpiryInvalid(ValidationFailed):
    code, detail = "proxy_expiry_invalid", N_("授权截止时间应晚于当前时间，且不超过 365 天。")


class ProxyGrantExists(Conflict):
    code, detail = "proxy_grant_exists", N_("您已授权该亲友代办，如需修改请先撤销原授权。")


class ProxyLimitReached(Conflict):
    code, detail = "proxy_limit_reached", N_("有效的代办授权数量已达上限，请先撤销不再需要的授权。")


class ProxyGrantNotFound(NotFound):
    code, detail = "proxy_grant_not_found", N_("代办授权不存在。")


class ProxyGrantPending(Conflict):
    code, detail = "proxy_grant_pending", N_("亲友尚未接受该代办授权，接受后才能代办。")


class ProxyGrantNotPending(Conflict):
    code, detail = "proxy_grant_not_pending", N_("该代办授权已接受、已拒绝、已撤销或已过期，无需再处理。")


class ProxyGrantDeclined(AppError):
    status, code, detail = 410, "proxy_grant_declined", N_("亲友已拒绝该代办授权。")


class ProxyGrantRevoked(AppError):
    status, code, detail = 410, "proxy_grant_revoked", N_("该代办授权已被撤销。")


class ProxyGrantExpired(AppError):
    status, code, detail = 410, "proxy_grant_expired", N_("该代办授权已过期。")
