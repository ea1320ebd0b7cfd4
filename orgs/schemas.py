"""Enterprise schemas (企业): requests and answers of /enterprises."""
from __future__ import annotations

import marshmallow as ma

_USCC_DOC = ("统一社会信用代码（GB 32100-2015）：18 位，字符集 0-9 及 ABCDEFGHJKLMNPQRTUWXY（不含 I、O、Z、S、V），"
             "第 3–8 位为行政区划代码（GB/T 2260），第 9–17 位为组织机构代码（GB 11714，含校验码），第 18 位为校验码"
             "（MOD 31）；大小写不限，空格与连字符忽略。不符合时 422 uscc_invalid，且不查询登记系统")
STATUS_DOC = "登记状态：1 存续/在业，2 吊销，3 注销，4 迁出，9 其他"
ROLES = ("legal_representative", "agent")


class RegisterEnterpriseSchema(ma.Schema):
    # The pattern is documented, not validated here: the full check is app/uscc.py's, 422 uscc_invalid.
    uscc = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40),
                            metadata={"example": "91340100MA2RX7K01F", "description": _USCC_DOC})
    legal_rep_id_number = ma.fields.String(
        load_default=None, validate=ma.validate.Length(min=1, max=32),
        metadata={"example": "340102199003071232",
                  "description": "法定代表人（本人）的身份证号码：仅当账号只保存了身份证号码的索引（网号账号）时需要，"
                                 "须与账号的实名身份一致（否则 422 legal_rep_id_number_invalid）；只发送给登记系统核验，不保存"})


class EnterpriseSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "en_5f2c0a9d1b3e4f60"})
    uscc = ma.fields.String(metadata={"example": "91340100MA2RX7K01F"})
    name = ma.fields.String(metadata={"example": "示例科技有限公司"})
    entity_type = ma.fields.String(metadata={"example": "有限责任公司"})
    status = ma.fields.String(metadata={"enum": ["1", "2", "3", "4", "9"], "description": STATUS_DOC})
    region_code = ma.fields.String(metadata={"example": "340100", "description": "行政区划代码（GB/T 2260）"})
    registered_at = ma.fields.DateTime()
    role = ma.fields.String(metadata={"enum": list(ROLES), "description": "我在该企业的身份：法定代表人或经办人"})
    scopes = ma.fields.List(ma.fields.String(), allow_none=True,
                            metadata={"description": "经办人的授权范围；法定代表人为 null（拥有全部权限）"})
    expires_at = ma.fields.DateTime(allow_none=True, metadata={"description": "经办人授权的截止时间；法定代表人为 null"})


class RegisteredEnterpriseSchema(ma.Schema):
    id = ma.fields.String(metadata={"example": "en_5f2c0a9d1b3e4f60"})
    uscc = ma.fields.String(metadata={"example": "91340100MA2RX7K01F"})
    name = ma.fields.String(metadata={"example": "示例科技有限公司"})
    status = ma.fields.String(metadata={"enum": ["1"], "description": STATUS_DOC})
    role = ma.fields.String(metadata={"enum": ["legal_representative"]})


class EnterpriseListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EnterpriseSchema))
