"""Identity errors: stable codes the apps localise, Chinese details citizens can read."""
from __future__ import annotations

from typing import Callable

from app.clock import rfc3339
from app.errors import (
    AppError, Conflict, Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized, ValidationFailed,
)
from app.i18n import N_, NP_, T_, Series, Text


class SmsCodeInvalid(AppError):
    status, code, detail = 400, "sms_code_invalid", N_("验证码错误，请重新输入。")


class SmsCodeExpired(AppError):
    status, code, detail = 400, "sms_code_expired", N_("验证码已失效，请重新获取。")


class SmsCodeAttemptsExceeded(AppError):
    status, code, detail = 400, "sms_code_attempts_exceeded", N_("验证码错误次数过多，已失效，请重新获取。")


def _wait(seconds: int) -> Text:
    minutes = max(1, -(-seconds // 60))
    hours, rest = divmod(minutes, 60)
    if not hours:
        return NP_("{n}分钟", "{n}分钟", minutes)
    if not rest:
        return NP_("{n}小时", "{n}小时", hours)
    return N_("{hours}{minutes}", hours=NP_("{n}小时", "{n}小时", hours), minutes=NP_("{n}分钟", "{n}分钟", rest))


def sms_limit_message(per: str, limit: int) -> Callable[[int], Text]:
    """The 429 sms_limit_reached sentence for the phone's hourly (`per="hour"`) or daily limit:
    which limit applies and when it resets. The counts run from the first code of the window."""
    span = T_("1小时") if per == "hour" else T_("24小时")

    def explain(seconds: int) -> Text:
        return N_("该手机号{span}内最多获取{limit}次验证码，已达上限，请{wait}后再试（从第一次获取起满{span}后恢复）。",
                  span=span, limit=limit, wait=_wait(seconds))
    return explain


class SmsUnavailable(ServiceUnavailable):
    code, detail = "sms_unavailable", N_("短信发送失败，请稍后再试。")


class PhoneInvalid(ValidationFailed):
    code, detail = "phone_invalid", N_("请输入正确的中国大陆手机号码。")


class IdNumberInvalid(ValidationFailed):
    code, detail = "id_number_invalid", N_("身份证号码无效。")


class RealNameMismatch(AppError):
    status, code, detail = 422, "real_name_mismatch", N_("姓名与身份证号码不一致，请核对后重试。")


class IdNumberBound(Conflict):
    code, detail = "id_number_bound", N_("该身份证号码已绑定其他账号，如有疑问请联系客服。")


class AlreadyVerified(Conflict):
    code, detail = "already_verified", N_("您已完成实名认证。")


class RegistryUnavailable(ServiceUnavailable):
    code, detail = "registry_unavailable", N_("实名核验服务暂时不可用，请稍后再试。")


class PhoneRequired(Forbidden):
    code, detail = "phone_required", N_("请先绑定手机号码。")


class PhoneHeldByOtherAccount(Conflict):
    code, detail = "phone_held_by_other_account", N_("该手机号已是另一个账号的登录手机号：请用该手机号登录，在那个账号中关联网号。")


class PhoneBound(Conflict):
    code, detail = "phone_already_bound", N_("该账号已绑定手机号码。")


def step_up_url(required_level: int, max_age: int | None = None, purpose: str | None = None) -> str:
    """Where the client asks how to reach `required_level` (within `max_age`): GET /me/step-up."""
    query = f"required_level=L{required_level}"
    if max_age is not None:
        query += f"&max_age={max_age}"
    if purpose is not None:
        query += f"&purpose={purpose}"
    return f"/api/v1/me/step-up?{query}"


def level_facts(required_level: int, current_level: int | None, *, max_age: int | None = None,
                purpose: str | None = None, level_reached_at=None) -> dict:
    """The fields every assurance refusal carries (CONTRACTS A): the client steps up at
    `step_up_url`, then retries the same request unchanged."""
    if level_reached_at is not None:
        level_reached_at = rfc3339(level_reached_at)
    facts: dict = {"required_level": f"L{required_level}", "max_age": max_age,
                   "level_reached_at": level_reached_at, "step_up_url": step_up_url(required_level, max_age, purpose)}
    if current_level is not None:
        facts["current_level"] = f"L{current_level}"
    return facts


class AssuranceInsufficient(Forbidden):
    """403: the account never reached `required_level`. Names `required_level` (API.md), the
    citizen's `current_level`, `max_age`, `level_reached_at` (null) and `step_up_url`, and in
    `detail` the next step from where they are: a WeChat-only (L0) account binds a phone first."""

    code, detail = "assurance_level_insufficient", N_("此功能需要实名认证（L2），请先完成实名认证（核验姓名与身份证号码）。")

    def __init__(self, detail: str | None = None, *, required_level: int = 2, current_level: int | None = None,
                 max_age: int | None = None, purpose: str | None = None, level_reached_at=None,
                 extra: dict | None = None, **kw) -> None:
        facts = level_facts(required_level, current_level, max_age=max_age, purpose=purpose,
                            level_reached_at=level_reached_at)
        if detail is None:
            detail = level_advice(required_level, current_level)
        super().__init__(detail, extra={**facts, **(extra or {})}, **kw)


class StepUpRequired(Forbidden):
    """403: the account reached `required_level` once, but not within `max_age` seconds: prove it
    again (face, 网证, or an SMS code for L2) at `step_up_url`, then retry. Same fields as
    AssuranceInsufficient; `level_reached_at` is when the level was last proved."""

    code, detail = "step_up_required", N_("此操作需要重新核验身份，请完成核验后重试。")

    def __init__(self, detail: str | None = None, *, required_level: int, current_level: int | None = None,
                 max_age: int | None = None, purpose: str | None = None, level_reached_at=None,
                 extra: dict | None = None, **kw) -> None:
        facts = level_facts(required_level, current_level, max_age=max_age, purpose=purpose,
                            level_reached_at=level_reached_at)
        if detail is None and max_age is not None:
            detail = N_("此操作需要在{minutes}分钟内完成{need}，请完成核验后重试。",
                        minutes=max(1, max_age // 60), need=_FRESH_NEED.get(required_level, _FRESH_NEED[3]))
        super().__init__(detail, extra={**facts, **(extra or {})}, **kw)


class IdentityCodeInvalid(AppError):
    """The code a citizen showed at the counter is unknown, expired (300 s) or already used."""

    status, code, detail = 404, "identity_code_invalid", N_("核验码无效、已过期或已使用，请居民重新生成。")


_FRESH_NEED = {1: T_("短信验证（L1）"), 2: T_("短信验证（L2）"), 3: T_("人脸核验（L3）"), 4: T_("现场核验（L4）")}
_PHONE_STEP = T_("先绑定手机号码并通过短信验证（L1）")
_REAL_NAME_STEP = T_("完成实名认证（核验姓名与身份证号码，L2）")


def level_advice(required: int, current: int | None) -> str:
    """What a citizen at `current` (None: unknown) does to reach `required` (a Text: both languages)."""
    if required <= 1:
        return T_("此功能需要绑定手机号码（L1），请先绑定手机号码并通过短信验证。")
    if required >= 4:
        return T_("此操作需要认证等级 L4（数字证书或到窗口现场核验）。")
    steps = []
    if current == 0:
        steps.append(_PHONE_STEP)
    if current is None or current < 2:
        steps.append(_REAL_NAME_STEP)
    if required == 3:
        steps.append(T_("完成人脸核验（L3）"))
    need = T_("实名认证（L2）") if required == 2 else T_("人脸核验（L3）")
    where = T_("您目前仅通过微信登录（L0），") if current == 0 else ""
    return N_("此功能需要{need}。{where}请{steps:，再}。", need=need, where=where, steps=Series(steps))


class WeChatCodeRejected(AppError):
    status, code, detail = 400, "wechat_code_invalid", N_("微信登录凭证无效或已使用，请重新登录。")


class WeChatBusy(ServiceUnavailable):
    code, detail = "wechat_unavailable", N_("微信服务繁忙，请稍后再试。")


class LivenessUnavailableError(ServiceUnavailable):
    code, detail = "liveness_unavailable", N_("人脸核验服务暂不可用。")


class LivenessNotPassed(AppError):
    status, code, detail = 422, "liveness_failed", N_("人脸核验未通过，请重试。")


class LivenessNeedsIdentity(Conflict):
    code, detail = "liveness_needs_identity", N_("人脸核验需与身份证照片比对，您的账号未保存身份证信息：请改用网证+人脸核验。")


class LivenessPending(Conflict):
    code, detail = "liveness_pending", N_("人脸核验尚未完成。")


class RefreshTokenInvalid(Unauthorized):
    code, detail = "refresh_token_invalid", N_("登录已失效，请重新登录。")


class RefreshTokenReused(Unauthorized):
    code, detail = "refresh_token_reused", N_("检测到登录凭证被重复使用，已退出所有相关登录，请重新登录。")


class CredentialsInvalid(Unauthorized):
    code, detail = "credentials_invalid", N_("用户名或密码错误。")


class ClientInvalid(Unauthorized):
    code, detail = "invalid_client", N_("客户端认证失败。")


class ScopeInvalid(AppError):
    status, code, detail = 400, "invalid_scope", N_("请求的权限范围无效。")


class GrantTypeUnsupported(AppError):
    status, code, detail = 400, "unsupported_grant_type", N_("仅支持 client_credentials 授权方式。")


class StepUpFailed(Forbidden):
    """A step-up proof (an SMS code to the bound phone) is missing, wrong, expired or used."""

    code, detail = "step_up_failed", N_("身份核验未通过：短信验证码错误、已过期或已使用，请重新获取。")


class FreshLivenessRequired(StepUpFailed):
    """403 liveness_required (existing signing clients): a fresh face check is missing. Carries the
    fields of StepUpRequired too (required_level L3, max_age, step_up_url, …) when they are given."""

    code, detail = "liveness_required", N_("此操作需要先完成一次新的人脸核验。")

    def __init__(self, detail: str | None = None, *, required_level: int = 3, current_level: int | None = None,
                 max_age: int | None = None, purpose: str | None = None, level_reached_at=None,
                 extra: dict | None = None, **kw) -> None:
        facts = level_facts(required_level, current_level, max_age=max_age, purpose=purpose,
                            level_reached_at=level_reached_at)
        super().__init__(detail, extra={**facts, **(extra or {})}, **kw)


class StaffLoginThrottled(TooManyRequests):
    code, detail = "login_throttled", N_("登录失败次数较多，请稍后再试。")


class StaffLoginRateLimited(TooManyRequests):
    code, detail = "login_rate_limited", N_("登录请求过于频繁，请稍后再试。")


class StaffLoginBusy(ServiceUnavailable):
    code, detail = "login_busy", N_("登录服务繁忙，请稍后再试。")

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "1"}, extra={"retry_after": 1})


# --- 网号/网证 (NCID) authentication (identity/ncid.py) ---

class NcidSessionInvalid(AppError):
    """The bizSeq is unknown, expired, spent, or was issued for another purpose or user: a replay."""

    status, code, detail = 400, "ncid_session_invalid", N_("网络身份认证会话无效或已使用，请重新发起认证。")


class NcidResultInvalid(AppError):
    """The platform's 凭据 failed verification (signature, certificate, organisation, time)."""

    status, code, detail = 400, "ncid_result_invalid", N_("网络身份认证结果无法验证，请重新发起认证。")


_NCID_REASONS = {
    "credential_invalid": N_("网证无效或已过期，请在国家网络身份认证App中更新后重试。"),
    "password_wrong": N_("网证口令错误，请重新认证。"),
    "face_mismatch": N_("人脸比对未通过，请重新认证。"),
    "cancelled": N_("您已取消网络身份认证。"),
    "bizseq_unknown": N_("认证平台未找到本次认证业务，请重新发起认证。"),
    "org_not_authorised": N_("本应用暂未获准使用网络身份认证，请改用其他方式登录。"),
    "mode_not_allowed": N_("此操作不支持所选的网络身份认证方式。"),
    "consent_refused": N_("您未同意提供身份信息，无法完成此操作。"),
}


class NcidAuthFailed(Forbidden):
    """The national platform said no (extra `reason`: a stable word for the fail code)."""

    code, detail = "ncid_auth_failed", N_("网络身份认证未通过，请重新认证。")

    def __init__(self, reason: str = "failed", **kw) -> None:
        super().__init__(_NCID_REASONS.get(reason), extra={"reason": reason}, **kw)


class NcidUnavailable(ServiceUnavailable):
    code, detail = "ncid_unavailable", N_("网络身份认证服务暂时不可用，请稍后再试。")
