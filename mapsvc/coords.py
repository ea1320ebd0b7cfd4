"""Coordinate systems (坐标系): WGS-84 (GPS, `wx.getLocation` by default), GCJ-02 (国测局: AMap,
Tencent Maps, `wx.openLocation`) and BD-09 (Baidu).

Halls are stored and served in GCJ-02. Requests may send WGS-84 or BD-09; answers may be asked
in BD-09. There is deliberately no GCJ-02 → WGS-84 function here: publishing that conversion is
legally sensitive in China, and nothing needs it.

The formulas are the published ones (the closed-form GCJ-02 offset on the Krasovsky ellipsoid,
applied only inside China's bounding box; Baidu's x_pi rotation for BD-09). Distances are
great-circle (haversine) on the sphere Redis GEO uses, so that our distances equal GEODIST's.
"""
from __future__ import annotations

import math

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
EARTH_RADIUS_M = 6372797.560856  # the radius Redis GEO (geohash_helper.c) uses

SYSTEMS = ("gcj02", "wgs84", "bd09")


def outside_china(lat: float, lng: float) -> bool:
    """The rough bounding box inside which the GCJ-02 offset applies (the published rule)."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if outside_china(lat, lng):
        return lat, lng
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lng + d_lng


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def to_gcj02(lat: float, lng: float, system: str) -> tuple[float, float]:
    """A point sent in `system` (gcj02 | wgs84 | bd09), in GCJ-02."""
    if system == "gcj02":
        return lat, lng
    if system == "wgs84":
        return wgs84_to_gcj02(lat, lng)
    if system == "bd09":
        return bd09_to_gcj02(lat, lng)
    raise ValueError(f"unknown coordinate system {system!r}")


def from_gcj02(lat: float, lng: float, system: str) -> tuple[float, float]:
    """A stored GCJ-02 point for an answer in `system` (gcj02 | bd09; never wgs84)."""
    if system == "gcj02":
        return lat, lng
    if system == "bd09":
        return gcj02_to_bd09(lat, lng)
    raise ValueError(f"answers are given in gcj02 or bd09, not {system!r}")


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres on Redis GEO's sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    return haversine_from(p1, math.cos(p1), lng1, p2, math.cos(p2), lng2)


def haversine_from(p1: float, cos_p1: float, lng1: float, p2: float, cos_p2: float, lng2: float) -> float:
    """haversine_m with each point's latitude in radians and its cosine given (worked out once per
    hall and per request by the nearby search); the same operations, so the same result."""
    d_lat, d_lng = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(d_lat / 2) ** 2 + cos_p1 * cos_p2 * math.sin(d_lng / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
