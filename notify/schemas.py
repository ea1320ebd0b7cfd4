"""Request and response shapes of the notification endpoints (devices, inbox, preferences)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v

from app.fields import QueryBoolean, StrictBoolean, UpdateSchema
from app.i18n import LANGUAGES, N_, Series
from notify.categories import CATEGORIES
from notify.models import PLATFORMS
from notify.outbox import KINDS
from notify.quiet import HHMM


class DeviceCreateSchema(ma.Schema):
    platform = ma.fields.String(required=True, validate=v.OneOf(PLATFORMS, error=N_("推送渠道应为 {platforms:、}。", platforms=Series(PLATFORMS))),
                                metadata={"description": "apns | fcm | hms | jpush | wechat（openid）| sms（本人手机号）"})
    token = ma.fields.String(required=True, validate=v.Length(1, 4096, error=N_("推送标识长度不符合要求。")),
                             metadata={"description": "设备推送标识；按凭据保存，仅显示末 4 位"})
    locale = ma.fields.String(load_default="zh-CN",
                              validate=v.OneOf(LANGUAGES, error=N_("语言应为 {choices:、}。", choices=Series(LANGUAGES))),
                              metadata={"description": "推送文字的语言：zh-CN（默认）| en；同一推送标识再次登记时更新"})


class DeviceSchema(ma.Schema):
    id = ma.fields.String()
    platform = ma.fields.String()
    token_hint = ma.fields.String(metadata={"description": "推送标识末 4 位"})
    locale = ma.fields.String(metadata={"enum": list(LANGUAGES), "description": "推送文字的语言"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class DeviceListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DeviceSchema))


class NotificationSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "消息编号；也是实时流的事件 id（Last-Event-ID）"})
    kind = ma.fields.String(metadata={"enum": list(KINDS)})
    title = ma.fields.String()
    body = ma.fields.String()
    data = ma.fields.Dict(metadata={"description": "打开对应页面所需的编号，如 case_id"})
    urgent = ma.fields.Boolean()
    created_at = ma.fields.String(metadata={"format": "date-time"})
    read = ma.fields.Boolean()
    read_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})


class NotificationListArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=v.Range(1, 100, error=N_("条数应在 {min} 到 {max} 之间。")))
    cursor = ma.fields.String(load_default=None, validate=v.Length(max=32, error=N_("分页游标无效。")))
    unread_only = QueryBoolean(load_default=False)


class NotificationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NotificationSchema))
    next_cursor = ma.fields.String(allow_none=True)


class UnreadCountSchema(ma.Schema):
    count = ma.fields.Integer()


class ReadAllSchema(ma.Schema):
    updated = ma.fields.Integer()


class QuietWindowSchema(ma.Schema):
    start = ma.fields.String()
    end = ma.fields.String()
    timezone = ma.fields.String()


class CategorySchema(ma.Schema):
    id = ma.fields.String(metadata={"enum": list(CATEGORIES)})
    name = ma.fields.String(metadata={"description": "类别名称（按 Accept-Language，中文或英文）"})
    on = ma.fields.Boolean(metadata={"description": "是否推送；关闭后仍进入“消息”和实时流"})
    locked = ma.fields.Boolean(metadata={"description": "不能关闭（安全提醒与重要通知）"})
    locked_reason = ma.fields.String(allow_none=True, metadata={"description": "不能关闭的原因；未锁定时为 null"})
    kinds = ma.fields.List(ma.fields.String(metadata={"enum": list(KINDS)}), metadata={"description": "包含的消息类型"})


_TIME_DESCRIPTION = "北京时间 HH:MM"


class PreferencesSchema(ma.Schema):
    channels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean(),
                              metadata={"description": "渠道 → 是否推送"})
    quiet_hours = ma.fields.Boolean(metadata={"description": "免打扰：时段内（默认 22:00–08:00，北京时间）非紧急推送延至时段结束"})
    quiet_start = ma.fields.String(metadata={"pattern": HHMM, "description": "免打扰开始（" + _TIME_DESCRIPTION + "）"})
    quiet_end = ma.fields.String(metadata={"pattern": HHMM, "description": "免打扰结束（" + _TIME_DESCRIPTION + "，"
                                                                           "早于开始时间表示跨过午夜）"})
    quiet_hours_window = ma.fields.Nested(QuietWindowSchema)
    categories = ma.fields.List(ma.fields.Nested(CategorySchema),
                                metadata={"description": "按类别推送的开关（锁定的类别不能关闭）"})


# Named properties, so the document says which channels exist (a Dict's keys cannot be documented
# in OpenAPI 3.0); another key is refused as an unknown field.
_ChannelSwitchesSchema = ma.Schema.from_dict({p: StrictBoolean() for p in PLATFORMS}, name="ChannelSwitchesSchema")
_CategorySwitchesSchema = ma.Schema.from_dict({c: StrictBoolean() for c in CATEGORIES}, name="CategorySwitchesSchema")


class PreferencesUpdateSchema(UpdateSchema):
    # Not nullable: OpenAPI 3.0 can only write a nullable reference as anyOf [ref, any object],
    # which would document every key as allowed. Leave `channels` out to change none.
    channels = ma.fields.Nested(_ChannelSwitchesSchema, load_default=None, allow_none=False,
                                metadata={"description": "渠道 → 是否推送；只改所列的渠道"})
    quiet_hours = StrictBoolean(load_default=None)
    quiet_start = ma.fields.String(load_default=None, validate=v.Regexp(HHMM, error=N_("时间应为 HH:MM（00:00–23:59）。")),
                                   metadata={"description": "免打扰开始（" + _TIME_DESCRIPTION + "）；不能与结束时间相同"})
    quiet_end = ma.fields.String(load_default=None, validate=v.Regexp(HHMM, error=N_("时间应为 HH:MM（00:00–23:59）。")),
                                 metadata={"description": "免打扰结束（" + _TIME_DESCRIPTION + "）；早于开始时间表示跨过午夜"})
    categories = ma.fields.Nested(_CategorySwitchesSchema, load_default=None, allow_none=False,
                                  metadata={"description": "类别 → 是否推送；只改所列的类别；锁定的类别不能关闭"})
