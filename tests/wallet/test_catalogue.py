"""The licence catalogue (电子证照目录): types, validation, masking, minimal disclosure, and the route."""
from __future__ import annotations

import re

import pytest

from app.uscc import mod31_check_char
from tests import vectors
from wallet.catalogue import (
    Field, LicenceDataError, all_types, credit_code_valid, disclose, get_type, mask_value, validate_data,
)
from wallet.identifier import make_identifier, parse_identifier

NAME, ID_NUMBER = vectors.ZHANG_SAN
SPOUSE, SPOUSE_ID = vectors.LI_SI
CREDIT_CODE = "11430000006122244L"  # from DOMAIN.md's identifier example
_HAN = re.compile(r"[\u4e00-\u9fff]")

VALID = {
    "resident_id_card": {
        "name": NAME, "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
        "address": "安徽省合肥市瑶海区长江东路 8 号", "id_number": ID_NUMBER, "issuing_authority": "合肥市公安局瑶海分局",
        "valid_from": "2015-06-01", "valid_until": "2035-06-01"},
    "driving_licence": {
        "name": NAME, "id_number": ID_NUMBER, "sex": "男", "nationality": "中国", "address": "安徽省合肥市瑶海区长江东路 8 号",
        "birth_date": "1990-03-07", "first_issued_on": "2012-05-04", "vehicle_class": "C1",
        "valid_from": "2018-05-04", "valid_until": "2028-05-04", "status": "有效", "issuing_authority": "安徽省合肥市公安局交通警察支队"},
    "business_licence": {
        "credit_code": CREDIT_CODE, "name": "合肥示例科技有限公司", "entity_type": "有限责任公司（自然人投资或控股）",
        "legal_representative": NAME, "legal_representative_id_number": ID_NUMBER, "registered_capital": "100 万元人民币",
        "established_on": "2019-01-02", "business_term_until": "长期", "domicile": "安徽省合肥市瑶海区长江东路 8 号",
        "registration_authority": "合肥市瑶海区市场监督管理局"},
    "marriage_certificate": {
        "certificate_number": "J340102-2020-001234", "holder_name": NAME, "holder_id_number": ID_NUMBER,
        "spouse_name": SPOUSE, "spouse_id_number": SPOUSE_ID, "registered_on": "2020-05-20",
        "registration_authority": "合肥市瑶海区民政局"},
    "real_estate_certificate": {
        "certificate_number": "皖（2021）合肥市不动产权第0123456号", "obligee": NAME, "obligee_id_number": ID_NUMBER,
        "co_ownership": "单独所有", "location": "瑶海区长江东路 8 号 3 幢 1201 室", "unit_number": "340102001001GB00001F00031201",
        "right_type": "国有建设用地使用权/房屋所有权", "usage": "住宅", "area": "89.56", "registered_on": "2021-08-18"},
    "social_security_card": {
        "name": NAME, "social_security_number": ID_NUMBER, "card_number": "A12345678", "issued_on": "2016-03-01",
        "issuing_region": "安徽省合肥市"},
    "household_register": {
        "household_number": "340102123456", "household_type": "家庭户", "head_name": SPOUSE, "name": NAME,
        "relationship_to_head": "子", "id_number": ID_NUMBER, "birth_date": "1990-03-07",
        "address": "安徽省合肥市瑶海区长江东路 8 号", "registration_authority": "合肥市公安局瑶海分局长江东路派出所"},
}


def _refusal(code: str, **changes) -> dict[str, list[str]]:
    data = {**VALID[code], **changes}
    data = {k: v for k, v in data.items() if v is not ...}
    with pytest.raises(LicenceDataError) as caught:
        validate_data(get_type(code), data)
    return caught.value.errors


def test_all_seven_types_are_present():
    names = {t.code: t.name for t in all_types()}
    assert names == {
        "resident_id_card": "居民身份证", "driving_licence": "机动车驾驶证", "business_licence": "营业执照",
        "marriage_certificate": "结婚证", "real_estate_certificate": "不动产权证书",
        "social_security_card": "社会保障卡", "household_register": "户口簿"}
    assert set(VALID) == set(names)


@pytest.mark.parametrize("licence_type", all_types(), ids=lambda t: t.code)
def test_type_is_well_formed(licence_type):
    keys = [f.key for f in licence_type.fields]
    assert len(keys) == len(set(keys))
    assert all(_HAN.search(f.label) for f in licence_type.fields)
    assert set(licence_type.counter_fields) <= set(keys)
    holder = [f for f in licence_type.fields if f.holder]
    assert len(holder) == 1 and holder[0].type == "id_number" and holder[0].sensitive
    assert licence_type.holder_field == holder[0].key
    # The seeded type codes are illustrative department codes: their overall MOD 31 holds, their inner
    # GB 11714 check (which app/uscc.py enforces for enterprises and licence data) does not.
    assert mod31_check_char(licence_type.type_code[:17]) == licence_type.type_code[17]
    assert re.fullmatch(r"\d{3}", licence_type.type_code[18:])
    assert all(f.mask != "none" for f in licence_type.fields if f.sensitive)
    parse_identifier(make_identifier(licence_type.type_code, CREDIT_CODE, "1", 1))


def test_type_codes_are_unique_and_unknown_code_is_a_key_error():
    assert len({t.type_code for t in all_types()}) == len(all_types())
    with pytest.raises(KeyError):
        get_type("passport")


def test_catalogue_is_immutable():
    with pytest.raises(AttributeError):
        get_type("resident_id_card").name = "护照"  # type: ignore[misc]


@pytest.mark.parametrize("code", sorted(VALID))
def test_a_complete_valid_record_is_accepted(code):
    assert validate_data(get_type(code), VALID[code]) == VALID[code]


def test_values_are_normalised():
    data = {**VALID["resident_id_card"], "name": f"  {NAME} ", "id_number": vectors.WITH_X[1].lower()}
    clean = validate_data(get_type("resident_id_card"), data)
    assert clean["name"] == NAME and clean["id_number"] == vectors.WITH_X[1]
    business = validate_data(get_type("business_licence"), {**VALID["business_licence"], "credit_code": CREDIT_CODE.lower()})
    assert business["credit_code"] == CREDIT_CODE
    estate = validate_data(get_type("real_estate_certificate"), {**VALID["real_estate_certificate"], "area": 89.5})
    assert estate["area"] == "89.5"


def test_optional_fields_may_be_left_out():
    data = {k: v for k, v in VALID["business_licence"].items() if k != "registered_capital"}
    assert "registered_capital" not in validate_data(get_type("business_licence"), data)


@pytest.mark.parametrize("code, changes, field, reason", [
    ("resident_id_card", {"passport_number": "E12345678"}, "passport_number", "没有该字段"),
    ("resident_id_card", {"name": ...}, "name", "缺少必填项"),
    ("resident_id_card", {"name": "   "}, "name", "缺少必填项"),
    ("resident_id_card", {"name": 42}, "name", "字符串"),
    ("resident_id_card", {"valid_from": "2015/06/01"}, "valid_from", "YYYY-MM-DD"),
    ("resident_id_card", {"valid_from": "2015-02-30"}, "valid_from", "日期不存在"),
    ("resident_id_card", {"valid_until": "永久"}, "valid_until", "YYYY-MM-DD"),
    ("resident_id_card", {"id_number": "340102199003071233"}, "id_number", "校验位"),
    ("resident_id_card", {"id_number": "34010219900307123"}, "id_number", "18 位"),
    ("resident_id_card", {"sex": "M"}, "sex", "男、女"),
    ("driving_licence", {"vehicle_class": "Z9"}, "vehicle_class", "取值应为"),
    ("driving_licence", {"status": "01"}, "status", "取值应为"),
    ("business_licence", {"credit_code": "11430000006122244M"}, "credit_code", "GB 32100"),
    ("business_licence", {"credit_code": "1143000000612224IL"}, "credit_code", "GB 32100"),
    ("business_licence", {"legal_representative_id_number": "990102199003071232"}, "legal_representative_id_number", "地区码"),
    ("real_estate_certificate", {"area": "八十九"}, "area", "非负数"),
    ("real_estate_certificate", {"area": True}, "area", "字符串"),
    ("marriage_certificate", {"registration_authority": "局" * 501}, "registration_authority", "长度"),
])
def test_each_defect_is_refused_with_the_field_named(code, changes, field, reason):
    errors = _refusal(code, **changes)
    assert list(errors) == [field]
    assert any(reason in message for message in errors[field])
    assert all(_HAN.search(message) for message in errors[field])


def test_all_defects_are_reported_together():
    errors = _refusal("resident_id_card", name=..., sex="X", extra="1")
    assert set(errors) == {"name", "sex", "extra"}


def test_data_must_be_an_object():
    with pytest.raises(LicenceDataError):
        validate_data(get_type("resident_id_card"), ["not", "a", "dict"])  # type: ignore[arg-type]


def test_credit_code_check():
    assert credit_code_valid("11100000000013338W") and credit_code_valid(CREDIT_CODE)
    assert not credit_code_valid("11100000000013338X")
    assert not credit_code_valid("1110000000001333OW")  # O is not in the GB 32100 alphabet
    assert not credit_code_valid("11100000000013338")


@pytest.mark.parametrize("mask, value, shown", [
    ("name", "张三", "张*"),
    ("name", "欧阳娜娜", "欧阳**"),
    ("id_number", "340102199003071232", "3401**********1232"),
    ("phone", "13800138000", "138****8000"),
    ("address", "安徽省合肥市瑶海区长江东路 8 号", "安徽省合肥市****"),
    ("address", "瑶海区", "瑶****"),
    ("address", "北京市朝阳区建国路 1 号", "北京市朝阳区****"),
    ("address", "长江东路 8 号 3 幢 1201 室", "长江东路 8****"),
    ("tail4", "A12345678", "****5678"),
    ("tail4", "1234", "****"),
    ("year", "1990-03-07", "1990-**-**"),
    ("none", "有效", "有效"),
])
def test_mask_kinds(mask, value, shown):
    assert mask_value(Field("x", "测试", mask=mask, sensitive=True), value) == shown


def test_disclose_defaults_to_the_counter_set_masked():
    card = get_type("resident_id_card")
    assert disclose(card, VALID["resident_id_card"]) == {
        "name": "张*", "id_number": "3401**********1232", "valid_until": "2035-06-01"}
    driving = get_type("driving_licence")
    assert disclose(driving, VALID["driving_licence"]) == {
        "name": "张*", "vehicle_class": "C1", "valid_until": "2028-05-04", "status": "有效"}


@pytest.mark.parametrize("code", sorted(VALID))
def test_counter_set_never_shows_a_sensitive_value_in_full(code):
    licence_type = get_type(code)
    shown = disclose(licence_type, VALID[code])
    assert list(shown) == [k for k in licence_type.counter_fields if k in VALID[code]]
    for key, value in shown.items():
        if licence_type.field(key).sensitive:
            assert value != VALID[code][key]
    assert NAME not in shown.values() and ID_NUMBER not in shown.values()


def test_explicitly_chosen_fields_are_shown_in_full_and_only_those():
    card = get_type("resident_id_card")
    shown = disclose(card, VALID["resident_id_card"], ["name", "address"])
    assert shown == {"name": NAME, "address": VALID["resident_id_card"]["address"]}
    assert disclose(card, VALID["resident_id_card"], []) == {}


def test_disclose_refuses_unknown_fields():
    with pytest.raises(LicenceDataError) as caught:
        disclose(get_type("resident_id_card"), VALID["resident_id_card"], ["name", "salary"])
    assert list(caught.value.errors) == ["salary"]


# --- GET /api/v1/licence-types ------------------------------------------------------------------

def test_route_lists_the_catalogue_without_auth(client):
    response = client.get("/api/v1/licence-types")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [i["code"] for i in items] == [t.code for t in all_types()]
    card = next(i for i in items if i["code"] == "resident_id_card")
    assert card["name"] == "居民身份证" and card["type_code"] == get_type("resident_id_card").type_code
    assert card["counter_fields"] == ["name", "id_number", "valid_until"]
    id_field = next(f for f in card["fields"] if f["key"] == "id_number")
    assert {"key": "id_number", "label": "公民身份号码", "type": "id_number", "sensitive": True,
            "required": True}.items() <= id_field.items()
    for item in items:
        for field in item["fields"]:
            assert {"key", "label", "type", "sensitive", "required"} <= set(field)


def test_route_is_cacheable_with_an_etag(client):
    response = client.get("/api/v1/licence-types")
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    etag = response.headers["ETag"]
    again = client.get("/api/v1/licence-types", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    other = client.get("/api/v1/licence-types", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


def test_route_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/licence-types"]["get"]
    assert "security" not in operation or operation["security"] == []
    assert "200" in operation["responses"]
