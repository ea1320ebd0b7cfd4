"""Wallet errors: stable codes for issuers and holders, Chinese details people can read."""
from __future__ import annotations

from app.errors import AppError, Conflict, NotFound, ValidationFailed


class LicenceTypeUnknown(ValidationFailed):
    code, detail = "licence_type_unknown", "证照类型不存在。"
    detail_en = "The licence type does not exist."


class LicenceDataInvalid(ValidationFailed):
    code, detail = "licence_data_invalid", "证照数据有误，请检查后重试。"
    detail_en = "The licence data is invalid; please check and try again."


class ValidityInvalid(ValidationFailed):
    code, detail = "validity_invalid", "有效期截止日期应晚于起始日期。"
    detail_en = "The end of the validity period must be after its start."


class ReferenceConflict(Conflict):
    code, detail = "reference_conflict", "该业务流水号已用于另一份内容不同的证照。"
    detail_en = "This reference has already been used for a licence with different content."


class LicenceNotFound(NotFound):
    code, detail = "licence_not_found", "证照不存在。"
    detail_en = "The licence does not exist."


class LicenceStatusFinal(Conflict):
    code, detail = "licence_status_final", "证照已处于终止状态，不能再变更。"
    detail_en = "The licence is in a final status and can no longer change."



class LicenceNotValid(ValidationFailed):
    code, detail = "licence_not_valid", "证照当前无效（已暂扣、撤销、注销或不在有效期内），不能亮证或核验。"
    detail_en = "The licence is not currently valid (suspended, revoked, cancelled or outside its validity period); it cannot be shown or verified."


class PresentationNotFound(NotFound):
    code, detail = "presentation_not_found", "亮证码不存在。"
    detail_en = "The licence code does not exist."


class PresentationInvalid(AppError):
    status, code, detail = 400, "presentation_invalid", "亮证码无效，请让持证人刷新后重新出示。"
    detail_en = "The licence code is invalid; ask the holder to refresh it and show it again."


class PresentationExpired(AppError):
    status, code, detail = 410, "presentation_expired", "亮证码已过期，请让持证人刷新后重新出示。"
    detail_en = "The licence code has expired; ask the holder to refresh it and show it again."


class PresentationUsed(Conflict):
    code, detail = "presentation_used", "亮证码已被使用或已作废，请让持证人重新出示。"
    detail_en = "The licence code has already been used or withdrawn; ask the holder to show a new one."


class HolderNameMismatch(ValidationFailed):
    code, detail = "holder_name_mismatch", "持证人姓名与其实名信息或证照数据中的姓名不一致。"
    detail_en = "The holder's name does not match their real-name record or the name in the licence data."


class ValidityInconsistent(ValidationFailed):
    code, detail = "validity_inconsistent", "证照数据中的有效期与证照有效期不一致，或截止日期早于起始日期。"
    detail_en = ("The validity dates in the licence data contradict the licence's validity period, or end before "
                 "they start.")


class StatusInconsistent(ValidationFailed):
    code, detail = "status_inconsistent", "证照数据中的状态与证照状态不一致。"
    detail_en = "The status in the licence data contradicts the licence's status."
