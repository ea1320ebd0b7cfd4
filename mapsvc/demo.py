"""Demo halls in and around Hefei (合肥) for `demo seed`, and a generator of synthetic halls spread
over Anhui for load tests (`flask --app wsgi halls generate N --out FILE`, bench/map.py).

Everything is drawn from seeded RNGs, so the same call gives the same halls. Names, roads and
districts are real Hefei ones; the halls, codes and phone numbers are made up. Positions are
GCJ-02. Service items (事项) use short illustrative codes, not the national catalogue's.
"""
from __future__ import annotations

import csv
import json
import math
import random
from typing import IO, Iterable, Iterator

from app.db import db
from mapsvc import importer
from mapsvc.models import HALL_TYPES

ITEMS = {
    "GA001": "居民身份证换领", "GA002": "户口迁移", "GA003": "居住证办理", "GA004": "出入境证件办理",
    "JJ001": "机动车驾驶证换证", "JJ002": "机动车登记", "RS001": "社保卡申领", "RS002": "养老保险参保登记",
    "RS003": "失业登记", "YB001": "医保参保登记", "YB002": "异地就医备案", "ZJ001": "不动产登记",
    "ZJ002": "不动产权属查询", "SC001": "营业执照办理", "SC002": "个体工商户登记", "GJJ001": "公积金提取",
    "GJJ002": "公积金贷款", "SW001": "发票领用", "SW002": "个人所得税汇算", "MZ001": "婚姻登记",
    "CJ001": "残疾人证办理",
}
ITEMS_BY_TYPE = {
    "gov_center": list(ITEMS),
    "community_center": ["GA001", "GA003", "RS001", "RS002", "RS003", "YB001", "YB002", "CJ001", "SC002"],
    "community_station": ["GA003", "RS001", "YB001", "CJ001"],
    "self_service_24h": ["GA001", "RS001", "YB001", "GJJ001", "SW001", "ZJ002", "JJ001"],
    "bank_partner": ["RS001", "GJJ001", "GJJ002", "SC001", "SW001"],
    "police_station": ["GA001", "GA002", "GA003", "GA004", "JJ001", "JJ002"],
    "tax_office": ["SW001", "SW002", "SC001", "SC002"],
    "social_security": ["RS001", "RS002", "RS003", "YB001", "YB002"],
}
_LUNCH = {"mon-fri": ["09:00-12:00", "13:30-17:00"]}
HOURS_BY_TYPE = {
    "gov_center": [_LUNCH, {"mon-fri": ["09:00-12:00", "13:30-17:00"], "sat": ["09:00-12:00"]}],
    "community_center": [{"mon-fri": ["08:30-12:00", "14:00-17:30"]},
                         {"mon-fri": ["08:30-12:00", "14:00-17:30"], "sat": ["09:00-12:00"]}],
    "community_station": [{"mon-fri": ["09:00-11:30", "14:30-17:00"]}],
    "self_service_24h": [{"mon-sun": ["00:00-24:00"]}],
    "bank_partner": [{"mon-sun": ["09:00-17:00"]}, {"mon-fri": ["08:30-17:30"], "sat-sun": ["09:00-16:00"]}],
    "police_station": [{"mon-fri": ["09:00-12:00", "13:30-17:30"], "sat": ["09:00-12:00"]}],
    "tax_office": [{"mon-fri": ["09:00-12:00", "13:00-17:00"]}],
    "social_security": [{"mon-fri": ["08:30-12:00", "13:30-17:00"]}],
}
OPEN_ON_HOLIDAYS = {"self_service_24h", "bank_partner"}

# GB/T 2260 code, name, GCJ-02 centre, spread (km), some streets/towns (街道/乡镇)
HEFEI = [
    ("340102", "瑶海区", 31.858, 117.309, 3.0, ["明光路", "胜利路", "三里街", "铜陵路", "大兴镇", "方庙"]),
    ("340103", "庐阳区", 31.879, 117.264, 3.0, ["亳州路", "双岗", "杏花村", "逍遥津", "林店", "三十岗乡"]),
    ("340104", "蜀山区", 31.851, 117.261, 3.5, ["三里庵", "稻香村", "琥珀", "西园", "笔架山", "南七"]),
    ("340111", "包河区", 31.793, 117.310, 4.0, ["芜湖路", "滨湖世纪社区", "骆岗", "常青", "望湖", "烟墩"]),
    ("340121", "长丰县", 32.478, 117.167, 8.0, ["水湖镇", "双墩镇", "下塘镇", "岗集镇", "庄墓镇"]),
    ("340122", "肥东县", 31.887, 117.469, 8.0, ["店埠镇", "撮镇镇", "梁园镇", "长临河镇", "石塘镇"]),
    ("340123", "肥西县", 31.706, 117.157, 8.0, ["上派镇", "三河镇", "桃花镇", "紫蓬镇", "花岗镇"]),
    ("340124", "庐江县", 31.256, 117.287, 9.0, ["庐城镇", "汤池镇", "白湖镇", "同大镇", "冶父山镇"]),
    ("340181", "巢湖市", 31.624, 117.890, 8.0, ["卧牛山街道", "亚父街道", "柘皋镇", "烔炀镇", "槐林镇"]),
    ("340171", "高新区", 31.835, 117.125, 3.0, ["天乐社区", "蜀麓社区", "兴园社区", "梦园社区"]),
    ("340172", "经开区", 31.782, 117.213, 3.0, ["海恒社区", "锦绣社区", "莲花社区", "高刘"]),
    ("340173", "新站区", 31.900, 117.350, 3.0, ["七里塘", "三十头", "磨店", "瑶海社区"]),
]
ROADS = ["长江中路", "长江西路", "长江东路", "淮河路", "金寨路", "黄山路", "望江西路", "徽州大道", "马鞍山路", "包河大道",
         "繁华大道", "天鹅湖路", "潜山路", "蒙城路", "阜阳路", "临泉路", "习友路", "翡翠路", "创新大道", "宁国路",
         "芜湖路", "合作化路", "史河路", "清溪路", "紫云路", "方兴大道", "魏武路", "文忠路", "站前路", "环湖东路"]
BANKS = ["中国建设银行", "中国工商银行", "中国农业银行", "中国银行", "安徽农商银行", "徽商银行", "合肥科技农村商业银行"]
# (type, name pattern, count per district): fills a few hundred halls over the 12 districts
PATTERNS = [
    ("community_center", "{district}{street}便民服务中心", 6), ("community_station", "{street}社区便民服务站", 6),
    ("self_service_24h", "{district}{street}24小时政务自助服务区", 4), ("bank_partner", "{bank}{street}支行政银合作网点", 3),
    ("police_station", "{district}{street}警务服务站", 2), ("tax_office", "{district}税务局{street}办税服务厅", 1),
    ("social_security", "{district}{street}社保服务网点", 2),
]
_ABBR = {"community_center": "BMZX", "community_station": "BMZ", "self_service_24h": "ZZ24", "bank_partner": "ZYHZ",
         "police_station": "JWZ", "tax_office": "BSFW", "social_security": "SBWD"}
ANHUI_CITIES = [  # code, name, GCJ-02 centre, weight (≈ population)
    ("340100", "合肥市", 31.821, 117.227, 9.6), ("340200", "芜湖市", 31.352, 118.433, 3.7),
    ("340300", "蚌埠市", 32.916, 117.389, 3.3), ("340400", "淮南市", 32.626, 116.999, 3.0),
    ("340500", "马鞍山市", 31.670, 118.507, 2.2), ("340600", "淮北市", 33.955, 116.798, 2.0),
    ("340700", "铜陵市", 30.945, 117.812, 1.3), ("340800", "安庆市", 30.543, 117.063, 4.2),
    ("341000", "黄山市", 29.715, 118.338, 1.3), ("341100", "滁州市", 32.302, 118.317, 4.0),
    ("341200", "阜阳市", 32.890, 115.815, 8.2), ("341300", "宿州市", 33.646, 116.964, 5.3),
    ("341500", "六安市", 31.735, 116.523, 4.4), ("341600", "亳州市", 33.845, 115.779, 5.0),
    ("341700", "池州市", 30.665, 117.491, 1.3), ("341800", "宣城市", 30.941, 118.759, 2.5),
]
ANHUI_BOX = (29.40, 34.65, 114.90, 119.65)  # lat min/max, lng min/max (GCJ-02, roughly)


def _jitter(rng: random.Random, lat: float, lng: float, km: float) -> tuple[float, float]:
    d_lat = rng.gauss(0, km) / 111.0
    d_lng = rng.gauss(0, km) / (111.0 * math.cos(math.radians(lat)))
    return round(lat + d_lat, 6), round(lng + d_lng, 6)


def _row(rng: random.Random, code: str, name: str, hall_type: str, region: str, address: str,
         lat: float, lng: float) -> dict[str, str]:
    items = ITEMS_BY_TYPE[hall_type]
    chosen = items if hall_type == "gov_center" else sorted(rng.sample(items, max(1, len(items) - rng.randrange(3))))
    access = [k for k, p in (("barrier_free", 0.8), ("elderly_friendly", 0.6), ("assisted", 0.5),
                             ("sign_language", 0.1)) if rng.random() < p]
    closures = []
    if rng.random() < 0.03:
        closures = [{"from": "2026-12-01", "to": "2026-12-02", "reason": "系统升级"}]
    return {
        "code": code, "name": name, "type": hall_type, "region_code": region, "address": address,
        "lat": f"{lat:.6f}", "lng": f"{lng:.6f}", "phone": f"0551-6{rng.randrange(10**6, 10**7 - 1)}",
        "hours": json.dumps(rng.choice(HOURS_BY_TYPE[hall_type]), ensure_ascii=False),
        "holiday_rule": "open" if hall_type in OPEN_ON_HOLIDAYS else "closed",
        "closures": json.dumps(closures, ensure_ascii=False) if closures else "",
        "items": ";".join(f"{c}:{ITEMS[c]}" for c in chosen), "accessibility": ";".join(access),
    }


def hefei_halls(seed: int = 6) -> list[dict[str, str]]:
    """The demo halls: a few hundred in Hefei's districts, counties and development zones."""
    rng = random.Random(seed)
    halls = [_row(rng, "340000-ZWFW-01", "安徽政务服务中心", "gov_center", "340100", "合肥市包河区东流路与徽州大道交口",
                  31.7626, 117.2896),
             _row(rng, "340100-ZWFW-01", "合肥市政务服务中心", "gov_center", "340100", "合肥市蜀山区怀宁路1680号",
                  31.8205, 117.2299)]
    for region, district, lat, lng, km, streets in HEFEI:
        center_lat, center_lng = _jitter(rng, lat, lng, 0.5)
        halls.append(_row(rng, f"{region}-ZWFW-01", f"{district}政务服务中心", "gov_center", region,
                          f"合肥市{district}{rng.choice(ROADS)}{rng.randrange(1, 999)}号", center_lat, center_lng))
        for hall_type, pattern, per_district in PATTERNS:
            for n in range(per_district * (2 if km <= 4 else 1)):
                street = streets[n % len(streets)]
                name = pattern.format(district=district, street=street, bank=rng.choice(BANKS))
                if any(h["name"] == name for h in halls):
                    name = name.replace("网点", f"（{n + 1}）网点") if "网点" in name else f"{name}（{n + 1}）"
                hall_lat, hall_lng = _jitter(rng, lat, lng, km)
                code = f"{region}-{_ABBR[hall_type]}-{n + 1:02d}"
                halls.append(_row(rng, code, name, hall_type, region,
                                  f"合肥市{district}{street}{rng.choice(ROADS)}{rng.randrange(1, 999)}号", hall_lat, hall_lng))
    return halls


def seed_halls() -> list[str]:
    """`demo seed`: import the Hefei demo halls (idempotent by code)."""
    halls = hefei_halls()
    with db.connection_context():
        report = importer.import_records(((i + 2, h) for i, h in enumerate(halls)), "gcj02")
    lines = [f"halls: {report.imported} in and around Hefei ({report.created} new, {report.updated} updated)"]
    lines += importer.error_lines(report)
    if report.index_error:
        lines.append("halls: the Redis index could not be written; run `flask --app wsgi halls reindex`")
    return lines


def generate(count: int, *, seed: int = 2026, start: int = 0) -> Iterator[dict[str, str]]:
    """`count` synthetic halls over Anhui: 80 % around the 16 cities (by population), 20 % anywhere
    in the province's box. Hall i is the same whatever `start` and `count` select it."""
    weights = [c[4] for c in ANHUI_CITIES]
    lat_min, lat_max, lng_min, lng_max = ANHUI_BOX
    types = list(HOURS_BY_TYPE)
    type_weights = [2, 20, 30, 10, 15, 8, 5, 10]
    for i in range(start, start + count):
        rng = random.Random(seed * 10_000_019 + i)
        city = rng.choices(ANHUI_CITIES, weights)[0]
        if rng.random() < 0.8:
            lat, lng = _jitter(rng, city[2], city[3], 12.0)
        else:
            lat, lng = round(rng.uniform(lat_min, lat_max), 6), round(rng.uniform(lng_min, lng_max), 6)
        hall_type = rng.choices(types, type_weights)[0]
        region = HEFEI[rng.randrange(len(HEFEI))][0] if city[0] == "340100" else city[0]
        yield _row(rng, f"GEN-{i:07d}", f"{city[1]}第{i}号{HALL_TYPES[hall_type]}", hall_type, region,
                   f"安徽省{city[1]}{rng.choice(ROADS)}{rng.randrange(1, 999)}号", lat, lng)


COLUMNS = ("code", "name", "type", "region_code", "address", "lat", "lng", "phone", "hours", "holiday_rule",
           "closures", "items", "accessibility")


def write_csv(fh: IO[str], halls: Iterable[dict[str, str]]) -> int:
    writer = csv.DictWriter(fh, fieldnames=COLUMNS)
    writer.writeheader()
    written = 0
    for hall in halls:
        writer.writerow(hall)
        written += 1
    return written
