"""Issuer registry errors: stable codes, Chinese details (English in the catalogue)."""
from __future__ import annotations

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import N_


class IssuerNotRegistered(Forbidden):
    code, detail = "issuer_not_registered", N_("该客户端未登记到任何发证机关，不能签发或管理证照。")


class IssuerSuspended(Forbidden):
    code, detail = "issuer_suspended", N_("该发证机关已暂停发证。")


class IssuerTypeNotAllowed(Forbidden):
    """Names the allowed types: `allowed` (codes) in the problem, and in its detail."""

    code, detail = "issuer_type_not_allowed", N_("该发证机关无权签发此类证照。")


class IssuerNotFound(NotFound):
    code, detail = "issuer_not_found", N_("发证机关不存在。")


class UsccInvalid(ValidationFailed):
    code, detail = "uscc_invalid", N_("统一社会信用代码不正确。")


class RegionInvalid(ValidationFailed):
    code, detail = "region_invalid", N_("行政区划代码不正确。")


class IssuerTypesInvalid(ValidationFailed):
    code, detail = "issuer_types_invalid", N_("证照类型不在证照目录中。")


class UsccTaken(Conflict):
    code, detail = "uscc_taken", N_("该统一社会信用代码已登记为另一发证机关。")


class UsccFixed(Conflict):
    code, detail = "uscc_fixed", N_("发证机关的统一社会信用代码登记后不能更改。")


class UsccMissing(Conflict):
    code, detail = "issuer_uscc_missing", N_("该发证机关尚未登记统一社会信用代码和行政区划，不能恢复发证。")


class ClientUnknown(ValidationFailed):
    code, detail = "client_unknown", N_("没有这个客户端。")


class ClientBoundElsewhere(Conflict):
    code, detail = "client_bound_elsewhere", N_("该客户端已登记在另一发证机关。")


class ClientNotBound(Conflict):
    code, detail = "client_not_bound", N_("该客户端未登记在此发证机关。")


# --- Signing keys (issuers/keys.py) ------------------------------------------------------------------

class IssuerKeyNotFound(NotFound):
    code, detail = "issuer_key_not_found", N_("该发证机关没有这个签名密钥。")


class IssuerKeyAlreadyRevoked(Conflict):
    code, detail = "issuer_key_already_revoked", N_("该签名密钥已被吊销。")


class IssuerKeyRevocationInvalid(ValidationFailed):
    code, detail = "issuer_key_revocation_invalid", N_("吊销请求有误：原因须为允许的取值，起始时间不能晚于当前时间。")


class KeyCertificateNotFound(NotFound):
    code, detail = "key_not_found", N_("没有这个密钥标识（kid）的证书。")
