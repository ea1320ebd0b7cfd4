"""Demo issuing departments for `flask demo seed` (development only), each with a demo issuing
client bound to it (the wallet's demo issues through them). Idempotent by USCC.

The USCCs are demo values: authority 1 (机构编制) and category 1 (机关), the department's real
region code, an invented organisation code body and both check characters computed
(`uscc.complete`); they pass every check of issuers/uscc.py but are not these departments' real
codes.
"""
from __future__ import annotations

from collections.abc import Iterator

from identity import service as identity
from issuers import service, uscc

DEPARTMENTS = (  # (first 16 characters, name, region, types)
    ("1134000000298411", "安徽省公安厅", "340000", ("resident_id_card", "household_register")),
    ("1134010000320117", "合肥市公安局交通警察支队", "340100", ("driving_licence",)),
    ("11340100MB016253", "合肥市市场监督管理局", "340100", ("business_licence",)),
    ("1134010000318932", "合肥市民政局", "340100", ("marriage_certificate",)),
    ("11340100MB1C7745", "合肥市自然资源和规划局", "340100", ("real_estate_certificate",)),
    ("1134000000298527", "安徽省人力资源和社会保障厅", "340000", ("social_security_card",)),
)
DEMO_USCC = {name: uscc.complete(first16) for first16, name, _, _ in DEPARTMENTS}


def seed() -> Iterator[str]:
    made = 0
    for first16, name, region, types in DEPARTMENTS:
        code = uscc.complete(first16)
        issuer = service.issuer_by_uscc(code)
        if issuer is not None:
            continue
        issuer = service.register(uscc_code=code, name=name, region=region, types=list(types))
        client, _ = identity.create_client(name=f"{name}发证系统（演示）", scopes=["licences:issue"])
        service.bind_client(issuer.id, client.client_id)
        made += 1
    yield (f"issuers: {made} demo departments with their issuing clients" if made
           else "issuers: the demo departments are there already")
