"""BFF schemas: the home screen, display preferences, the apps' launch configuration."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v

from app.fields import StrictBoolean, UpdateSchema
from app.i18n import LANGUAGES, N_
from mapsvc.service import check_searchable, coords, latitude

_NUMBER = {"invalid": N_("不是有效的数字。"), "special": N_("不能是 NaN 或无穷大。")}


class HomeArgsSchema(ma.Schema):
    """Where the citizen is (optional: without it there are no nearby halls)."""

    lat = latitude(load_default=None)
    lng = ma.fields.Float(load_default=None, allow_nan=False, error_messages=_NUMBER,
                          validate=v.Range(-180, 180, error=N_("经度应在 -180 到 180 之间。")), metadata={"example": 117.2272})
    coord = ma.fields.String(load_default="gcj02", validate=v.OneOf(coords.SYSTEMS, error=N_("坐标系应为 gcj02、wgs84 或 bd09。")),
                             metadata={"description": "请求坐标的坐标系；结果为 bd09 时用 bd09，否则为 gcj02"})

    @ma.validates_schema
    def _both_or_neither(self, data, **kwargs):
        if (data.get("lat") is None) != (data.get("lng") is None):
            raise ma.ValidationError(N_("经纬度需同时提供。"), field_name="lat" if data.get("lat") is None else "lng")
        check_searchable(data)


class ProfileSchema(ma.Schema):
    id = ma.fields.String()
    name_masked = ma.fields.String(allow_none=True, metadata={"example": "张*"})
    phone_masked = ma.fields.String(allow_none=True, metadata={"example": "138****0000"})
    assurance_level = ma.fields.String(metadata={"example": "L2", "description": "L2 以下没有证照和办件"})
    real_name_verified = ma.fields.Boolean()
    ncid_linked = ma.fields.Boolean(metadata={"description": "已关联网号（可用网号登录；网号账号可无手机）"})
    elderly_mode = ma.fields.Boolean(metadata={"description": "大字版：首页为简化布局"})


class LicenceCardSchema(ma.Schema):
    id = ma.fields.String()
    type_code = ma.fields.String()
    type_name = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.String()
    valid_until = ma.fields.Date(allow_none=True)
    issuer_name = ma.fields.String(metadata={"description": "大字版不含"})
    summary = ma.fields.Dict(metadata={"description": "卡面摘要（已脱敏）；大字版不含"})


class CaseCardSchema(ma.Schema):
    id = ma.fields.String()
    case_no = ma.fields.String()
    item_name = ma.fields.String()
    department_name = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    status_label = ma.fields.String(metadata={"example": "审查/办理中"})
    status_at = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.Boolean()
    can_evaluate = ma.fields.Boolean(metadata={"description": "已办结、待好差评"})


class HallCardSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    address = ma.fields.String()
    location = ma.fields.Raw(metadata={"description": "{lat, lng, coord}"})
    distance_m = ma.fields.Float()
    open_now = ma.fields.Boolean()
    today = ma.fields.Raw(metadata={"description": "{hours: [\"09:00-12:00\"], closed_reason}"})
    queue = ma.fields.Raw(allow_none=True, metadata={"description": "{length, updated_at, age_seconds, stale} 或 null"})


class NoticeSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    id = ma.fields.String()
    title = ma.fields.String()
    body = ma.fields.String()
    url = ma.fields.String()
    level = ma.fields.String(metadata={"example": "info"})


class HomeSchema(ma.Schema):
    """Each part is null when it was late or failed (and then named in `partial`)."""

    layout = ma.fields.String(metadata={"description": "standard | elderly（大字版）"})
    profile = ma.fields.Nested(ProfileSchema, allow_none=True)
    licences = ma.fields.List(ma.fields.Nested(LicenceCardSchema), allow_none=True,
                              metadata={"description": "L2 以下为 []"})
    cases = ma.fields.List(ma.fields.Nested(CaseCardSchema), allow_none=True,
                           metadata={"description": "进行中（或待评价）的最近 3 件；L2 以下为 []"})
    unread_notifications = ma.fields.Integer(allow_none=True)
    nearby_halls = ma.fields.List(ma.fields.Nested(HallCardSchema), allow_none=True,
                                  metadata={"description": "此刻开放的最近 3 个网点（大字版 1 个）；未提供位置时为 null"})
    notices = ma.fields.List(ma.fields.Nested(NoticeSchema), metadata={"description": "大字版不含"})
    hints = ma.fields.Dict(metadata={"description": "大字版的显示提示：font_scale, min_touch_target_dp …"})
    partial = ma.fields.List(ma.fields.String(), metadata={"description": "超时或失败而为 null 的部分"})


class DisplayPreferencesSchema(UpdateSchema):
    """The account's display preferences; they follow the citizen to every device. A PUT changes the
    fields it names and keeps the others (at least one: an empty body is 422 `empty_update`)."""

    elderly_mode = StrictBoolean(metadata={"description": "大字版（长辈模式）；PUT 时省略则不变"})
    language = ma.fields.String(
        allow_none=True, validate=v.OneOf(LANGUAGES, error=N_("语言应为 zh-CN 或 en。")),
        metadata={"description": "界面语言；null 为未选择（跟随设备语言）；PUT 时省略则不变", "example": "en"})
    updated_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)


class AppConfigSchema(ma.Schema):
    features = ma.fields.Dict(metadata={"description": "功能开关"})
    min_versions = ma.fields.Dict(metadata={"example": {"app": "3.0.0", "miniprogram": "2.1.0"}})
    upgrade_urls = ma.fields.Dict()
    notices = ma.fields.List(ma.fields.Nested(NoticeSchema))
