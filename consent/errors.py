"""Consent errors (用证授权): stable codes, Chinese details (English in the catalogue)."""
from __future__ import annotations

from app.errors import AppError, Conflict, NotFound, ValidationFailed
from app.i18n import N_


class ConsentRequestNotFound(NotFound):
    # Another verifier's request, another citizen's, or none: the same answer (object access).
    code, detail = "consent_request_not_found", N_("用证授权请求不存在。")


class ConsentRequestExpired(AppError):
    status, code, detail = 410, "consent_request_expired", N_("该用证授权请求已过期，请让对方重新发起。")


class ConsentRequestAnswered(Conflict):
    code, detail = "consent_request_answered", N_("该用证授权请求已同意或已拒绝，不能再次处理。")


class ConsentMatterUnknown(ValidationFailed):
    code, detail = "consent_matter_unknown", N_("没有这个用证事项或该事项已停用。")


class ConsentQueryInvalid(ValidationFailed):
    code, detail = "consent_query_invalid", N_("查询的证照类型或字段超出了该用证事项的范围。")


class ConsentResponseUriInvalid(ValidationFailed):
    code, detail = "consent_response_uri_invalid", N_("回传地址须为 https 地址。")


class ConsentLicenceNotApplicable(ValidationFailed):
    code, detail = "consent_licence_not_applicable", N_("所选证照不在对方请求的证照类型之内，请选择其他证照。")
