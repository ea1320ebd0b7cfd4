"""Identity errors: stable codes the apps localise, Chinese details citizens can read."""
from __future__ import annotations

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
    code, detail = "assurance_level_insufficient", "当前认证等级不足，请先完成实名认证。"
    detail_en = "Your verification level is too low; please complete real-name verification first."


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
