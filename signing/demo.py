"""The demo citizen's cloud signing for `flask demo seed` (development only): enrolled with a known
demo PIN, and two signing requests waiting for it, each asked by a (demo) department's machine
client, so the app shows who asked: a lease for the housing authority's 租赁备案 and a 住房公积金
withdrawal form for the provident fund centre. One document the citizen's own app asked for is
signed already, so its evidence can be shown (issue 18): a CMS SignedData with a timestamp
(`flask signing export-evidence <signature id> --out DIR`, the id printed by the seed).
Idempotent: an enrolled citizen is left alone."""
from __future__ import annotations

import base64

from flask import current_app

from app.db import unit_of_work
from identity import service as identity
from signing import service
from signing.errors import NotEnrolled

DEMO_PIN = "802413"
# (title, text, the requesting department: a relying party that later verifies the signature)
_DOCUMENTS = [
    ("房屋租赁合同（演示）", "甲方与乙方就合肥市瑶海区长江东路 8 号房屋租赁达成如下协议……", "合肥市住房保障和房产管理局"),
    ("住房公积金提取申请表（演示）", "申请人因支付房租，申请提取本人住房公积金账户余额……", "合肥市住房公积金管理中心"),
]
# Signed at seeding by the citizen's own app: the demo's signature with CMS evidence and a timestamp.
SIGNED_TITLE = "居住证明承诺书（演示）"
_SIGNED_TEXT = "本人承诺所填居住信息真实有效，如有不实，愿承担相应责任……"


def _signed_document(citizen: str) -> str:
    """Ask for and authorise the demo's signed document; its signature id."""
    request = service.create_request(user_id=citizen, title=SIGNED_TITLE,
                                     document_b64=base64.b64encode(_SIGNED_TEXT.encode()).decode())
    sms = identity.new_sms_code(f"signing:{request['id']}") if current_app.config["SIGNING_REQUIRE_SMS"] else None
    if current_app.config["SIGNING_REQUIRE_LIVENESS"]:  # the demo citizen's face check, just now (L3, 600 s)
        with unit_of_work():
            identity.record_assurance(user_id=citizen, level=3, method="face", ref="demo-seed")
    return service.authorize(user_id=citizen, request_id=request["id"], pin=DEMO_PIN, sms_code=sms)["signature_id"]


def seed() -> list[str]:
    citizen = identity.demo_people()["citizen"]
    try:
        service.get_certificate(user_id=citizen)
        made = None
    except NotEnrolled:
        service.enrol(user_id=citizen, pin=DEMO_PIN, sms_code=identity.demo_step_up_code(citizen, "signing"))
        made = _signed_document(citizen)
        for title, text, department in _DOCUMENTS:
            client, _ = identity.create_client(name=department, scopes=["signatures:verify"])
            service.create_request(user_id=citizen, title=title, client_id=client.client_id,
                                   document_b64=base64.b64encode(text.encode()).decode())
    return [f"signing: the demo citizen's signing PIN is {DEMO_PIN}"
            + (f"; 2 signing requests waiting (asked by 合肥市住房保障和房产管理局 and 合肥市住房公积金管理中心); "
               f"{SIGNED_TITLE} signed with CMS evidence: flask --app wsgi signing export-evidence {made} --out evidence"
               if made else " (enrolled already)")]
