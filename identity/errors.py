"""Identity errors: stable codes the apps localise, Chinese details citizens can read."""
from __future__ import annotations

from typing import Callable

from app.errors import (AppError, Conflict, Forbidden, ServiceUnavailable, TooManyRequests, Unauthorized,
                        ValidationFailed)


class SmsCodeInvalid(AppError):
    status, code, detail = 400, "sms_code_invalid", "验证码错误，请重新输入。"
    detail_en = "The verification code is wrong; please enter it again."


class SmsCodeExpired(AppError):
    status, code, detail = 400, "sms_code_expired", "验证码已失效，请重新获取。"
    detail_en = "The verification code has expired; please request a new one."


class SmsCodeAttemptsExceeded(AppError):
    status, code, detail = 400, "sms_code_attempts_exceeded", "验证码错误次数过多，已失效，请重新获取。"
    detail_en = "Too many wrong codes; this code is no longer valid, please request a new one."


def _wait(seconds: int) -> tuple[str, str]:
    minutes = max(1, -(-seconds // 60))
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes}分钟", f"{minutes} minute{'s' * (minutes != 1)}"
    zh = f"{hours}小时" + (f"{rest}分钟" if rest else "")
    en = f"{hours} hour{'s' * (hours != 1)}" + (f" {rest} minute{'s' * (rest != 1)}" if rest else "")
    return zh, en


def sms_limit_message(per: str, limit: int) -> Callable[[int], tuple[str, str]]:
    """The 429 sms_limit_reached sentence for the phone's hourly (`per="hour"`) or daily limit:
    which limit applies and when it resets. The counts run from the first code of the window."""
    span_zh, span_en = ("1小时", "an hour") if per == "hour" else ("24小时", "24 hours")

    def explain(seconds: int) -> tuple[str, str]:
        wait_zh, wait_en = _wait(seconds)
        return (f"该手机号{span_zh}内最多获取{limit}次验证码，已达上限，请{wait_zh}后再试（从第一次获取起满{span_zh}后恢复）。",
                f"This phone number can receive at most {limit} codes in {span_en} and has reached that limit; "
                f"please try again in {wait_en} ({span_en} after the first code).")
    return explain


class SmsUnavailable(ServiceUnavailable):
    code, detail = "sms_unavailable", "短信发送失败，请稍后再试。"
    detail_en = "The text message could not be sent; please try again later."


class PhoneInvalid(ValidationFailed):
    code, detail = "phone_invalid", "请输入正确的中国大陆手机号码。"
    detail_en = "Please enter a valid mainland China mobile number."


class IdNumberInvalid(ValidationFailed):
    code, detail = "id_number_invalid", "身份证号码无效。"
    detail_en = "The ID number is invalid."


class RealNameMismatch(AppError):
    status, code, detail = 422, "real_name_mismatch", "姓名与身份证号码不一致，请核对后重试。"
    detail_en = "The name does not match the ID number; please check and try again."


class IdNumberBound(Conflict):
    code, detail = "id_number_bound", "该身份证号码已绑定其他账号，如有疑问请联系客服。"
    detail_en = "This ID number is already bound to another account; please contact customer service if in doubt."


class AlreadyVerified(Conflict):
    code, detail = "already_verified", "您已完成实名认证。"
    detail_en = "You have already completed real-name verification."


class RegistryUnavailable(ServiceUnavailable):
    code, detail = "registry_unavailable", "实名核验服务暂时不可用，请稍后再试。"
    detail_en = "The real-name verification service is temporarily unavailable; please try again later."


class PhoneRequired(Forbidden):
    code, detail = "phone_required", "请先绑定手机号码。"
    detail_en = "Please bind a mobile number first."


class PhoneBound(Conflict):
    code, detail = "phone_already_bound", "该账号已绑定手机号码。"
    detail_en = "This account already has a mobile number bound."


class AssuranceInsufficient(Forbidden):
    """403 naming `required_level` (API.md) and, when the citizen's level is known, the next step
    from where they are: a WeChat-only (L0) account binds and verifies a phone first."""

    code, detail = "assurance_level_insufficient", "此功能需要实名认证（L2），请先完成实名认证（核验姓名与身份证号码）。"
    detail_en = ("This needs real-name verification (L2); please complete real-name verification "
                 "(your name and ID number) first.")

    def __init__(self, detail: str | None = None, *, required_level: int = 2, current_level: int | None = None,
                 extra: dict | None = None, **kw) -> None:
        facts: dict = {"required_level": f"L{required_level}"}
        if current_level is not None:
            facts["current_level"] = f"L{current_level}"
        if detail is None:
            detail, kw["detail_en"] = level_advice(required_level, current_level)
        super().__init__(detail, extra={**facts, **(extra or {})}, **kw)


_PHONE_STEP = ("先绑定手机号码并通过短信验证（L1）", "first bind your mobile number and confirm it with the text-message code (L1)")
_REAL_NAME_STEP = ("完成实名认证（核验姓名与身份证号码，L2）", "complete real-name verification (your name and ID number, L2)")


def level_advice(required: int, current: int | None) -> tuple[str, str]:
    """(Chinese, English): what a citizen at `current` (None: unknown) does to reach `required`."""
    if required <= 1:
        return "此功能需要绑定手机号码（L1），请先绑定手机号码并通过短信验证。", \
            "This needs a verified mobile number (L1); please bind your mobile number and confirm it first."
    if required >= 4:
        return "此操作需要认证等级 L4（数字证书或到窗口现场核验）。", \
            "This needs assurance level L4 (a digital certificate or an in-person check at a counter)."
    steps_zh, steps_en = [], []
    if current == 0:
        steps_zh.append(_PHONE_STEP[0])
        steps_en.append(_PHONE_STEP[1])
    if current is None or current < 2:
        steps_zh.append(_REAL_NAME_STEP[0])
        steps_en.append(_REAL_NAME_STEP[1])
    if required == 3:
        steps_zh.append("完成人脸核验（L3）")
        steps_en.append("complete face verification (L3)")
    need_zh, need_en = ("实名认证（L2）", "real-name verification (L2)") if required == 2 else \
        ("人脸核验（L3）", "face verification (L3)")
    where_zh = "您目前仅通过微信登录（L0），" if current == 0 else ""
    where_en = " You are signed in with WeChat only (L0)." if current == 0 else ""
    zh = f"此功能需要{need_zh}。{where_zh}请{'，再'.join(steps_zh)}。"
    en = f"This needs {need_en}.{where_en} Please {', then '.join(steps_en)}."
    return zh, en


class WeChatCodeRejected(AppError):
    status, code, detail = 400, "wechat_code_invalid", "微信登录凭证无效或已使用，请重新登录。"
    detail_en = "The WeChat sign-in code is invalid or already used; please sign in again."


class WeChatBusy(ServiceUnavailable):
    code, detail = "wechat_unavailable", "微信服务繁忙，请稍后再试。"
    detail_en = "WeChat is busy; please try again later."


class LivenessUnavailableError(ServiceUnavailable):
    code, detail = "liveness_unavailable", "人脸核验服务暂不可用。"
    detail_en = "The face verification service is currently unavailable."


class LivenessNotPassed(AppError):
    status, code, detail = 422, "liveness_failed", "人脸核验未通过，请重试。"
    detail_en = "Face verification failed; please try again."


class LivenessPending(Conflict):
    code, detail = "liveness_pending", "人脸核验尚未完成。"
    detail_en = "Face verification has not been completed yet."


class RefreshTokenInvalid(Unauthorized):
    code, detail = "refresh_token_invalid", "登录已失效，请重新登录。"
    detail_en = "Your sign-in has expired; please sign in again."


class RefreshTokenReused(Unauthorized):
    code, detail = "refresh_token_reused", "检测到登录凭证被重复使用，已退出所有相关登录，请重新登录。"
    detail_en = "A sign-in credential was used twice; all related sessions have been signed out, please sign in again."


class CredentialsInvalid(Unauthorized):
    code, detail = "credentials_invalid", "用户名或密码错误。"
    detail_en = "Wrong username or password."


class ClientInvalid(Unauthorized):
    code, detail = "invalid_client", "客户端认证失败。"
    detail_en = "Client authentication failed."


class ScopeInvalid(AppError):
    status, code, detail = 400, "invalid_scope", "请求的权限范围无效。"
    detail_en = "The requested scope is invalid."


class GrantTypeUnsupported(AppError):
    status, code, detail = 400, "unsupported_grant_type", "仅支持 client_credentials 授权方式。"
    detail_en = "Only the client_credentials grant is supported."


class StepUpFailed(Forbidden):
    """A step-up proof (an SMS code to the bound phone) is missing, wrong, expired or used."""

    code, detail = "step_up_failed", "身份核验未通过：短信验证码错误、已过期或已使用，请重新获取。"
    detail_en = "Identity check failed: the text-message code is wrong, expired or already used; please request a new one."


class FreshLivenessRequired(StepUpFailed):
    code, detail = "liveness_required", "此操作需要先完成一次新的人脸核验。"
    detail_en = "This operation needs a new face verification first."


class StaffLoginThrottled(TooManyRequests):
    code, detail = "login_throttled", "登录失败次数较多，请稍后再试。"
    detail_en = "Too many failed sign-ins; please wait a moment and try again."


class StaffLoginRateLimited(TooManyRequests):
    code, detail = "login_rate_limited", "登录请求过于频繁，请稍后再试。"
    detail_en = "Too many sign-in attempts; please try again later."


class StaffLoginBusy(ServiceUnavailable):
    code, detail = "login_busy", "登录服务繁忙，请稍后再试。"
    detail_en = "Sign-in is busy right now; please try again in a moment."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "1"}, extra={"retry_after": 1})
