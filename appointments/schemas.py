"""Request and response shapes of the appointment endpoints (预约)."""
from __future__ import annotations

import marshmallow as ma

from appointments.models import STATUSES

_ID = ma.validate.Length(1, 32)


class SlotArgsSchema(ma.Schema):
    date = ma.fields.Date(required=True, format="%Y-%m-%d", metadata={"example": "2026-10-09", "description": "YYYY-MM-DD（北京时间），从今天前 31 天到今天后 92 天；超出范围返回 422 slot_date_out_of_range"})


class SlotSchema(ma.Schema):
    """A bookable time slot — 预约时段."""

    id = ma.fields.String(metadata={"description": "不透明的时段 id，预约时原样提交", "example": "h_x1.20261009.0900"})
    start = ma.fields.DateTime(metadata={"example": "2026-10-09T09:00:00+08:00"})
    end = ma.fields.DateTime(metadata={"example": "2026-10-09T10:00:00+08:00"})
    capacity = ma.fields.Integer()
    remaining = ma.fields.Integer()
    bookable = ma.fields.Boolean()
    unbookable_reason = ma.fields.String(allow_none=True, metadata={"description": "booking_window | slot_full"})


class WindowSchema(ma.Schema):
    first_date = ma.fields.Date()
    last_date = ma.fields.Date()


class RulesSchema(ma.Schema):
    """The booking rules in force (settings), for the words a client shows beside the booking — 预约规则."""

    window_working_days = ma.fields.Integer(metadata={"description": "可预约明天起多少个工作日内的时段", "example": 5})
    cancel_before_minutes = ma.fields.Integer(metadata={"description": "预约时段开始前多少分钟停止取消", "example": 120})
    no_show_limit = ma.fields.Integer(metadata={"description": "爽约达到此次数即暂停预约", "example": 2})
    no_show_window_days = ma.fields.Integer(metadata={"description": "统计爽约次数的天数", "example": 30})
    ban_days = ma.fields.Integer(metadata={"description": "暂停预约的天数", "example": 30})


class SlotListSchema(ma.Schema):
    hall_id = ma.fields.String()
    date = ma.fields.Date()
    closed_reason = ma.fields.String(allow_none=True, metadata={"description": "闭馆原因（节假日名称、休息日、临时闭馆原因）"})
    booking_window = ma.fields.Nested(WindowSchema, metadata={"description": "当前可预约的日期范围"})
    rules = ma.fields.Nested(RulesSchema, metadata={"description": "预约规则：可预约范围、取消时限、爽约暂停预约"})
    items = ma.fields.List(ma.fields.Nested(SlotSchema))


class BookSchema(ma.Schema):
    hall_id = ma.fields.String(required=True, validate=_ID)
    slot_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    item_code = ma.fields.String(required=True, validate=ma.validate.Length(1, 64), metadata={"description": "事项编码"})


class HallRefSchema(ma.Schema):
    id = ma.fields.String()
    code = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)


class ItemRefSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String(allow_none=True)


class AppointmentSchema(ma.Schema):
    """An appointment — 预约."""

    id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "booked | cancelled | arrived | no_show"})
    status_label = ma.fields.String(metadata={"example": "已预约"})
    hall = ma.fields.Nested(HallRefSchema)
    item = ma.fields.Nested(ItemRefSchema)
    slot_id = ma.fields.String()
    date = ma.fields.Date()
    start = ma.fields.DateTime()
    end = ma.fields.DateTime()
    check_in_code = ma.fields.String(allow_none=True, metadata={"description": "8位签到码（已预约时）"})
    check_in_qr = ma.fields.String(allow_none=True, metadata={"description": "签到二维码 PNG 的路径（已预约时）"})
    cancellable_until = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    cancelled_at = ma.fields.DateTime(allow_none=True)
    arrived_at = ma.fields.DateTime(allow_none=True)


class AppointmentListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AppointmentSchema))
    next_cursor = ma.fields.String(allow_none=True)


class AppointmentListArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATUSES))


class CheckInRequestSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(1, 64),
                            metadata={"description": "扫码枪输入或口述的8位签到码", "example": "7KQ2MZ9P"})


class CheckInHolderSchema(ma.Schema):
    name_masked = ma.fields.String(allow_none=True)


class CheckInSchema(ma.Schema):
    """A check-in recorded at the counter — 到厅签到."""

    id = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.String()
    hall = ma.fields.Nested(HallRefSchema)
    item = ma.fields.Nested(ItemRefSchema)
    start = ma.fields.DateTime()
    end = ma.fields.DateTime()
    arrived_at = ma.fields.DateTime()
    holder = ma.fields.Nested(CheckInHolderSchema)
