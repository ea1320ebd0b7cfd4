"""Identity errors: stable codes the apps localise, Chinese details citizens can read."""
from __future__ import annotations

from app.errors import AppError, Conflict, Forbidden, ServiceUnavailable, Unauthorized, ValidationFailed


class SmsCodeInvalid(AppError):
    status, code, detail = 400, "sms_code_invalid", "验证码错误，请重新输入。"


class SmsCodeExpired(AppError):
    status, code, detail = 400, "sms_code_expired", "验证码已失效，请重新获取。"


class SmsCodeAttemptsExceeded(AppError):
    status, code, detail = 400, "sms_code_attempts_exceeded", "验证码错误次数过多，已失效，请重新获取。"


class SmsUnavailable(ServiceUnavailable):
    code, detail = "sms_unavailable", "短信发送失败，请稍后再试。"


class PhoneInvalid(ValidationFailed):
    code, detail = "phone_invalid", "请输入正确的中国大陆手机号码。"


class IdNumberInvalid(ValidationFailed):
    code, detail = "id_number_invalid", "身份证号码无效。"


class RealNameMismatch(AppError):
    status, code, detail = 422, "real_name_mismatch", "姓名与身份证号码不一致，请核对后重试。"


class IdNumberBound(Conflict):
    code, detail = "id_number_bound", "该身份证号码已绑定其他账号，如有疑问请联系客服。"


class AlreadyVerified(Conflict):
    code, detail = "already_verified", "您已完成实名认证。"


class RegistryUnavailable(ServiceUnavailable):
    code, detail = "registry_unavailable", "实名核验服务暂时不可用，请稍后再试。"


class PhoneRequired(Forbidden):
    code, detail = "phone_required", "请先绑定手机号码。"


class PhoneBound(Conflict):
    code, detail = "phone_already_bound", "该账号已绑定手机号码。"


class AssuranceInsufficient(Forbidden):
    code, detail = "assurance_level_insufficient", "当前认证等级不足，请先完成实名认证。"


class WeChatCodeRejected(AppError):
    status, code, detail = 400, "wechat_code_invalid", "微信登录凭证无效或已使用，请重新登录。"


class WeChatBusy(ServiceUnavailable):
    code, detail = "wechat_unavailable", "微信服务繁忙，请稍后再试。"


class LivenessUnavailableError(ServiceUnavailable):
    code, detail = "liveness_unavailable", "人脸核验服务暂不可用。"


class LivenessNotPassed(AppError):
    status, code, detail = 422, "liveness_failed", "人脸核验未通过，请重试。"


class LivenessPending(Conflict):
    code, detail = "liveness_pending", "人脸核验尚未完成。"


class RefreshTokenInvalid(Unauthorized):
    code, detail = "refresh_token_invalid", "登录已失效，请重新登录。"


class RefreshTokenReused(Unauthorized):
    code, detail = "refresh_token_reused", "检测到登录凭证被重复使用，已退出所有相关登录，请重新登录。"


class CredentialsInvalid(Unauthorized):
    code, detail = "credentials_invalid", "用户名或密码错误。"


class ClientInvalid(Unauthorized):
    code, detail = "invalid_client", "客户端认证失败。"


class ScopeInvalid(AppError):
    status, code, detail = 400, "invalid_scope", "请求的权限范围无效。"


class GrantTypeUnsupported(AppError):
    status, code, detail = 400, "unsupported_grant_type", "仅支持 client_credentials 授权方式。"
