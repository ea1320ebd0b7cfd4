"""Errors of the key store and the platform CA that a client may see (via the API layers that
use them). Details are Chinese and never name key material."""
from __future__ import annotations

from app.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed


class KeyNotFound(NotFound):
    code, detail = "key_not_found", "未找到该密钥。"
    detail_en = "The key was not found."


class KeyNotUsable(Conflict):
    """The key exists but may not sign (retired by rotation, or disabled)."""

    code, detail = "key_not_usable", "该密钥已停用，不能用于签名。"
    detail_en = "The key is disabled and cannot be used for signing."


class KeyUnavailable(ServiceUnavailable):
    """The key cannot be unwrapped: its key-encryption key is not configured, or the stored
    ciphertext fails authentication (altered or moved). Operators must look at the logs."""

    code, detail = "key_unavailable", "密钥服务暂时不可用，请稍后再试。"
    detail_en = "The key service is temporarily unavailable; please try again later."


class CertificateNotFound(NotFound):
    code, detail = "certificate_not_found", "未找到该证书。"
    detail_en = "The certificate was not found."


class CertificateAlreadyRevoked(Conflict):
    code, detail = "certificate_already_revoked", "该证书已被吊销。"
    detail_en = "The certificate has already been revoked."


class InvalidRevocationReason(ValidationFailed):
    code, detail = "revocation_reason_invalid", "吊销原因无效。"
    detail_en = "The revocation reason is invalid."


class InvalidCertificateRequest(ValidationFailed):
    code, detail = "certificate_request_invalid", "证书申请参数有误。"
    detail_en = "The certificate request has invalid parameters."
