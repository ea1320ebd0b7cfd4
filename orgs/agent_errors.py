"""Agent errors (经办人): stable codes the apps localise, Chinese details a citizen can read."""
from __future__ import annotations

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import N_
from app.security.auth import DelegationUnchecked


class AgentGrantInactive(DelegationUnchecked):
    # 401 on every request made with an enterprise token whose grant has ended (expired, revoked,
    # declined) or no longer says what the token says; the LR's token once they are LR no more.
    code, detail = "agent_grant_inactive", N_("企业经办授权已撤销或已过期，请重新进入企业办理。")


class AgentScopeInsufficient(Forbidden):
    code, detail = "agent_scope_insufficient", N_("您的经办授权不包含此事项，请联系企业法定代表人调整授权。")


class AgentNotFound(ValidationFailed):
    # One answer for "no account", "not real-name verified" and "name does not match": the form is
    # no oracle for who is registered or the real name behind a phone.
    code = "agent_not_found"
    detail = N_("未找到与该手机号和姓名相符的实名用户（经办人须已注册并完成实名认证），请核对后重试。")


class AgentSelf(ValidationFailed):
    code, detail = "agent_self", N_("法定代表人本人无需添加为经办人。")


class AgentScopeInvalid(ValidationFailed):
    code, detail = "agent_scope_invalid", N_("所选权限不可授权经办人。")


class AgentExpiryInvalid(ValidationFailed):
    code, detail = "agent_expiry_invalid", N_("授权截止时间应晚于当前时间，且不超过 365 天。")


class AgentExists(Conflict):
    code, detail = "agent_exists", N_("该经办人已有待接受或有效的授权，如需修改请先撤销原授权。")


class AgentGrantNotFound(NotFound):
    code, detail = "agent_grant_not_found", N_("经办授权不存在。")


class AgentEnterpriseNotFound(NotFound):
    # The same answer whether the enterprise does not exist or the caller may not act for it.
    code, detail = "enterprise_not_found", N_("企业不存在，或您不是该企业的法定代表人或经办人。")


class AgentGrantNotPending(Conflict):
    code, detail = "agent_grant_not_pending", N_("该经办授权已接受、已拒绝、已撤销或已过期，无需再处理。")


class AgentGrantPending(Forbidden):
    code, detail = "agent_grant_pending", N_("您尚未接受该企业的经办授权，接受后才能代企业办理。")


class AgentGrantRevoked(Forbidden):
    code, detail = "agent_grant_revoked", N_("该企业的经办授权已被撤销。")


class AgentGrantExpired(Forbidden):
    code, detail = "agent_grant_expired", N_("该企业的经办授权已过期。")
