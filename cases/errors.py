"""Case errors: stable codes for department systems and citizens, Chinese details people can read."""
from __future__ import annotations

from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_, Series


class EventConflict(ValidationFailed):
    code, detail = "event_conflict", N_("该事件编号（event_id）已用于内容不同的另一事件。")


class IllegalTransition(Conflict):
    code, detail = "illegal_transition", N_("办件当前状态不允许变更为该状态。")


class SeqConflict(Conflict):
    code, detail = "seq_conflict", N_("该办件的此序号（seq）已被另一事件使用。")


class CaseMismatch(ValidationFailed):
    code, detail = "case_mismatch", N_("该办件编号已对应其他申请人或办理事项。")


class ApplicantNameMismatch(ValidationFailed):
    code = "applicant_name_mismatch"
    detail = N_("申请人姓名与该身份证号码的实名登记信息不一致，请核对后重新推送。")


class UsccInvalid(ValidationFailed):
    """An enterprise applicant's USCC fails GB 32100 / GB 11714 (app/uscc.py, issue 19)."""

    code, detail = "uscc_invalid", N_("统一社会信用代码不正确。")


class CaseNotFound(NotFound):
    code, detail = "case_not_found", N_("办件不存在。")


class CaseNotConcluded(Conflict):
    code, detail = "case_not_concluded", N_("办件办结后才能评价。")


class EvaluationExists(Conflict):
    code, detail = "evaluation_exists", N_("该办件已评价，每件只能评价一次。")


class EvaluationReasonRequired(ValidationFailed):
    code, detail = "evaluation_reason_required", N_("“不满意”或“非常不满意”的评价请填写原因或选择标签。")


class EvaluationTagInvalid(ValidationFailed):
    code, detail = "evaluation_tag_invalid", N_("所选标签不适用于该评价等级。")

    def __init__(self, *, rating: int, invalid: list[str], allowed: list[str]) -> None:
        super().__init__(N_("所选标签不适用于该评价等级，可选：{allowed:、}。", allowed=Series(allowed)),
                         errors={"tags": [N_("不适用于该评价等级：{tags:, }", tags=Series(invalid))]},
                         extra={"allowed_tags": allowed})


class FollowUpNotFound(NotFound):
    code, detail = "follow_up_not_found", N_("整改回访记录不存在。")


class FollowUpAnswered(Conflict):
    code, detail = "follow_up_answered", N_("该差评已答复。")


# Rejections stored on an event row, re-raised when the same event arrives again.
REJECTIONS = {cls.code: cls for cls in (IllegalTransition, SeqConflict, CaseMismatch)}
