"""Wallet errors: stable codes for issuers and holders, Chinese details people can read."""
from __future__ import annotations

from app.errors import AppError, Conflict, NotFound, ValidationFailed
from app.i18n import N_


class LicenceTypeUnknown(ValidationFailed):
    code, detail = "licence_type_unknown", N_("证照类型不存在。")


class LicenceDataInvalid(ValidationFailed):
    code, detail = "licence_data_invalid", N_("证照数据有误，请检查后重试。")


class UsccInvalid(ValidationFailed):
    """An enterprise holder's USCC fails GB 32100 / GB 11714 (app/uscc.py)."""

    code, detail = "uscc_invalid", N_("统一社会信用代码不正确。")


class ValidityInvalid(ValidationFailed):
    code, detail = "validity_invalid", N_("有效期截止日期应晚于起始日期。")


class ReferenceConflict(Conflict):
    code, detail = "reference_conflict", N_("该业务流水号已用于另一份内容不同的证照。")


class LicenceNotFound(NotFound):
    code, detail = "licence_not_found", N_("证照不存在。")


class LicenceTransitionForbidden(Conflict):
    """A status change the life cycle does not allow (wallet/lifecycle.py): names from, to and the
    allowed targets (`from`, `to`, `allowed` in the problem)."""

    code, detail = "licence_transition_forbidden", N_("证照状态不能由当前状态变更为所请求的状态。")


class LicenceReissueForbidden(Conflict):
    code, detail = "licence_reissue_forbidden", N_("证照当前状态不能补领、换领或变更。")


class LicenceVersionsExhausted(Conflict):
    code, detail = "licence_versions_exhausted", N_("证照版本号已达上限 999，请重新发证。")



class LicenceNotValid(ValidationFailed):
    code, detail = "licence_not_valid", N_("证照当前无效（已暂扣、撤销、注销或不在有效期内），不能亮证或核验。")


class LicenceKeyRevoked(ValidationFailed):
    """The licence's current version was signed by an issuer key at or after the date from which that
    key is revoked (compromised): `signature` {valid: false, key_id, key_status, revoked_since, signed_at}."""

    code, detail = "licence_key_revoked", N_("该证照由已吊销的发证机关签名密钥签发（签发时间在吊销起始时间之后），不能核验，请持证人联系发证机关重新签发。")


class PresentationNotFound(NotFound):
    code, detail = "presentation_not_found", N_("亮证码不存在。")


class PresentationInvalid(AppError):
    status, code, detail = 400, "presentation_invalid", N_("亮证码无效，请让持证人刷新后重新出示。")


class PresentationExpired(AppError):
    status, code, detail = 410, "presentation_expired", N_("亮证码已过期，请让持证人刷新后重新出示。")


class PresentationUsed(Conflict):
    code, detail = "presentation_used", N_("亮证码已被使用或已作废，请让持证人重新出示。")


class HolderNameMismatch(ValidationFailed):
    code, detail = "holder_name_mismatch", N_("持证人姓名与其实名信息或证照数据中的姓名不一致。")


class ValidityInconsistent(ValidationFailed):
    code, detail = "validity_inconsistent", N_("证照数据中的有效期与证照有效期不一致，或截止日期早于起始日期。")


class StatusInconsistent(ValidationFailed):
    code, detail = "status_inconsistent", N_("证照数据中的状态与证照状态不一致。")


class MatterNotApplicable(ValidationFailed):
    code, detail = "matter_not_applicable", N_("所选办理事项不接受该类证照，请重新选择事项或请群众出示其他证照。")


class CounterOutOfScope(AppError):
    status, code, detail = 403, "counter_out_of_scope", N_("您的账号未分配到办事大厅，不在亮证核验的权限范围内，请联系管理员。")


# --- The catalogue of matters (用证事项, issue 17: wallet/matters.py) ----------------------------

class MatterUnknown(ValidationFailed):
    code, detail = "matter_unknown", N_("所选办理事项不存在或已停用。")


class MatterNotFound(NotFound):
    code, detail = "matter_not_found", N_("办理事项不存在。")


class MatterExists(Conflict):
    code, detail = "matter_exists", N_("该事项代码已存在。")


class MatterChanged(Conflict):
    code, detail = "matter_changed", N_("该事项已被他人修改，请刷新后重试。")


class MatterInvalid(ValidationFailed):
    code, detail = "matter_invalid", N_("事项的证照类型或字段有误。")
