"""Cloud-signing errors: stable codes, Chinese details a citizen or an integrator can read."""
from __future__ import annotations

from app.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import N_


class NotEnrolled(NotFound):
    code, detail = "signing_not_enrolled", N_("尚未开通电子签名，请先设置签名密码。")


class AlreadyEnrolled(Conflict):
    code, detail = "signing_already_enrolled", N_("已开通电子签名；如需更换，请先吊销当前证书。")


class PinWeak(ValidationFailed):
    code, detail = "pin_weak", N_("签名密码过于简单（连续、重复数字或出生日期），请重新设置。")


class PinInvalid(AppError):
    status, code, detail = 400, "pin_invalid", N_("签名密码错误。")


class SigningLocked(AppError):
    """Raised with `locked_until`, `reset_url` (the forgotten-PIN reset, which works while locked) and a
    detail saying both (signing/enrolment.py `_raise_locked`)."""

    status, code, detail = 423, "signing_locked", N_("签名密码错误次数过多，电子签名已锁定，请稍后再试。")


class PinUnchanged(ValidationFailed):
    code, detail = "pin_unchanged", N_("新签名密码不能与当前签名密码相同。")


class PinChangedMeanwhile(Conflict):
    code, detail = "signing_pin_changed", N_("签名密码刚刚已被修改或重设，请用最新的签名密码重试。")


class RequestNotFound(NotFound):
    code, detail = "signing_request_not_found", N_("签署请求不存在。")


class RequestUsed(Conflict):
    code, detail = "signing_request_used", N_("该签署请求已完成签名，不能重复授权。")


class RequestNotPending(Conflict):
    code, detail = "signing_request_not_pending", N_("该签署请求已签署或已拒绝，不能再拒绝。")


class RequestExpired(AppError):
    status, code, detail = 410, "signing_request_expired", N_("签署请求已过期，请重新发起。")


class RequestInBatch(Conflict):
    code, detail = "signing_request_in_batch", N_("该签署请求属于批量签署，请按批次授权。")


class CredentialChanged(Conflict):
    code, detail = "signing_credential_changed", N_("签名证书已变更（吊销或重新开通），请重新发起签署请求。")


class SignerMismatch(Conflict):
    """An enterprise's request is bound to the key of the agent who made it (issue 19)."""
    code, detail = "signing_request_other_signer", N_("该签署请求由其他经办人发起，只能由其本人签署；请重新发起签署请求。")


class DocumentTooLarge(AppError):
    status, code, detail = 413, "document_too_large", N_("文件过大，请在本地计算 e = SM3(Z‖M) 后提交 e_hex。")


class DocumentInvalid(ValidationFailed):
    code, detail = "document_invalid", N_("文件内容不是有效的 Base64 编码。")


class LivenessRequired(Forbidden):
    code, detail = "liveness_required", N_("签名前请先完成人脸核验。")


class SmsCodeRequired(AppError):
    status, code, detail = 400, "sms_code_required", N_("请输入短信验证码。")




class VerificationInputInvalid(AppError):
    """Undecodable input to the verification API (never a 500, never a report)."""

    status, code, detail = 400, "verification_input_invalid", N_("验签请求格式有误：请检查 Base64、十六进制和证书 PEM。")


# --- Signature evidence (issue 18, signing/evidence.py) ----------------------------------------

class SignatureNotFound(NotFound):
    code, detail = "signature_not_found", N_("签名记录不存在。")


class CmsNotMade(NotFound):
    code, detail = "signature_cms_not_made", N_("该签名没有 CMS 签名数据：签署时未提供文件的 SM3 摘要，或签署早于此功能。")


class DocumentMismatch(ValidationFailed):
    code, detail = "document_mismatch", N_("文件与签名时的文件摘要（messageDigest）不一致。")


class AttachedNotMade(Conflict):
    code, detail = "signature_attached_not_made", N_("该签名只有分离式 CMS：签署时平台没有收到文件本身（仅提交了 e_hex 与 document_sm3）。")
