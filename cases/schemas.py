"""Request and response shapes of the case endpoints."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import marshmallow as ma

from app.clock import to_china
from app.fields import IdNumber
from app.i18n import N_
from cases.statuses import STATUSES
from cases.tags import CODES as TAG_CODES

CHANNELS = ("online", "app", "counter", "self_service", "mail", "phone")
_TOKEN = ma.validate.Regexp(r"^[\x21-\x7e]{1,64}$", error=N_("应为 1–64 位可见 ASCII 字符（不含空格）。"))
_NOT_BLANK = ma.validate.Regexp(r"\s*\S", error=N_("不能为空。"))
_CLOCK_SKEW = timedelta(minutes=10)


def _not_in_future(value: datetime) -> None:
    if value > datetime.now(timezone.utc) + _CLOCK_SKEW:
        raise ma.ValidationError(N_("发生时间不能晚于当前时间。"))


# --- Department events (办件过程信息) ---------------------------------------------------------------

class ApplicantSchema(ma.Schema):
    """The applicant: a person {id_number, name} or an enterprise {uscc, name} (issue 19): exactly one
    of id_number and uscc. An enterprise's case belongs to the enterprise once it is registered
    (parked until then), and is followed by its legal representative and its agents."""

    id_number = IdNumber(validate=ma.validate.Length(1, 32), metadata={
        "example": "340102199003071232", "description": "个人申请人的身份证号码（与 uscc 二选一）"})
    uscc = ma.fields.String(validate=ma.validate.Length(1, 32), metadata={
        "example": "91340100MA2N0X4G5T",
        "description": "企业申请人的统一社会信用代码（与 id_number 二选一；GB 32100 / GB 11714 校验，不符：422 uscc_invalid）"})
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200), metadata={
        "example": "张三", "description": "个人姓名（≤ 64 字符）或企业名称（≤ 200 字符）"})

    @ma.validates_schema
    def _one_applicant(self, data, **kwargs):
        if (data.get("id_number") is None) == (data.get("uscc") is None):
            raise ma.ValidationError(N_("id_number 与 uscc 须且只须提供一个。"), "id_number")
        if data.get("id_number") is not None and len(data.get("name") or "") > 64:
            raise ma.ValidationError(N_("个人姓名不能超过 64 个字符。"), "name")


class CaseEventSchema(ma.Schema):
    """A status event from a department's case-handling system (`event_id` is its idempotency key)."""

    event_id = ma.fields.String(required=True, validate=_TOKEN,
                                metadata={"description": "事件唯一编号：同一编号、同一内容重复推送只处理一次"})
    case_no = ma.fields.String(required=True, validate=_TOKEN, metadata={"example": "340100-2026-000123"})
    applicant = ma.fields.Nested(ApplicantSchema, required=True)
    item_code = ma.fields.String(required=True, validate=ma.validate.Length(1, 64),
                                 metadata={"example": "11340100MB0000000X3340112001000"})
    item_name = ma.fields.String(required=True, validate=ma.validate.Length(1, 128),
                                 metadata={"example": "个体工商户设立登记"})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES),
                              metadata={"description": "submitted 已提交, pre_accepted 预受理, accepted 受理, "
                                                       "not_accepted 不予受理, supplement_required 补正, in_review "
                                                       "审查/办理中, suspended 特别程序/挂起, approved 准予, denied "
                                                       "不予许可, concluded 办结, delivered 送达/领取, withdrawn 撤件"})
    seq = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 10**9),
                            metadata={"description": "本办件内的事件序号，从 1 起连续递增；乱序到达的事件按序号依次生效"})
    occurred_at = ma.fields.AwareDateTime(required=True, validate=_not_in_future)
    message = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500),
                               metadata={"description": "给申请人的说明（显示在办件时间线中，不进入推送）"})
    tracking_no = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 64),
                                   metadata={"description": "送达的快递单号"})
    promised_days = ma.fields.Integer(load_default=None, allow_none=True, strict=True,
                                      validate=ma.validate.Range(1, 365),
                                      metadata={"description": "承诺办结时限（工作日，自受理起算，补正和特别程序期间暂停）"})
    channel = ma.fields.String(load_default="online", validate=ma.validate.OneOf(CHANNELS),
                               metadata={"description": "申办渠道（以办件首个事件为准）"})
    supplement_due = ma.fields.Date(load_default=None, allow_none=True, format="%Y-%m-%d",
                                    metadata={"description": "补正材料的截止日期（北京时间），仅用于 status=supplement_required，"
                                                             "不早于 occurred_at 当天；推送给申请人并显示在办件中",
                                              "example": "2026-03-20"})

    @ma.validates_schema
    def _supplement_due_fits(self, data, **kwargs):
        due = data.get("supplement_due")
        if due is None:
            return
        if data.get("status") != "supplement_required":
            raise ma.ValidationError(N_("仅补正（supplement_required）事件可带补正截止日期。"), "supplement_due")
        occurred = data.get("occurred_at")
        if occurred is not None and due < to_china(occurred).date():
            raise ma.ValidationError(N_("补正截止日期不能早于事件发生日期。"), "supplement_due")


class CaseEventBatchSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Dict(), required=True, validate=ma.validate.Length(1, 500),
                            metadata={"description": "每项为一个 CaseEvent；逐项处理，各自返回结果"})


class EventAcceptedSchema(ma.Schema):
    accepted = ma.fields.Boolean()
    duplicate = ma.fields.Boolean(metadata={"description": "同一 event_id、同一内容的重复推送"})
    event_id = ma.fields.String()
    case_id = ma.fields.String()
    state = ma.fields.String(metadata={"description": "applied 已生效 | pending 等待更早序号的事件"})
    status = ma.fields.String(allow_none=True, metadata={"description": "办件当前状态"})
    status_label = ma.fields.String(allow_none=True)
    released = ma.fields.List(ma.fields.String(), metadata={"description": "因本事件而依序生效的待处理事件"})


class BatchItemSchema(EventAcceptedSchema):
    index = ma.fields.Integer()
    http_status = ma.fields.Integer(metadata={"description": "单独推送时的 HTTP 状态码"})
    code = ma.fields.String(metadata={"description": "拒绝时的错误码"})
    detail = ma.fields.String()
    errors = ma.fields.Dict()


class BatchResultSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(BatchItemSchema))
    accepted = ma.fields.Integer()
    rejected = ma.fields.Integer()


# --- The citizen's cases -----------------------------------------------------------------------------

class CaseListArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATUSES))


class ClockSchema(ma.Schema):
    promised_days = ma.fields.Integer(allow_none=True, metadata={"description": "承诺时限（工作日）"})
    started_at = ma.fields.DateTime(allow_none=True, metadata={"description": "受理时间（计时起点）"})
    due_date = ma.fields.Date(allow_none=True, metadata={"description": "承诺办结日期（已顺延暂停的工作日）"})
    paused = ma.fields.Boolean(metadata={"description": "补正或特别程序中，计时暂停"})
    paused_since = ma.fields.DateTime(allow_none=True)
    paused_seconds = ma.fields.Integer()
    paused_working_days = ma.fields.Integer()
    overdue = ma.fields.Boolean()


class CaseSchema(ma.Schema):
    id = ma.fields.String()
    case_no = ma.fields.String()
    item_code = ma.fields.String()
    item_name = ma.fields.String()
    department_name = ma.fields.String()
    channel = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.String()
    status_at = ma.fields.DateTime()
    submitted_at = ma.fields.DateTime()
    tracking_no = ma.fields.String(allow_none=True)
    supplement_due = ma.fields.Date(allow_none=True, metadata={"description": "补正材料截止日期（办件处于补正时）"})
    clock = ma.fields.Nested(ClockSchema)
    rated = ma.fields.Boolean()
    can_evaluate = ma.fields.Boolean(metadata={"description": "已办结且尚未评价"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class DepartmentCaseSchema(CaseSchema):
    status = ma.fields.String(allow_none=True, metadata={"description": "null：首个事件尚未生效"})
    status_label = ma.fields.String(allow_none=True)
    status_at = ma.fields.DateTime(allow_none=True)
    submitted_at = ma.fields.DateTime(allow_none=True)
    last_seq = ma.fields.Integer(metadata={"description": "已按序生效的最大序号"})
    pending_seqs = ma.fields.List(ma.fields.Integer(), metadata={"description": "等待更早序号的事件"})
    parked = ma.fields.Boolean(metadata={"description": "申请人尚未实名注册（办件暂存，注册后自动关联）"})


class CaseListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CaseSchema))
    next_cursor = ma.fields.String(allow_none=True)


class TimelineEntrySchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "status 状态变更 | evaluation 评价 | follow_up 差评答复"})
    label = ma.fields.String(metadata={"description": "显示用标题（随 Accept-Language）：状态名称、服务评价或部门答复"})
    supplement_due = ma.fields.Date(allow_none=True, metadata={"description": "补正事件的材料截止日期"})
    seq = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(allow_none=True)
    status_label = ma.fields.String(allow_none=True)
    message = ma.fields.String(allow_none=True)
    tracking_no = ma.fields.String(allow_none=True)
    occurred_at = ma.fields.DateTime()


class MaskedApplicantSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "仅企业申请人有：enterprise（issue 19）"})
    name_masked = ma.fields.String(allow_none=True, metadata={"description": "个人：打码的姓名；企业：企业名称（不打码）"})
    id_number_masked = ma.fields.String(allow_none=True)
    uscc = ma.fields.String(allow_none=True, metadata={"description": "企业申请人的统一社会信用代码"})


class FollowUpStateSchema(ma.Schema):
    status = ma.fields.String()
    due_date = ma.fields.Date()
    answer = ma.fields.String(allow_none=True)
    answered_at = ma.fields.DateTime(allow_none=True)


class EvaluationSchema(ma.Schema):
    id = ma.fields.String()
    rating = ma.fields.Integer()
    rating_label = ma.fields.String(metadata={"description": "GB/T 39734：5 非常满意 … 1 非常不满意"})
    tags = ma.fields.List(ma.fields.String(), metadata={"description": "标签编码（见 GET /cases/evaluation-tags）"})
    tag_labels = ma.fields.List(ma.fields.String(), metadata={"description": "标签文字（随 Accept-Language）"})
    comment = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    follow_up = ma.fields.Nested(FollowUpStateSchema, allow_none=True)


class CaseDetailSchema(CaseSchema):
    applicant = ma.fields.Nested(MaskedApplicantSchema)
    timeline = ma.fields.List(ma.fields.Nested(TimelineEntrySchema))
    evaluation = ma.fields.Nested(EvaluationSchema, allow_none=True)


class EvaluateSchema(ma.Schema):
    """好差评: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意; 1–2 need tags or a comment."""

    rating = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 5))
    tags = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(TAG_CODES)), load_default=list,
                          validate=ma.validate.Length(max=8),
                          metadata={"example": ["long_wait"],
                                    "description": "标签编码，须属于该评价等级（GET /cases/evaluation-tags）；"
                                                   "否则 422 evaluation_tag_invalid，并列出 allowed_tags"})
    comment = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))


# --- Follow-ups (整改回访, departments) -------------------------------------------------------------

class FollowUpListArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(("open", "answered")))


class MaskedNameSchema(ma.Schema):
    name_masked = ma.fields.String(allow_none=True)


class FollowUpSchema(ma.Schema):
    id = ma.fields.String()
    case_id = ma.fields.String()
    case_no = ma.fields.String()
    item_code = ma.fields.String()
    item_name = ma.fields.String()
    rating = ma.fields.Integer()
    rating_label = ma.fields.String()
    tags = ma.fields.List(ma.fields.String())
    tag_labels = ma.fields.List(ma.fields.String())
    comment = ma.fields.String(allow_none=True)
    applicant = ma.fields.Nested(MaskedNameSchema)
    status = ma.fields.String(metadata={"description": "open 待答复 | answered 已答复"})
    due_date = ma.fields.Date(metadata={"description": "答复期限（工作日）"})
    overdue = ma.fields.Boolean()
    answer = ma.fields.String(allow_none=True)
    answered_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class FollowUpListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(FollowUpSchema))
    next_cursor = ma.fields.String(allow_none=True)


class AnswerFollowUpSchema(ma.Schema):
    answer = ma.fields.String(required=True, validate=[ma.validate.Length(1, 1000), _NOT_BLANK],
                              metadata={"description": "整改情况或答复，申请人可在办件时间线中看到"})


# --- The tag catalogue (好差评标签) -----------------------------------------------------------------

class EvaluationTagSchema(ma.Schema):
    code = ma.fields.String()
    label = ma.fields.String()


class RatingTagsSchema(ma.Schema):
    rating = ma.fields.Integer()
    rating_label = ma.fields.String()
    tags = ma.fields.List(ma.fields.Nested(EvaluationTagSchema))


class EvaluationTagCatalogueSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RatingTagsSchema), metadata={"description": "评价等级 5 → 1"})
