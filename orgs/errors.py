"""Enterprise errors (企业): stable codes the apps localise, Chinese details citizens can read."""
from __future__ import annotations

from app.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from app.i18n import N_


class UsccInvalid(ValidationFailed):
    # Checked locally (app/uscc.py) before anything is sent to the registry.
    code, detail = "uscc_invalid", N_("统一社会信用代码不正确（应为 18 位，并通过 GB 32100 校验），请核对。")


class EnterpriseNotFound(NotFound):
    code, detail = "enterprise_not_found", N_("企业不存在。")


class EnterpriseNotInRegistry(EnterpriseNotFound):
    detail = N_("市场主体登记中没有该统一社会信用代码的企业，请核对。")


class EnterpriseInactive(Conflict):
    # extra `registry_status`: "2" 吊销, "3" 注销, "4" 迁出, "9" 其他
    code, detail = "enterprise_inactive", N_("该企业已被吊销、注销或迁出，不能注册。")


class NotLegalRepresentative(Forbidden):
    # One answer for a wrong name and a wrong ID number: the form cannot be used to learn either.
    code, detail = "not_legal_representative", N_("经市场主体登记核验，您不是该企业的法定代表人。")


class EnterpriseExists(Conflict):
    code, detail = "enterprise_exists", N_("该企业已注册。")


class BusinessRegistryUnavailable(ServiceUnavailable):
    code, detail = "business_registry_unavailable", N_("市场主体登记核验服务暂时不可用，请稍后再试。")


class LegalRepIdInvalid(ValidationFailed):
    # A 网号 account keeps only the ID number's blind index: the LR check needs the number itself,
    # typed by the citizen, and it must be the account's own.
    code, detail = "legal_rep_id_number_invalid", N_("请填写您本人的身份证号码（须与账号的实名身份一致），用于核验法定代表人。")
