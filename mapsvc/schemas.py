"""Request and response shapes of the service map endpoints (halls, nearby, queue lengths)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate as v

from app.fields import QueryBoolean
from app.i18n import N_
from mapsvc import coords
from mapsvc.models import HALL_TYPES

MAX_RADIUS_M = 50_000  # the largest nearby search
MAX_LIMIT = 50  # the most halls one nearby answer holds

_NUMBER = {"invalid": N_("不是有效的数字。"), "special": N_("不能是 NaN 或无穷大。")}
_CODE = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
# Redis GEO (Web Mercator) indexes latitudes within ±85.05112878 only; GEOSEARCH fails beyond them.
GEO_MAX_LAT = 85.05112878
LAT_RANGE = N_("纬度应在 -{lat} 到 {lat} 之间。", lat=GEO_MAX_LAT)


def latitude(**kwargs) -> ma.fields.Float:
    """A latitude the nearby search can use (issue 14 item 11: |lat| ≤ 85.05112878, else 422)."""
    return ma.fields.Float(allow_nan=False, error_messages=_NUMBER, metadata={"example": 31.8206},
                           validate=v.Range(-GEO_MAX_LAT, GEO_MAX_LAT, error=LAT_RANGE), **kwargs)


def check_searchable(data: dict) -> None:
    """The point in GCJ-02 (bd09 moves it by ~0.006°) is still within Redis GEO's latitudes."""
    if data.get("lat") is not None and data.get("lng") is not None:
        lat, _ = coords.to_gcj02(data["lat"], data["lng"], data.get("coord", "gcj02"))
        if abs(lat) > GEO_MAX_LAT:
            raise ma.ValidationError(LAT_RANGE, field_name="lat")


class NearbyArgsSchema(ma.Schema):
    """Where the citizen is and what they need."""

    lat = latitude(required=True)
    lng = ma.fields.Float(required=True, allow_nan=False, error_messages=_NUMBER,
                          validate=v.Range(-180, 180, error=N_("经度应在 -180 到 180 之间。")), metadata={"example": 117.2272})
    coord = ma.fields.String(load_default="gcj02", validate=v.OneOf(coords.SYSTEMS, error=N_("坐标系应为 gcj02、wgs84 或 bd09。")),
                             metadata={"description": "请求坐标的坐标系（微信 wx.getLocation 默认 wgs84）"})
    radius_m = ma.fields.Integer(load_default=5000, validate=v.Range(
        100, MAX_RADIUS_M, error=N_("搜索半径应在 {min} 到 {max} 米之间。")))
    limit = ma.fields.Integer(load_default=20, validate=v.Range(1, MAX_LIMIT, error=N_("条数应在 {min} 到 {max} 之间。")))
    item = ma.fields.String(load_default=None, validate=v.Regexp("^" + _CODE + r"\Z", error=N_("事项编码格式有误。")),
                            metadata={"description": "只看能办理该事项的网点（事项编码）", "example": "GA001"})
    type = ma.fields.String(load_default=None, validate=v.OneOf(list(HALL_TYPES), error=N_("未知的网点类型。")),
                            metadata={"description": "网点类型：" + "，".join(f"{k} {n}" for k, n in HALL_TYPES.items())})
    open_now = QueryBoolean(load_default=False, metadata={"description": "只看此刻（北京时间）正在办公的网点"})
    answer_coord = ma.fields.String(load_default="gcj02", validate=v.OneOf(
        ("gcj02", "bd09"), error=N_("结果坐标仅提供 gcj02 或 bd09。")), metadata={"description": "结果坐标系：gcj02（默认）或 bd09"})

    @ma.validates_schema
    def _searchable(self, data, **kwargs):
        check_searchable(data)


class AnswerCoordArgsSchema(ma.Schema):
    answer_coord = ma.fields.String(load_default="gcj02", validate=v.OneOf(
        ("gcj02", "bd09"), error=N_("结果坐标仅提供 gcj02 或 bd09。")))


class LocationSchema(ma.Schema):
    lat = ma.fields.Float()
    lng = ma.fields.Float()
    coord = ma.fields.String(metadata={"example": "gcj02"})


class QueueSchema(ma.Schema):
    """The live queue length the hall's queue system last pushed (排队人数)."""

    length = ma.fields.Integer()
    updated_at = ma.fields.String(metadata={"description": "RFC 3339"})
    age_seconds = ma.fields.Integer()
    stale = ma.fields.Boolean(metadata={"description": "超过 MAP_QUEUE_STALE_SECONDS（默认10分钟）未更新"})


class TodayBriefSchema(ma.Schema):
    hours = ma.fields.List(ma.fields.String(), metadata={"example": ["09:00-12:00", "13:30-17:00"]})
    closed_reason = ma.fields.String(allow_none=True, metadata={"example": "春节"})


class NearbyHallSchema(ma.Schema):
    id = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    type = ma.fields.String()
    type_name = ma.fields.String()
    address = ma.fields.String()
    region_code = ma.fields.String(metadata={"description": "GB/T 2260"})
    location = ma.fields.Nested(LocationSchema)
    distance_m = ma.fields.Float(metadata={"description": "到请求点的球面距离（米），由 GCJ-02 坐标计算"})
    open_now = ma.fields.Boolean()
    today = ma.fields.Nested(TodayBriefSchema)
    queue = ma.fields.Nested(QueueSchema, allow_none=True)
    accessibility = ma.fields.List(ma.fields.String())


class NearbyAnswerSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NearbyHallSchema))


class ItemSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String(allow_none=True)


class ClosureSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()
    reason = ma.fields.String()

    @ma.pre_dump
    def _rename(self, data, **kwargs):
        return {"from_": data["from"], "to": data["to"], "reason": data["reason"]}


class TodayStateSchema(ma.Schema):
    date = ma.fields.Date()
    open_now = ma.fields.Boolean()
    hours = ma.fields.List(ma.fields.String())
    closed_reason = ma.fields.String(allow_none=True)
    next_open_at = ma.fields.DateTime(allow_none=True)


class AccessibilitySchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class HallDetailSchema(ma.Schema):
    id = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    type = ma.fields.String()
    type_name = ma.fields.String()
    address = ma.fields.String()
    region_code = ma.fields.String()
    location = ma.fields.Nested(LocationSchema)
    phone = ma.fields.String(allow_none=True, metadata={"description": "网点对外服务电话"})
    hours = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                           metadata={"description": "每周办公时间（mon … sun），时段之间为午休"})
    holiday_rule = ma.fields.String(metadata={"description": "closed：法定节假日休息（调休上班日办公）；open：每天按周时间表"})
    closures = ma.fields.List(ma.fields.Nested(ClosureSchema))
    items = ma.fields.List(ma.fields.Nested(ItemSchema))
    today = ma.fields.Nested(TodayStateSchema)
    open_now = ma.fields.Boolean()
    queue = ma.fields.Nested(QueueSchema, allow_none=True)
    accessibility = ma.fields.List(ma.fields.Nested(AccessibilitySchema))


class QueuePushSchema(ma.Schema):
    length = ma.fields.Integer(required=True, strict=True,
                               validate=v.Range(0, 10_000, error=N_("排队人数应在 0 到 10000 之间。")))


class QueuePushAnswerSchema(ma.Schema):
    hall_id = ma.fields.String()
    code = ma.fields.String()
    queue = ma.fields.Nested(QueueSchema)
