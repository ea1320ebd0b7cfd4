"""The demo citizen's cloud signing for `flask demo seed` (development only): enrolled with a known
demo PIN, and two signing requests waiting for it. Idempotent: an enrolled citizen is left alone."""
from __future__ import annotations

import base64

from identity import service as identity
from signing import service
from signing.errors import NotEnrolled

DEMO_PIN = "802413"
_DOCUMENTS = [("房屋租赁合同（演示）", "甲方与乙方就合肥市瑶海区长江东路 8 号房屋租赁达成如下协议……"),
              ("授权委托书（演示）", "本人委托李四代为办理居住证相关事项……")]


def seed() -> list[str]:
    citizen = identity.demo_people()["citizen"]
    try:
        service.get_certificate(user_id=citizen)
        made = False
    except NotEnrolled:
        service.enrol(user_id=citizen, pin=DEMO_PIN, sms_code=identity.demo_step_up_code(citizen, "signing"))
        for title, text in _DOCUMENTS:
            service.create_request(user_id=citizen, title=title,
                                   document_b64=base64.b64encode(text.encode()).decode())
        made = True
    return [f"signing: the demo citizen's signing PIN is {DEMO_PIN}"
            + ("; 2 signing requests waiting" if made else " (enrolled already)")]
