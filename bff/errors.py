"""BFF errors: stable codes the apps localise, Chinese details citizens can read."""
from __future__ import annotations

from app.errors import AppError, Conflict, NotFound, ValidationFailed
from app.security.auth import DelegationUnchecked as ProxyGrantInactive  # noqa: F401  (401, per request)


class ProxyRelativeNotFound(ValidationFailed):
    # One answer for "no account", "not real-name verified" and "name does not match" (issue 14
    # item 22): the form cannot be used to learn who is registered or the real name behind a phone.
    code = "proxy_relative_not_found"
    detail = "未找到与该手机号和姓名相符的实名用户（对方须已注册并完成实名认证），请核对后重试。"
    detail_en = ("No verified user matches this mobile number and name (your relative must have registered and "
                 "completed real-name verification); please check and try again.")


class ProxySelf(ValidationFailed):
    code, detail = "proxy_self", "不能授权给自己。"
    detail_en = "You cannot authorise yourself."


class ProxyScopeInvalid(ValidationFailed):
    code, detail = "proxy_scope_invalid", "所选权限不可授权他人代办（电子签名等事项只能本人办理）。"
    detail_en = "A chosen permission cannot be delegated (e-signature and similar can only be done in person)."


class ProxyExpiryInvalid(ValidationFailed):
    code, detail = "proxy_expiry_invalid", "授权截止时间应晚于当前时间，且不超过 365 天。"
    detail_en = "The expiry must be in the future and within 365 days."


class ProxyGrantExists(Conflict):
    code, detail = "proxy_grant_exists", "您已授权该亲友代办，如需修改请先撤销原授权。"
    detail_en = "You have already authorised this relative; revoke the existing authorisation to change it."


class ProxyLimitReached(Conflict):
    code, detail = "proxy_limit_reached", "有效的代办授权数量已达上限，请先撤销不再需要的授权。"
    detail_en = "You have reached the limit of active authorisations; revoke one you no longer need first."


class ProxyGrantNotFound(NotFound):
    code, detail = "proxy_grant_not_found", "代办授权不存在。"
    detail_en = "The authorisation does not exist."


class ProxyGrantPending(Conflict):
    code, detail = "proxy_grant_pending", "亲友尚未接受该代办授权，接受后才能代办。"
    detail_en = "Your relative has not accepted this authorisation yet; it takes effect once accepted."


class ProxyGrantNotPending(Conflict):
    code, detail = "proxy_grant_not_pending", "该代办授权已接受、已拒绝、已撤销或已过期，无需再处理。"
    detail_en = "This authorisation has already been accepted, declined, revoked or has expired."


class ProxyGrantDeclined(AppError):
    status, code, detail = 410, "proxy_grant_declined", "亲友已拒绝该代办授权。"
    detail_en = "Your relative declined this authorisation."


class ProxyGrantRevoked(AppError):
    status, code, detail = 410, "proxy_grant_revoked", "该代办授权已被撤销。"
    detail_en = "This authorisation has been revoked."


class ProxyGrantExpired(AppError):
    status, code, detail = 410, "proxy_grant_expired", "该代办授权已过期。"
    detail_en = "This authorisation has expired."
