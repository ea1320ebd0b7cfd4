"""Case errors: stable codes for department systems and citizens, Chinese details people can read."""
from __future__ import annotations

from app.errors import Conflict, NotFound, ValidationFailed


class EventConflict(ValidationFailed):
    code, detail = "event_conflict", "该事件编号（event_id）已用于内容不同的另一事件。"
    detail_en = "This event_id has already been used for a different event."


class IllegalTransition(Conflict):
    code, detail = "illegal_transition", "办件当前状态不允许变更为该状态。"
    detail_en = "The case cannot move from its current status to this status."


class SeqConflict(Conflict):
    code, detail = "seq_conflict", "该办件的此序号（seq）已被另一事件使用。"
    detail_en = "This seq of the case is already used by another event."


class CaseMismatch(ValidationFailed):
    code, detail = "case_mismatch", "该办件编号已对应其他申请人或办理事项。"
    detail_en = "This case number already belongs to another applicant or service item."


class ApplicantNameMismatch(ValidationFailed):
    code = "applicant_name_mismatch"
    detail = "申请人姓名与该身份证号码的实名登记信息不一致，请核对后重新推送。"
    detail_en = "The applicant's name does not match the real-name record of this ID number; please check and resend."


class CaseNotFound(NotFound):
    code, detail = "case_not_found", "办件不存在。"
    detail_en = "The case does not exist."


class CaseNotConcluded(Conflict):
    code, detail = "case_not_concluded", "办件办结后才能评价。"
    detail_en = "A case can only be rated once it is concluded."


class EvaluationExists(Conflict):
    code, detail = "evaluation_exists", "该办件已评价，每件只能评价一次。"
    detail_en = "This case has already been rated; each case can be rated once."


class EvaluationReasonRequired(ValidationFailed):
    code, detail = "evaluation_reason_required", "“不满意”或“非常不满意”的评价请填写原因或选择标签。"
    detail_en = "For a “dissatisfied” or “very dissatisfied” rating, please give a reason or choose a tag."


class EvaluationTagInvalid(ValidationFailed):
    code, detail = "evaluation_tag_invalid", "所选标签不适用于该评价等级。"
    detail_en = "Some of the chosen tags do not apply to this rating."

    def __init__(self, *, rating: int, invalid: list[str], allowed: list[str]) -> None:
        super().__init__(f"所选标签不适用于该评价等级，可选：{'、'.join(allowed)}。",
                         detail_en="Some of the chosen tags do not apply to this rating; allowed: "
                                   f"{', '.join(allowed)}.",
                         errors={"tags": [f"不适用于该评价等级：{', '.join(invalid)}"]},
                         extra={"allowed_tags": allowed})


class FollowUpNotFound(NotFound):
    code, detail = "follow_up_not_found", "整改回访记录不存在。"
    detail_en = "The follow-up record does not exist."


class FollowUpAnswered(Conflict):
    code, detail = "follow_up_answered", "该差评已答复。"
    detail_en = "This negative review has already been answered."


# Rejections stored on an event row, re-raised when the same event arrives again.
REJECTIONS = {cls.code: cls for cls in (IllegalTransition, SeqConflict, CaseMismatch)}
