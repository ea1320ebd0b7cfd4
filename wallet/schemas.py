"""Request and response shapes of the wallet endpoints."""
from __future__ import annotations

import marshmallow as ma

from app.i18n import N_
from wallet.catalogue import all_types
from wallet.matters import CODE_PATTERN
from wallet.schemas_holders import (
    CounterHolderSchema, HolderSchema, MaskedHolderSchema, ShownBySchema, VerifiedHolderSchema,
)


class LicenceFieldSchema(ma.Schema):
    """One field of a licence type in the public catalogue."""

    key = ma.fields.String(metadata={"example": "id_number"})
    label = ma.fields.String(metadata={"example": "公民身份号码"})
    type = ma.fields.String(metadata={"example": "id_number",
                                      "description": "string, date, date_or_permanent, id_number, credit_code, enum, decimal"})
    sensitive = ma.fields.Boolean(metadata={"description": "敏感字段：亮证时默认打码"})
    required = ma.fields.Boolean()
    holder = ma.fields.Boolean(metadata={"description": "标识持证人的证件号字段"})
    same_as = ma.fields.String(allow_none=True, metadata={
        "description": "该字段重复的证照事实：holder.name 持证人姓名、holder.id_number 持证人证件号（发证时须与持证人一致；"
                       "柜台核验时并入 holder，只显示一次）、licence.status 证照状态（值始终取自证照当前状态）、"
                       "licence.valid_from / licence.valid_until 有效期（发证时须与顶层有效期一致）"})
    enum = ma.fields.List(ma.fields.String(), metadata={"description": "枚举取值（type 为 enum 时）"})


class LicenceTypeSchema(ma.Schema):
    """A catalogue entry — 证照类型."""

    code = ma.fields.String(metadata={"example": "resident_id_card"})
    name = ma.fields.String(metadata={"example": "居民身份证"})
    type_code = ma.fields.String(metadata={"example": "11100000000012345D001",
                                           "description": "电子证照标识中的证照类型代码（示例性代码）"})
    fields = ma.fields.List(ma.fields.Nested(LicenceFieldSchema))
    counter_fields = ma.fields.List(ma.fields.String(), metadata={"description": "柜台默认展示的字段（最小必要）"})


class LicenceTypeListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LicenceTypeSchema))


# --- Issuing (发证) and the holder's wallet ------------------------------------------------------

STATUS_CODES = ("01", "02", "03", "04", "05", "06", "07", "99")


class IssueLicenceSchema(ma.Schema):
    """An issuer's request to issue a licence; `reference` is the issuer's idempotency key."""

    # The enum is documented, not validated here: an unknown code keeps its own error, 422 licence_type_unknown.
    type_code = ma.fields.String(required=True, validate=ma.validate.Length(1, 64),
                                 metadata={"example": "driving_licence", "description": "目录中的证照类型 code",
                                           "enum": [t.code for t in all_types()]})
    holder = ma.fields.Nested(HolderSchema, required=True)
    data = ma.fields.Dict(required=True, metadata={"description": "证照字段（见 /licence-types）"})
    valid_from = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(load_default=None, allow_none=True, metadata={"description": "空值表示长期有效"})
    reference = ma.fields.String(required=True, validate=ma.validate.Length(1, 128),
                                 metadata={"description": "发证方业务流水号：重复提交返回同一证照"})


class ChangeStatusSchema(ma.Schema):
    status_code = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUS_CODES[1:]),
                                   metadata={"example": "07", "description": "02 暂扣 03 撤销 04 注销 05 失效 06 办理转出 07 吊销 99 其他"})
    reason = ma.fields.String(required=True, validate=ma.validate.Length(1, 256))


REISSUE_KINDS = ("reissue", "renewal", "change")  # wallet/lifecycle.py REISSUE_KINDS (a test keeps them equal)
_TRANSITIONS_DOC = ("允许的状态变更（其余返回 409 licence_transition_forbidden，并列出 from、to、allowed）：01 有效 → 02/03/04/05/06/07/99；"
                    "02 暂扣 → 01（解除暂扣，恢复有效）/03/04/05/07/99；03 撤销、04 注销、05 失效、06 办理转出、07 吊销、99 其他为终止状态。"
                    "每次变更生成新版本：电子证照标识的版本段加 1 并重新签名，旧版本保留")


class StatusChangeSchema(ma.Schema):
    """A status change by the issuer, as the life cycle allows (wallet/lifecycle.py)."""

    status_code = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUS_CODES),
                                   metadata={"example": "01", "description": _TRANSITIONS_DOC})
    reason = ma.fields.String(required=True, validate=ma.validate.Length(1, 256),
                              metadata={"example": "暂扣期满，解除暂扣", "description": "变更原因：记入证照历史，持证人在证照详情中可见"})


class ReissueSchema(ma.Schema):
    """Re-issue (补领), renewal (换领) or change (变更): a new version of the licence, status 01."""

    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(REISSUE_KINDS), metadata={
        "example": "renewal", "description": "reissue 补领（遗失、损毁）；renewal 换领（有效期满等）；change 变更（信息变更）。"
                                             "仅 01 有效、05 失效的证照可以（否则 409 licence_reissue_forbidden）"})
    reason = ma.fields.String(required=True, validate=ma.validate.Length(1, 256), metadata={"example": "有效期满换证"})
    data = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(1, 64)), load_default=dict,
                          validate=ma.validate.Length(max=64), metadata={
                              "maxProperties": 64, "description": "变更的证照字段（并入当前数据后按发证规则整体校验；持证人证件号不可变更）"})
    holder_name = ma.fields.String(validate=ma.validate.Length(1, 64), metadata={"description": "新的持证人姓名（变更时）"})
    valid_from = ma.fields.Date(metadata={"description": "新的有效期起始日期（省略则不变）"})
    valid_until = ma.fields.Date(allow_none=True, metadata={
        "description": "新的有效期截止日期（省略则不变；null 表示长期有效）。数据中的有效期字段随之更新，除非 data 另行给出"})


class EventActorSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "发证方视图：client（发证机关系统）；持证人视图：issuer（发证机关）"})
    id = ma.fields.String(allow_none=True, metadata={"description": "发证方视图：执行变更的客户端 id"})
    name = ma.fields.String(allow_none=True, metadata={"description": "持证人视图：发证机关名称"})


class LicenceEventSchema(ma.Schema):
    """One event of the licence's life cycle, oldest first."""

    version = ma.fields.Integer(metadata={"description": "该事件生成的版本"})
    identifier = ma.fields.String(metadata={"description": "该版本的电子证照标识"})
    kind = ma.fields.String(metadata={"description": "issued 签发；status 状态变更；reissue 补领；renewal 换领；change 变更",
                                      "enum": ["issued", "status", *REISSUE_KINDS]})
    kind_label = ma.fields.String(metadata={"example": "状态变更"})
    from_status = ma.fields.String(allow_none=True)
    from_label = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    to_label = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    actor = ma.fields.Nested(EventActorSchema)
    at = ma.fields.DateTime()


class IssuerRefSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class IssuedLicenceSchema(ma.Schema):
    """A licence as its issuer sees it."""

    id = ma.fields.String()
    identifier = ma.fields.String(metadata={"description": "电子证照标识 (GB/T 36904)"})
    type_code = ma.fields.String()
    reference = ma.fields.String()
    issuer = ma.fields.Nested(IssuerRefSchema)
    status = ma.fields.String(metadata={"example": "01"})
    status_label = ma.fields.String(metadata={"example": "有效"})
    status_reason = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    holder = ma.fields.Nested(MaskedHolderSchema)
    parked = ma.fields.Boolean(metadata={"description": "持证人尚未实名注册：证照暂存，实名后自动归入其卡包"})
    parked_reason = ma.fields.String(allow_none=True, metadata={
        "description": "暂存原因：awaiting_real_name 持证人尚未实名；awaiting_enterprise_registration 持证企业尚未注册；"
                       "holder_name_mismatch 持证人已实名，但实名姓名与证照持证人姓名"
                       "不一致（证照保持暂存，请核对后重新发证）"})
    valid_from = ma.fields.Date()
    valid_until = ma.fields.Date(allow_none=True)
    key_id = ma.fields.String()
    canonical_sha = ma.fields.String(metadata={"description": "签名原文的 SM3 摘要（hex）"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    history = ma.fields.List(ma.fields.Nested(LicenceEventSchema), metadata={"description": "证照历史：签发、状态变更、补领/换领/变更"})


class WalletLicenceSchema(ma.Schema):
    """A licence in the holder's wallet list."""

    id = ma.fields.String()
    identifier = ma.fields.String()
    type_code = ma.fields.String()
    type_name = ma.fields.String()
    issuer_name = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.String()
    valid_from = ma.fields.Date()
    valid_until = ma.fields.Date(allow_none=True)
    version = ma.fields.Integer()
    summary = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                             metadata={"description": "柜台默认展示字段（敏感项打码）"})
    derived_fields = ma.fields.List(ma.fields.String(), metadata={
        "description": "取值实时取自证照当前状态、而非存储的证照数据的字段（如驾驶证“状态”）：签名覆盖的是发证机关签发该版本时的取值"})


class WalletLicenceListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(WalletLicenceSchema))
    next_cursor = ma.fields.String(allow_none=True)


class WalletListArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))


class SignatureStatusSchema(ma.Schema):
    """The issuer's signature of the licence's current version, checked now against the key that made
    it (issuers/keys.py; the key as the trust list GET /.well-known/yiwang/issuers publishes it)."""

    valid = ma.fields.Boolean(metadata={
        "description": "签名验证通过，且签名密钥在签名时未被吊销（吊销起始时间及之后签名的版本为 false）"})
    key_id = ma.fields.String(allow_none=True, metadata={
        "description": "签名密钥的 kid（信任列表中的标识）；未登记的旧密钥为 null", "example": "3f9a0c51d2e4b768"})
    key_status = ma.fields.String(metadata={
        "description": "active | retired（已轮换，仍可验证）| expired | revoked | unregistered"})
    revoked_since = ma.fields.DateTime(allow_none=True, metadata={"description": "密钥被吊销的起始时间"})
    signed_at = ma.fields.DateTime(metadata={"description": "当前版本的签名时间"})


class WalletLicenceDetailSchema(WalletLicenceSchema):
    """One licence: all fields (sensitive ones masked) and the signature checked now."""

    class Meta:
        exclude = ("summary",)

    status_reason = ma.fields.String(allow_none=True)
    issuer_code = ma.fields.String()
    holder = ma.fields.Nested(MaskedHolderSchema)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    key_id = ma.fields.String()
    signature_b64 = ma.fields.String(metadata={"description": "发证机关 SM2 签名 (DER, base64)"})
    canonical_sha = ma.fields.String()
    signature_valid = ma.fields.Boolean(metadata={"description": "用发证机关公钥验证签名的结果（实时），同 signature.valid"})
    signature = ma.fields.Nested(SignatureStatusSchema)
    history = ma.fields.List(ma.fields.Nested(LicenceEventSchema), metadata={
        "description": "证照历史（由早到晚）：每次签发、状态变更（含解除暂扣）、补领/换领/变更，及其原因、时间和发证机关"})


# --- Presentations (亮证) and counter verification ---------------------------------------------

class CreatePresentationSchema(ma.Schema):
    fields = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 64)), load_default=None,
                            allow_none=True, validate=ma.validate.Length(1, 32),
                            metadata={"description": "持证人选择出示的字段（完整显示）；省略则为柜台默认字段（敏感项打码）"})
    purpose = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=40),
                               metadata={"example": "办理社保卡"})


class PresentationSchema(ma.Schema):
    id = ma.fields.String()
    qr_text = ma.fields.String(metadata={"description": "二维码内容（≤ 300 字符，一次有效）"})
    expires_at = ma.fields.DateTime()
    refresh_after = ma.fields.DateTime(metadata={"description": "此时之后应刷新二维码"})
    fields = ma.fields.List(ma.fields.String(), metadata={"description": "出示的字段"})
    manual_code = ma.fields.String(metadata={"description": "8 位手工核验码（扫码失败时柜员输入）"})


class CreateOfflinePresentationSchema(ma.Schema):
    matter = ma.fields.String(required=True, validate=ma.validate.Regexp(CODE_PATTERN), metadata={
        "example": "vehicle_check",
        "description": "用证事项：离线码只含该事项对此类证照出示的字段（按事项的方式完整、打码或仅后 4 位）。"
                       "不存在或已停用的事项返回 422 matter_unknown（allowed_matters）；事项不接受该证照类型时返回 422 "
                       "matter_not_applicable（accepted_types）"})


class OfflineQrSizeSchema(ma.Schema):
    bytes = ma.fields.Integer(metadata={"description": "签名载荷字节数（含 64 字节签名）", "example": 262})
    chars = ma.fields.Integer(metadata={"description": "二维码文本字符数", "example": 398})
    qr_version = ma.fields.Integer(metadata={"description": "纠错等级 M 时的二维码版本（≤ 15）", "example": 12})


class OfflinePresentationSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "使用记录中的亮证编号"})
    qr_text = ma.fields.String(metadata={
        "description": "离线可验的二维码内容：YWO1: + base45（RFC 9285）(载荷 ‖ 64 字节 SM2 签名 r‖s)。"
                       "字节格式见 wallet/offline/format.py 与本接口说明；验证方只需缓存的信任列表 "
                       "GET /.well-known/yiwang/issuers（platform_keys 中 purpose 为 presentation 的公钥）"})
    expires_at = ma.fields.DateTime(metadata={"description": "失效时间（生成后 ≤ 5 分钟）"})
    matter = ma.fields.String(metadata={"example": "vehicle_check"})
    fields = ma.fields.List(ma.fields.String(), metadata={"description": "离线码中出示的字段名"})
    qr_png = ma.fields.String(metadata={"description": "二维码 PNG（base64；纠错等级 M，与在线亮证码同样渲染）"})
    size = ma.fields.Nested(OfflineQrSizeSchema)


class OfflineMatterSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "vehicle_check"})
    name = ma.fields.String(metadata={"example": "驾驶资格核查"})
    fields = ma.fields.List(ma.fields.Nested("MatterFieldSchema"), metadata={"description": "离线码中出示的字段及方式"})


class OfflineMatterListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OfflineMatterSchema))


class VerificationRequestSchema(ma.Schema):
    qr_text = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 300))
    manual_code = ma.fields.String(load_default=None, validate=ma.validate.Length(1, 16))
    matter = ma.fields.String(required=True, validate=ma.validate.Regexp(CODE_PATTERN), metadata={
        "example": "hotel_check_in",
        "description": "用证事项（必填；柜员扫码前选择，见 GET /counter/matters）：决定可核验的证照类型和柜台看到的字段"
                       "（最小必要），持证人自选的字段和自填的用途不起作用。事项目录在运行时维护（/admin/matters）："
                       "不存在或已停用的事项返回 422 matter_unknown（allowed_matters 列出当前可选的事项），亮证码不作废；"
                       "事项不接受该证照类型时返回 422 matter_not_applicable（accepted_types 列出可核验的类型），亮证码不作废"})

    @ma.validates_schema
    def _one_of(self, data, **kwargs):
        if (data.get("qr_text") is None) == (data.get("manual_code") is None):
            raise ma.ValidationError(N_("qr_text 与 manual_code 须且只须提供一个。"), field_name="qr_text")


class SupersededSchema(ma.Schema):
    version = ma.fields.Integer(metadata={"description": "出示的（已被取代的）版本"})
    identifier = ma.fields.String(allow_none=True, metadata={"description": "出示版本的电子证照标识"})
    current_version = ma.fields.Integer(metadata={"description": "当前版本（本次核验结果即当前版本）"})
    current_identifier = ma.fields.String()


class VerifiedLicenceSchema(ma.Schema):
    identifier = ma.fields.String(metadata={"description": "当前版本的电子证照标识"})
    version = ma.fields.Integer(metadata={"description": "当前版本：核验结果总是当前版本"})
    superseded = ma.fields.Nested(SupersededSchema, allow_none=True, metadata={
        "description": "出示的是旧版本时（亮证后证照已补领、换领、变更或状态变更）：出示的版本与当前版本；否则为 null"})
    signature = ma.fields.Nested(SignatureStatusSchema)
    type_code = ma.fields.String()
    type_name = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.String()
    issuer = ma.fields.String()
    valid_until = ma.fields.Date(allow_none=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), metadata={
        "description": "出示的其余字段：与持证人、证照状态或有效期重复的字段不在此处（见 merged_fields），每项事实只出现一次"})
    merged_fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), metadata={
        "description": "出示的、已并入其他位置的字段 → 所并入的事实（holder.name、holder.id_number、licence.status、"
                       "licence.valid_until；企业证照：统一社会信用代码 → holder.uscc、企业名称 → holder.name，"
                       "法定代表人等个人字段保留在 fields 中）", "example": {"name": "holder.name", "status": "licence.status"}})


class MatterRefSchema(ma.Schema):
    """A 用证事项 as an answer names it, with its legal basis (in the answer's language)."""

    code = ma.fields.String(metadata={"example": "hotel_check_in"})
    name = ma.fields.String(metadata={"example": "旅馆住宿登记"})
    legal_basis = ma.fields.String(metadata={
        "description": "法律依据", "example": "《旅馆业治安管理办法》第六条：旅馆接待旅客住宿必须登记，登记时应当查验旅客的身份证件"})


class VerificationSchema(ma.Schema):
    result = ma.fields.String(metadata={"example": "verified"})
    shown_by = ma.fields.Nested(ShownBySchema, allow_none=True, metadata={
        "description": "企业证照：代企业出示的人（经办人或法定代表人，其打码姓名）；个人证照为 null"})
    licence = ma.fields.Nested(VerifiedLicenceSchema)
    holder = ma.fields.Nested(VerifiedHolderSchema, metadata={
        "description": "持证人。按事项核验时只含该事项出示的持证人事实（如驾驶资格核查不含证件号）"})
    matter = ma.fields.Nested(MatterRefSchema, allow_none=True, metadata={"description": "本次核验的用证事项"})
    disclosed = ma.fields.List(ma.fields.String(), metadata={"description": "柜台看到的字段名（按事项核验时即事项的字段）"})
    purpose = ma.fields.String(allow_none=True, metadata={"description": "持证人亮证时自填的用途（可空）"})
    checked_at = ma.fields.DateTime()


class CounterCheckSchema(ma.Schema):
    checked_at = ma.fields.DateTime()
    result = ma.fields.String()
    type_code = ma.fields.String(allow_none=True)
    type_name = ma.fields.String(allow_none=True)
    holder = ma.fields.Nested(CounterHolderSchema)
    fields = ma.fields.List(ma.fields.String())
    matter = ma.fields.Nested(MatterRefSchema, allow_none=True)


class CounterCheckListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CounterCheckSchema))


class UsageSchema(ma.Schema):
    licence_id = ma.fields.String()
    presentation_id = ma.fields.String()
    verified_at = ma.fields.DateTime()
    result = ma.fields.String(metadata={"description": "verified 或拒绝原因"})
    hall = ma.fields.String(allow_none=True, metadata={"description": "网点编码"})
    hall_name = ma.fields.String(allow_none=True, metadata={"description": "网点名称（网点已不在目录中时为 null）"})
    clerk = ma.fields.String(allow_none=True)
    fields = ma.fields.List(ma.fields.String(), metadata={"description": "柜台看到的字段名（不含字段值）"})
    field_labels = ma.fields.List(ma.fields.String(), metadata={
        "description": "同 fields，按回答语言的字段名称（不含字段值）", "example": ["姓名", "公民身份号码"]})
    matter = ma.fields.Nested(MatterRefSchema, allow_none=True, metadata={
        "description": "柜员选择的用证事项（按事项核验时；旧的核验记录为 null）"})
    purpose = ma.fields.String(allow_none=True, metadata={"description": "持证人亮证时自填的用途"})


class UsageListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(UsageSchema))
    next_cursor = ma.fields.String(allow_none=True)
