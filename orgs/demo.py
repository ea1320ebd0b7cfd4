"""Demo data for `flask demo seed` (development only): 示例科技有限公司 in the development business
registry with the demo citizen as its legal representative — the citizen registers it from the app
(POST /enterprises after a face check) — and a revoked (吊销) entity to show the refusal."""
from __future__ import annotations

from identity import service as identity
from orgs import service

DEMO_USCC = "91340100MA2RX7K01F"  # Hefei (340100); both check characters computed (app/uscc.py)
REVOKED_USCC = "91340100MA2RX7K1X7"


def seed() -> list[str]:
    citizen = identity.verified_identity(identity.demo_people()["citizen"])
    if citizen is None:
        return ["orgs: the demo citizen is not verified; no enterprise seeded"]
    service.add_dev_registry_entry(uscc=DEMO_USCC, name="示例科技有限公司", lr_name=citizen.name,
                                   lr_id_number=citizen.id_number, established_on="2019-05-20")
    service.add_dev_registry_entry(uscc=REVOKED_USCC, name="示例贸易有限公司", lr_name=citizen.name,
                                   lr_id_number=citizen.id_number, status="2", established_on="2015-03-02")
    return [f"orgs: 示例科技有限公司 ({DEMO_USCC}) in the development business registry, LR {citizen.name}; "
            f"示例贸易有限公司 ({REVOKED_USCC}) 吊销"]
