"""Service map tables: halls (办事大厅/服务网点) and the service items (事项) each handles.

Coordinates are GCJ-02 (see coords.py). `hours`, `closures` and `accessibility` are JSON in the
written forms of hours.py; `items` live in their own table so the database can answer "which
halls handle item X" and the Redis GEO index can be rebuilt from it.
"""
from __future__ import annotations

import peewee as pw

from app import i18n
from app.db import BaseModel, UTCDateTimeField, utcnow
from app.calendar import CalendarDay  # noqa: F401  (the calendar's table belongs to the map)

HALL_TYPES = {
    "gov_center": "政务服务中心",
    "community_center": "便民服务中心",
    "community_station": "便民服务站",
    "self_service_24h": "24小时自助服务区",
    "bank_partner": "政银合作网点",
    "police_station": "警务服务站",
    "tax_office": "办税服务厅",
    "social_security": "社保服务网点",
}
ACCESSIBILITY = {
    "barrier_free": "无障碍设施",
    "elderly_friendly": "适老化服务",
    "assisted": "帮办代办",
    "sign_language": "手语服务",
}
HALL_TYPES_EN = {
    "gov_center": "Government service centre",
    "community_center": "Community service centre",
    "community_station": "Community service station",
    "self_service_24h": "24-hour self-service area",
    "bank_partner": "Partner bank branch",
    "police_station": "Police service station",
    "tax_office": "Tax service hall",
    "social_security": "Social security service point",
}
ACCESSIBILITY_EN = {
    "barrier_free": "Barrier-free access",
    "elderly_friendly": "Elderly-friendly service",
    "assisted": "Assisted and proxy service",
    "sign_language": "Sign language service",
}
i18n.register_labels("hall_type", HALL_TYPES, HALL_TYPES_EN)
i18n.register_labels("accessibility", ACCESSIBILITY, ACCESSIBILITY_EN)


class Hall(BaseModel):
    id = pw.CharField(primary_key=True, max_length=32)
    code = pw.CharField(max_length=64, unique=True)  # the hall's own code: the import key
    name = pw.CharField(max_length=128)
    type = pw.CharField(max_length=32, index=True)  # a key of HALL_TYPES
    region_code = pw.CharField(max_length=6, index=True)  # GB/T 2260
    address = pw.CharField(max_length=256)
    lat = pw.DoubleField()  # GCJ-02
    lng = pw.DoubleField()
    phone = pw.CharField(max_length=32, null=True)  # the hall's public service line
    hours = pw.TextField()  # JSON, hours.py written form
    holiday_rule = pw.CharField(max_length=8, default="closed")  # closed | open
    closures = pw.TextField(default="[]")  # JSON list of {from, to, reason}
    accessibility = pw.TextField(default="[]")  # JSON list of ACCESSIBILITY keys
    slot_minutes = pw.IntegerField(default=60)  # appointment slot length
    slot_capacity = pw.IntegerField(default=10)  # appointments per slot
    queue_length = pw.IntegerField(null=True)  # pushed by the hall's queue system
    queue_updated_at = UTCDateTimeField(null=True)
    active = pw.BooleanField(default=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "map_hall"


class HallItem(BaseModel):
    hall = pw.ForeignKeyField(Hall, backref="items", on_delete="CASCADE")
    item_code = pw.CharField(max_length=64, index=True)  # 事项编码
    item_name = pw.CharField(max_length=128, null=True)

    class Meta:
        table_name = "map_hall_item"
        primary_key = pw.CompositeKey("hall", "item_code")
