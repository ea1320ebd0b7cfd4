"""The catalogue of matters (用证事项) moves from code (wallet/matters.py, issue 16) to a table managed
at run time (`flask matters …`, /api/v1/admin/matters; issue 17): each matter has a code, zh/en names,
a legal basis (zh/en), per licence type it accepts the fields it discloses and how ("full", "masked",
"tail4"), and an active flag. Matters are never deleted (usage records name them): deactivated.

Seeded here with the eight matters of issue 16 and three more, so that `flask db upgrade` leaves a
working counter; the data is this migration's own copy (a later change to the catalogue is a
change at run time, audited, not an edit of this file)."""

import json
from datetime import datetime, timezone

import peewee as pw
from peewee_migrate import Migrator

_ID = [["name", "masked"], ["id_number", "masked"]]

# code, zh name, en name, zh legal basis, en legal basis, {licence type: [[field, how], ...]}
SEED = [
    ("identity_check", "身份核验", "Identity check",
     "《中华人民共和国居民身份证法》第十四条：法律、行政法规规定需要用居民身份证证明身份的情形",
     "Resident Identity Card Law of the PRC, art. 14: cases where laws or regulations require proof of identity",
     {"resident_id_card": _ID, "driving_licence": _ID, "household_register": _ID,
      "social_security_card": [["name", "masked"], ["social_security_number", "masked"]]}),
    ("hotel_check_in", "旅馆住宿登记", "Hotel check-in",
     "《旅馆业治安管理办法》第六条：旅馆接待旅客住宿必须登记，登记时应当查验旅客的身份证件",
     "Measures for the Public Security Administration of the Hotel Industry, art. 6: hotels register every guest "
     "and check the guest's identity document",
     {"resident_id_card": [["name", "full"], ["id_number", "tail4"], ["valid_until", "full"]]}),
    ("vehicle_check", "驾驶资格核查", "Driving entitlement check",
     "《中华人民共和国道路交通安全法》第十九条：驾驶机动车应当依法取得机动车驾驶证，按照准驾车型驾驶",
     "Road Traffic Safety Law of the PRC, art. 19: a driver holds a driving licence and drives the vehicle "
     "classes it permits",
     {"driving_licence": [["name", "masked"], ["vehicle_class", "full"], ["valid_until", "full"], ["status", "full"]]}),
    ("business_registration", "企业登记核验", "Business registration check",
     "《中华人民共和国市场主体登记管理条例》第二十二条：电子营业执照与纸质营业执照具有同等法律效力",
     "Regulations on the Registration of Market Entities of the PRC, art. 22: the electronic business licence "
     "has the same legal effect as the paper one",
     {"business_licence": [["credit_code", "full"], ["name", "full"], ["legal_representative", "masked"],
                           ["business_term_until", "full"]]}),
    ("marriage_check", "婚姻登记核验", "Marriage registration check",
     "《中华人民共和国民法典》第一千零四十九条：完成结婚登记，即确立婚姻关系",
     "Civil Code of the PRC, art. 1049: a marriage is established by its registration",
     {"marriage_certificate": [["holder_name", "masked"], ["spouse_name", "masked"], ["registered_on", "full"]]}),
    ("property_check", "不动产权属核验", "Property title check",
     "《不动产登记暂行条例》第二十七条：权利人、利害关系人可以依法查询不动产登记资料",
     "Interim Regulations on Real Property Registration, art. 27: right holders and interested parties may "
     "consult the registration records",
     {"real_estate_certificate": [["certificate_number", "full"], ["obligee", "masked"], ["location", "masked"],
                                  ["right_type", "full"]]}),
    ("social_security_service", "社保业务办理", "Social security services",
     "《中华人民共和国社会保险法》第五十八条：个人社会保障号码为公民身份号码",
     "Social Insurance Law of the PRC, art. 58: the personal social security number is the citizen's "
     "identity number",
     {"social_security_card": [["name", "masked"], ["social_security_number", "masked"],
                               ["issuing_region", "full"]]}),
    ("household_check", "户籍核验", "Household registration check",
     "《中华人民共和国户口登记条例》第四条：户口登记机关发给户口簿",
     "Regulations of the PRC on Household Registration, art. 4: the registration authority issues the "
     "household register",
     {"household_register": [["name", "masked"], ["id_number", "masked"], ["relationship_to_head", "full"],
                             ["household_type", "full"]]}),
    ("bank_account_opening", "银行开户", "Bank account opening",
     "《个人存款账户实名制规定》第六条：个人开立存款账户，应当出示本人身份证件，使用实名",
     "Provisions on the Real-Name System for Personal Savings Accounts, art. 6: a person opening an account "
     "shows their identity document and uses their real name",
     {"resident_id_card": [["name", "full"], ["id_number", "full"], ["address", "full"], ["valid_until", "full"]]}),
    ("employment_check", "入职核验", "Employment (onboarding) check",
     "《中华人民共和国劳动合同法》第八条、第十七条：用人单位有权了解劳动者与劳动合同直接相关的基本情况；"
     "劳动合同载明劳动者的姓名和居民身份证号码",
     "Labour Contract Law of the PRC, arts. 8 and 17: the employer may learn the worker's basic facts directly "
     "relevant to the contract; the contract states the worker's name and identity number",
     {"resident_id_card": [["name", "full"], ["id_number", "full"], ["sex", "full"]]}),
    ("rental_registration", "房屋租赁登记备案", "Rental registration",
     "《商品房屋租赁管理办法》第十四条、第十五条：房屋租赁合同订立后三十日内办理登记备案，提交当事人身份证明和房屋权属证明",
     "Administrative Measures for Commodity Housing Leases, arts. 14 and 15: a lease is registered within 30 "
     "days with the parties' proof of identity and the proof of title",
     {"resident_id_card": [["name", "full"], ["id_number", "full"]],
      "real_estate_certificate": [["certificate_number", "full"], ["obligee", "full"], ["location", "full"]]}),
]


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):

    @migrator.create_model
    class Matter(pw.Model):
        code = pw.CharField(max_length=32, primary_key=True)
        name_zh = pw.CharField(max_length=64)
        name_en = pw.CharField(max_length=128)
        legal_basis_zh = pw.CharField(max_length=500)
        legal_basis_en = pw.CharField(max_length=500)
        disclosures = pw.TextField()  # JSON: [[licence type, [[field, how], ...]], ...] in order
        active = pw.BooleanField(default=True)
        version = pw.IntegerField(default=1)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "wallet_matter"

    if fake:
        return

    def seed(db):
        now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
        for code, name_zh, name_en, basis_zh, basis_en, disclosures in SEED:
            db.execute_sql(  # plain SQL: this migration's own data, not today's model
                'INSERT INTO "wallet_matter" ("code", "name_zh", "name_en", "legal_basis_zh", "legal_basis_en", '
                '"disclosures", "active", "version", "created_at", "updated_at") '
                f'VALUES ({", ".join([db.param] * 10)})',
                (code, name_zh, name_en, basis_zh, basis_en, json.dumps(list(disclosures.items()), ensure_ascii=False),
                 True, 1, now, now))

    migrator.run(seed, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("wallet_matter")
