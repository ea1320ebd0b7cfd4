"""Request and response shapes of the notification endpoints (devices, inbox, preferences)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v

from app.fields import QueryBoolean, StrictBoolean, UpdateSchema
from app.i18n import N_, Series
from notify.models import PLATFORMS
from notify.outbox import KINDS


class DeviceCreateSchema(ma.Schema):
    platform = ma.fields.String(required=True, validate=v.OneOf(PLATFORMS, error=N_("推送渠道应为 {platforms:、}。", platforms=Series(PLATFORMS))),
                                metadata={"description": "apns | fcm | hms | jpush | wechat（openid）| sms（本人手机号）"})
    token = ma.fields.String(required=True, validate=v.Length(1, 4096, error=N_("推送标识长度不符合要求。")),
                             metadata={"description": "设备推送标识；按凭据保存，仅显示末 4 位"})


class DeviceSchema(ma.Schema):
    id = ma.fields.String()
    platform = ma.fields.String()
    token_hint = ma.fields.String(metadata={"description": "推送标识末 4 位"})
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


class PreferencesSchema(ma.Schema):
    channels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean(),
                              metadata={"description": "渠道 → 是否推送"})
    quiet_hours = ma.fields.Boolean(metadata={"description": "免打扰：22:00–08:00（北京时间）非紧急推送延至 08:00"})
    quiet_hours_window = ma.fields.Nested(QuietWindowSchema)


# Named properties, so the document says which channels exist (a Dict's keys cannot be documented
# in OpenAPI 3.0); another key is refused as an unknown field.
_ChannelSwitchesSchema = ma.Schema.from_dict({p: StrictBoolean() for p in PLATFORMS}, name="ChannelSwitchesSchema")


class PreferencesUpdateSchema(UpdateSchema):
    # Not nullable: OpenAPI 3.0 can only write a nullable reference as anyOf [ref, any object],
    # which would document every key as allowed. Leave `channels` out to change none.
    channels = ma.fields.Nested(_ChannelSwitchesSchema, load_default=None, allow_none=False,
                                metadata={"description": "渠道 → 是否推送；只改所列的渠道"})
    quiet_hours = StrictBoolean(load_default=None)
