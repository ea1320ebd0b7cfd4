"""Errors of the key store and the platform CA that a client may see (via the API layers that
use them). Details are Chinese and never name key material."""
from __future__ import annotations

from app.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from app.i18n import N_


class KeyNotFound(NotFound):
    code, detail = "key_not_found", N_("未找到该密钥。")


class KeyNotUsable(Conflict):
    """The key exists but may not sign (retired by rotation, or disabled)."""

    code, detail = "key_not_usable", N_("该密钥已停用，不能用于签名。")


class KeyUnavailable(ServiceUnavailable):
    """The key cannot be unwrapped: its key-encryption key is not configured, or the stored
    ciphertext fails authentication (altered or moved). Operators must look at the logs."""

    code, detail = "key_unavailable", N_("密钥服务暂时不可用，请稍后再试。")


class CertificateNotFound(NotFound):
    code, detail = "certificate_not_found", N_("未找到该证书。")


class CertificateAlreadyRevoked(Conflict):
    code, detail = "certificate_already_revoked", N_("该证书已被吊销。")


class InvalidRevocationReason(ValidationFailed):
    code, detail = "revocation_reason_invalid", N_("吊销原因无效。")


class InvalidCertificateRequest(ValidationFailed):
    code, detail = "certificate_request_invalid", N_("证书申请参数有误。")
