"""The demo family member as the demo citizen's accepted proxy (亲友代办) for `flask demo seed`
(development only): granted with a step-up SMS code, accepted by the
family member. Idempotent: a citizen who has given a grant is left alone."""
from __future__ import annotations

from datetime import timedelta

from identity import service as identity
from proxies import service

SCOPES = ["licences:view", "cases:follow", "appointments:book"]


def seed() -> list[str]:
    people = identity.demo_people()
    if service.list_grants(user_id=people["citizen"], role="principal")["items"]:
        return ["proxies: the demo family member's grant is there already"]
    family = identity.verified_identity(people["family"])
    phone = identity.bound_phones([people["family"]])[people["family"]]
    grant = service.create_grant(principal_id=people["citizen"], phone=phone, name=family.name, scopes=SCOPES,
                                 expires_at=service.clock() + timedelta(days=180), session_id=None,
                                 sms_code=identity.demo_step_up_code(people["citizen"], "proxy_grant"))
    service.answer_grant(user_id=people["family"], grant_id=grant["id"], accept=True)
    return [f"proxies: {family.name} acts for the demo citizen ({', '.join(SCOPES)}), accepted"]
