"""The counter card (柜台核验结果): one row per fact, holder facts merged, Latin-script names masked
per word (issue 14 item 17)."""
from __future__ import annotations

import json
import re

import pytest

from app.security.pii import mask_name
from tests import vectors
from tests.helpers import bearer
from tests.wallet.conftest import MATTER, VERIFY, WALLET, driving_data, issue, issue_body, present
from wallet.catalogue import all_types
from wallet.counter import CARD_FACTS

CREDIT_CODE = "11430000006122244L"
JOHN = ("John Smith", vectors.WANG_WU[1])


def verify(client, clerk_headers, qr_text: str, matter: str = MATTER) -> dict:
    response = client.post(VERIFY, json={"qr_text": qr_text, "matter": matter}, headers=clerk_headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def card(answer: dict) -> list[tuple[str, str]]:
    """The rows a counter page shows, as counter.js builds them."""
    holder, licence = answer["holder"], answer["licence"]
    rows = [("持证人", holder.get("name") or holder.get("name_masked")),
            ("证件号码", holder.get("id_number") or holder.get("id_number_masked")),
            *licence["fields"].items(), ("证照签发方", licence["issuer"]), ("证照状态", licence["status_label"]),
            ("有效期至", licence["valid_until"] or "长期")]
    return [(term, value) for term, value in rows if value]  # counter.js leaves out a row without a value


def assert_one_row_per_fact(rows: list[tuple[str, str]]) -> None:
    values = [value for _, value in rows]
    assert len(values) == len(set(values)), rows


def test_default_card_shows_the_holder_status_and_validity_once(client, holder, licence, clerk):
    """Item 17: 持证人 and 姓名, 证照状态 and 状态, 有效期至 and 有效期止 were each shown twice."""
    answer = verify(client, clerk(), present(client, holder, licence["id"])["qr_text"], "vehicle_check")
    rows = card(answer)
    assert_one_row_per_fact(rows)
    assert rows[0] == ("持证人", "张*") and ("vehicle_class", "C1") in rows
    assert answer["licence"]["fields"] == {"vehicle_class": "C1"}


def test_a_name_and_id_number_shown_in_full_are_merged_into_the_holder(client, issuer, holder, clerk):
    """Item 17: a resident ID card showing 姓名 and 公民身份号码 in full: one 持证人 row, one ID row, in full."""
    body = {"type_code": "resident_id_card", "holder": {"name": "张三", "id_number": vectors.ZHANG_SAN[1]},
            "data": {"name": "张三", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
                     "address": "安徽省合肥市瑶海区长江东路 8 号", "id_number": vectors.ZHANG_SAN[1],
                     "issuing_authority": "合肥市公安局瑶海分局", "valid_from": "2015-06-01", "valid_until": "长期"},
            "valid_from": "2015-06-01", "valid_until": None, "reference": "id-card"}
    licence = issue(client, issuer, body)
    shown = present(client, holder, licence["id"])
    answer = verify(client, clerk(), shown["qr_text"], "employment_check")  # name, ID number, sex: in full
    assert answer["holder"] == {"name_masked": "张*", "id_number_masked": "3401**********1232", "name": "张三",
                                "id_number": vectors.ZHANG_SAN[1]}
    assert answer["licence"]["fields"] == {"sex": "男"}
    assert answer["licence"]["merged_fields"] == {"name": "holder.name", "id_number": "holder.id_number"}
    rows = card(answer)
    assert_one_row_per_fact(rows)
    assert ("持证人", "张三") in rows and ("证件号码", vectors.ZHANG_SAN[1]) in rows and ("有效期至", "长期") in rows


def test_business_licence_shows_the_credit_code_and_representative_once(client, issuer, holder, clerk):
    """Item 17: the USCC appears once; 法定代表人 is the holder, shown once."""
    body = {"type_code": "business_licence", "holder": {"name": "张三", "id_number": vectors.ZHANG_SAN[1]},
            "data": {"credit_code": CREDIT_CODE, "name": "合肥示例科技有限公司", "entity_type": "有限责任公司",
                     "legal_representative": "张三", "legal_representative_id_number": vectors.ZHANG_SAN[1],
                     "established_on": "2019-01-02", "business_term_until": "长期", "domicile": "合肥市",
                     "registration_authority": "合肥市市场监督管理局"},
            "valid_from": "2019-01-02", "valid_until": None, "reference": "biz"}
    licence = issue(client, issuer, body)
    answer = verify(client, clerk(), present(client, holder, licence["id"])["qr_text"], "business_registration")
    assert answer["licence"]["fields"] == {"credit_code": CREDIT_CODE, "name": "合肥示例科技有限公司"}
    assert answer["licence"]["merged_fields"] == {"legal_representative": "holder.name",
                                                  "business_term_until": "licence.valid_until"}
    assert json.dumps(answer, ensure_ascii=False).count(CREDIT_CODE) == 1
    assert_one_row_per_fact(card(answer))


def test_no_default_counter_field_repeats_a_card_fact_after_merging():
    """Item 17: for every catalogue type, the fields that repeat the holder, the status or the
    validity end are the ones the catalogue marks (`same_as`), so the counter can merge them."""
    for licence_type in all_types():
        labels = [f.label for f in licence_type.fields]
        assert len(labels) == len(set(labels)), licence_type.code
        holder_ids = [f.key for f in licence_type.fields if f.holder]
        assert [f.key for f in licence_type.fields_same_as("holder.id_number")] == holder_ids
        assert len(licence_type.fields_same_as("holder.name")) == 1, licence_type.code
        for fact in CARD_FACTS:
            assert len(licence_type.fields_same_as(fact)) <= 1, (licence_type.code, fact)


def test_the_pages_own_labels_never_repeat_a_field_label(client):
    """Item 17: the card's fixed rows (持证人, 证照签发方 …) never carry the label of a licence field
    that stays in `licence.fields` (驾驶证 has a field 发证机关: the page called the issuer so too)."""
    js = client.get("/counter/static/counter.js").get_data(as_text=True)
    fixed = set(re.findall(r'row\(dl, "([^"]+)"', js))
    assert {"持证人", "证件号码", "证照签发方", "证照状态", "有效期至"} <= fixed
    for licence_type in all_types():
        kept = {f.label for f in licence_type.fields if f.same_as not in CARD_FACTS}
        assert not kept & fixed, (licence_type.code, kept & fixed)


def test_catalogue_tells_clients_which_fact_a_field_repeats(client):
    """Item 17: `same_as` is part of the public catalogue."""
    types = {t["code"]: t for t in client.get("/api/v1/licence-types").get_json()["items"]}
    fields = {f["key"]: f for f in types["driving_licence"]["fields"]}
    assert fields["name"]["same_as"] == "holder.name" and fields["status"]["same_as"] == "licence.status"
    assert fields["vehicle_class"]["same_as"] is None


# --- Latin-script names ------------------------------------------------------------------------

@pytest.mark.parametrize("name, masked", [
    ("John Smith", "J*** S****"), ("  John   Smith ", "J*** S****"), ("Jean-Luc Picard", "J***-L** P*****"),
    ("José Müller", "J*** M*****"), ("Li", "L*"),
    ("张三", "张*"), ("张小明", "张**"), ("欧阳娜娜", "欧阳**"), ("阿卜杜·热合曼", "阿卜*****"), (None, None), ("", None),
])
def test_names_are_masked_per_word_in_latin_script(name, masked):
    """Item 17: "John Smith" was masked as "Jo********"; Chinese names keep their masking."""
    assert mask_name(name) == masked


def test_a_latin_name_on_the_card_and_in_the_wallet(client, issuer, verified_citizen, clerk):
    """Item 17: a holder named John Smith is J*** S**** on the counter card and in the wallet."""
    citizen = bearer(verified_citizen(JOHN, vectors.PHONES[2])["access_token"])
    licence = issue(client, issuer, issue_body(JOHN, data=driving_data(JOHN, nationality="英国")))
    answer = verify(client, clerk(), present(client, citizen, licence["id"])["qr_text"], "vehicle_check")
    assert answer["holder"]["name_masked"] == "J*** S****"
    assert_one_row_per_fact(card(answer))
    detail = client.get(f"{WALLET}/{licence['id']}", headers=citizen).get_json()
    assert detail["holder"]["name_masked"] == detail["fields"]["name"] == "J*** S****"
