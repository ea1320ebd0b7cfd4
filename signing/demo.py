"""The demo citizen's cloud signing for `flask demo seed` (development only): enrolled with a known
demo PIN, and two signing requests waiting for it, each asked by a (demo) department's machine
client, so the app shows who asked: a lease for the housing authority's 租赁备案 and a 住房公积金
withdrawal form for the provident fund centre. Idempotent: an enrolled citizen is left alone."""
from __future__ import annotations

import base64

from identity import service as identity
from signing import service
from signing.errors import NotEnrolled

DEMO_PIN = "802413"
# (title, text, the requesting department: a relying party that later verifies the signature)
_DOCUMENTS = [
    ("房屋租赁合同（演示）", "甲方与乙方就合肥市瑶海区长江东路 8 号房屋租赁达成如下协议……", "合肥市住房保障和房产管理局"),
    ("住房公积金提取申请表（演示）", "申请人因支付房租，申请提取本人住房公积金账户余额……", "合肥市住房公积金管理中心"),
]


def seed() -> list[str]:
    citizen = identity.demo_people()["citizen"]
    try:
        service.get_certificate(user_id=citizen)
        made = False
    except NotEnrolled:
        service.enrol(user_id=citizen, pin=DEMO_PIN, sms_code=identity.demo_step_up_code(citizen, "signing"))
        for title, text, department in _DOCUMENTS:
            client, _ = identity.create_client(name=department, scopes=["signatures:verify"])
            service.create_request(user_id=citizen, title=title, client_id=client.client_id,
                                   document_b64=base64.b64encode(text.encode()).decode())
        made = True
    return [f"signing: the demo citizen's signing PIN is {DEMO_PIN}"
            + ("; 2 signing requests waiting (asked by 合肥市住房保障和房产管理局 and 合肥市住房公积金管理中心)"
               if made else " (enrolled already)")]
