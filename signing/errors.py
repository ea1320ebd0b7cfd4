"""Cloud-signing errors: stable codes, Chinese details a citizen or an integrator can read."""
from __future__ import annotations

from app.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from app.pagination import CursorInvalid  # noqa: F401  (re-exported)


class NotEnrolled(NotFound):
    code, detail = "signing_not_enrolled", "尚未开通电子签名，请先设置签名密码。"
    detail_en = "E-signature is not set up yet; please set a signing PIN first."


class AlreadyEnrolled(Conflict):
    code, detail = "signing_already_enrolled", "已开通电子签名；如需更换，请先吊销当前证书。"
    detail_en = "E-signature is already set up; to replace it, revoke the current certificate first."


class PinWeak(ValidationFailed):
    code, detail = "pin_weak", "签名密码过于简单（连续、重复数字或出生日期），请重新设置。"
    detail_en = "The signing PIN is too simple (a run, repeated digits or a date of birth); please choose another."


class PinInvalid(AppError):
    status, code, detail = 400, "pin_invalid", "签名密码错误。"
    detail_en = "Wrong signing PIN."


class SigningLocked(AppError):
    status, code, detail = 423, "signing_locked", "签名密码错误次数过多，电子签名已锁定，请稍后再试。"
    detail_en = "Too many wrong PINs; e-signature is locked, please try again later."


class RequestNotFound(NotFound):
    code, detail = "signing_request_not_found", "签署请求不存在。"
    detail_en = "The signing request does not exist."


class RequestUsed(Conflict):
    code, detail = "signing_request_used", "该签署请求已完成签名，不能重复授权。"
    detail_en = "This signing request has already been signed and cannot be authorised again."


class RequestExpired(AppError):
    status, code, detail = 410, "signing_request_expired", "签署请求已过期，请重新发起。"
    detail_en = "The signing request has expired; please start a new one."


class RequestInBatch(Conflict):
    code, detail = "signing_request_in_batch", "该签署请求属于批量签署，请按批次授权。"
    detail_en = "This signing request belongs to a batch; please authorise the whole batch."


class CredentialChanged(Conflict):
    code, detail = "signing_credential_changed", "签名证书已变更（吊销或重新开通），请重新发起签署请求。"
    detail_en = "The signing certificate has changed (revoked or re-issued); please start a new signing request."


class DocumentTooLarge(AppError):
    status, code, detail = 413, "document_too_large", "文件过大，请在本地计算 e = SM3(Z‖M) 后提交 e_hex。"
    detail_en = "The document is too large; compute e = SM3(Z‖M) locally and submit e_hex instead."


class DocumentInvalid(ValidationFailed):
    code, detail = "document_invalid", "文件内容不是有效的 Base64 编码。"
    detail_en = "The document is not valid Base64."


class LivenessRequired(Forbidden):
    code, detail = "liveness_required", "签名前请先完成人脸核验。"
    detail_en = "Please complete face verification before signing."


class SmsCodeRequired(AppError):
    status, code, detail = 400, "sms_code_required", "请输入短信验证码。"
    detail_en = "Please enter the text-message verification code."



class SignatureNotFound(NotFound):
    code, detail = "signature_not_found", "签名记录不存在。"
    detail_en = "The signature record does not exist."


class VerificationInputInvalid(AppError):
    """Undecodable input to the verification API (never a 500, never a report)."""

    status, code, detail = 400, "verification_input_invalid", "验签请求格式有误：请检查 Base64、十六进制和证书 PEM。"
    detail_en = "The verification request is malformed: check the Base64, the hexadecimal and the certificate PEM."
