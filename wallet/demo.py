"""The demo citizen's wallet for `flask demo seed` (development only): three licences of different
types, each issued through the client of the demo department that may issue it (issuers/demo.py:
安徽省公安厅, 合肥市市场监督管理局, 合肥市公安局交通警察支队), the driving licence then suspended
(暂扣). Idempotent: a citizen whose wallet already holds licences is left alone."""
from __future__ import annotations

from datetime import date

from identity import service as identity
from issuers import service as issuers
from wallet import service

_CREDIT_CODE = "11430000006122244L"  # DOMAIN.md's identifier example
SUSPENSION_NOTE = "交通违法记分处理中（演示）"  # the issuer's own words (data it sends, not translated)


def _requests(name: str, id_number: str) -> list[service.IssueRequest]:
    birth = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
    sex = "男" if int(id_number[16]) % 2 else "女"
    return [
        service.IssueRequest(
            type_code="resident_id_card", holder_name=name, holder_id_number=id_number, reference="demo-id-card",
            data={"name": name, "sex": sex, "ethnicity": "汉", "birth_date": birth,
                  "address": "安徽省合肥市瑶海区长江东路 8 号", "id_number": id_number,
                  "issuing_authority": "合肥市公安局瑶海分局", "valid_from": "2015-06-01", "valid_until": "长期"},
            valid_from=date(2015, 6, 1), valid_until=None),
        service.IssueRequest(
            type_code="business_licence", holder_name=name, holder_id_number=id_number, reference="demo-business",
            data={"credit_code": _CREDIT_CODE, "name": "合肥示例科技有限公司", "entity_type": "有限责任公司",
                  "legal_representative": name, "legal_representative_id_number": id_number,
                  "established_on": "2019-01-02", "business_term_until": "长期", "domicile": "合肥市",
                  "registration_authority": "合肥市市场监督管理局"},
            valid_from=date(2019, 1, 2), valid_until=None),
        service.IssueRequest(
            type_code="driving_licence", holder_name=name, holder_id_number=id_number, reference="demo-driving",
            data={"name": name, "id_number": id_number, "sex": sex, "nationality": "中国",
                  "address": "安徽省合肥市庐阳区长江中路1号", "birth_date": birth, "first_issued_on": "2010-05-01",
                  "vehicle_class": "C1", "valid_from": "2020-05-01", "valid_until": "2030-05-01", "status": "有效",
                  "issuing_authority": "合肥市公安局交通警察支队"},
            valid_from=date(2020, 5, 1), valid_until=date(2030, 5, 1)),
    ]


def seed() -> list[str]:
    citizen = identity.demo_people()["citizen"]
    if service.list_licences(user_id=citizen)["items"]:
        return ["wallet: the demo citizen's licences are there already"]
    person = identity.verified_identity(citizen)
    requests = _requests(person.name, person.id_number)
    clients = [issuers.demo_client_for(r.type_code) for r in requests]  # the issuers' seeder ran first
    if None in clients:
        return ["wallet: no demo issuing department for every type (flask issuers list): no licences"]
    issued = [service.issue_licence(client_id=c, request=r)[0] for c, r in zip(clients, requests)]
    service.change_status(client_id=clients[-1], licence_id=issued[-1]["id"], status_code="02",
                          reason=SUSPENSION_NOTE)
    return ["wallet: 3 licences for the demo citizen (居民身份证, 营业执照, 机动车驾驶证 暂扣)"]
