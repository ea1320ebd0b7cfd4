"""Cloud-signing set-up shared by the signing scenarios: enrolment as a citizen does it, with the
SMS step-up code (issue 14 item 1) read back from the development SMS outbox."""
from __future__ import annotations

from identity import service as identity
from signing import service as signing


def enrol(user_id: str, pin: str) -> dict:
    sent = identity.send_sms_step_up(user_id=user_id, purpose="signing")
    code = next(i["code"] for i in identity.providers().sms.outbox()
                if f"{i['phone'][:3]}****{i['phone'][-4:]}" == sent["phone_masked"])
    return signing.enrol(user_id=user_id, pin=pin, sms_code=code)
