"""Administrative division codes (GB/T 2260, 行政区划代码): 6 digits, province 2 + prefecture 2 +
county 2.

Every code must name a real province-level division; inside Anhui (34, the province of the seed
documents) the prefecture must be one of its 16 cities as well, and inside Hefei (3401) the county
one of its districts, counties and development zones. Outside Anhui only the shape is checked (a
full national table is data the production import would load, not code).
"""
from __future__ import annotations

import re

PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区", "21": "辽宁省", "22": "吉林省",
    "23": "黑龙江省", "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省", "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区", "61": "陕西省", "62": "甘肃省",
    "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区",
    "82": "澳门特别行政区",
}
ANHUI_CITIES = {
    "3401": "合肥市", "3402": "芜湖市", "3403": "蚌埠市", "3404": "淮南市", "3405": "马鞍山市", "3406": "淮北市",
    "3407": "铜陵市", "3408": "安庆市", "3410": "黄山市", "3411": "滁州市", "3412": "阜阳市", "3413": "宿州市",
    "3415": "六安市", "3416": "亳州市", "3417": "池州市", "3418": "宣城市",
}
HEFEI_COUNTIES = {
    "340100": "合肥市", "340102": "瑶海区", "340103": "庐阳区", "340104": "蜀山区", "340111": "包河区",
    "340121": "长丰县", "340122": "肥东县", "340123": "肥西县", "340124": "庐江县", "340181": "巢湖市",
    "340171": "合肥高新技术产业开发区", "340172": "合肥经济技术开发区", "340173": "合肥新站高新技术产业开发区",
}
_SHAPE = re.compile(r"\d{6}")


def region_error(code: str) -> str | None:
    """Why `code` is not a valid division code (Chinese, for the import report), or None."""
    if not isinstance(code, str) or not _SHAPE.fullmatch(code):
        return "行政区划代码应为6位数字（GB/T 2260）。"
    if code[:2] not in PROVINCES:
        return "行政区划代码的省级部分不存在。"
    if code[2:] == "0000":
        return None
    if code[:2] == "34" and code[:4] not in ANHUI_CITIES:
        return "安徽省内无此地级行政区划代码。"
    if code[:4] == "3401" and code not in HEFEI_COUNTIES:
        return "合肥市内无此县级行政区划代码。"
    if code[2:4] == "00" and code[4:] != "00":
        return "行政区划代码层级不正确。"
    return None


def region_name(code: str) -> str | None:
    """A readable name for the division, as far as the tables here know it."""
    return HEFEI_COUNTIES.get(code) or ANHUI_CITIES.get(code[:4] if code.endswith("00") else "") \
        or (PROVINCES.get(code[:2]) if code.endswith("0000") else None)
