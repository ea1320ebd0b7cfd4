"""Languages of the answers people read: zh-CN by default, English on `Accept-Language: en`.

Stable codes are the keys: an error's `code`, a licence status `"01"`, a case status
`"in_review"`. Each feature keeps its own words next to its data (an `AppError` subclass carries
`detail_en`; a status table has an English twin registered here with `register_labels`), so a new
error or status brings its translation where it is defined. Codes and field names never change
with the language; only the sentences and labels do.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator, Mapping

from flask import Flask, g, has_request_context, request

ZH = "zh-CN"
EN = "en"
DEFAULT = ZH
LANGUAGES = (ZH, EN)

_override: ContextVar[str | None] = ContextVar("yiwang_language", default=None)
_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*")
_Q = re.compile(r"q\s*=\s*([01](?:\.\d{0,3})?)\s*$", re.IGNORECASE)
_MAX_HEADER = 512  # a longer header is cut, not parsed in full: it costs nothing to refuse


def negotiate(header: str | None) -> str:
    """The answer's language for an `Accept-Language` value (RFC 9110 §12.5.4, quality values).

    The supported language with the highest weight wins (ties: the earlier entry); `en`, `en-US`,
    `en-GB;q=0.9` mean English, `zh`, `zh-CN`, `zh-Hant` Chinese; `*`, a missing header, weight 0
    and anything unparseable fall back to zh-CN. Never raises."""
    if not header or not isinstance(header, str):
        return DEFAULT
    best, best_q = DEFAULT, -1.0
    for item in header[:_MAX_HEADER].split(","):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not _TAG.fullmatch(tag):
            continue
        q = _quality(params)
        if q <= 0:
            continue
        primary = tag.split("-", 1)[0].lower()
        language = EN if primary == "en" else ZH if primary in ("zh", "*") else None
        if language is not None and q > best_q:
            best, best_q = language, q
    return best


def _quality(params: str) -> float:
    if not params.strip():
        return 1.0
    for param in params.split(";"):
        if param.strip().lower().startswith("q"):
            match = _Q.fullmatch(param.strip())
            return float(match.group(1)) if match and float(match.group(1)) <= 1 else 0.0
    return 1.0


def language() -> str:
    """The language of the answer being built: an explicit `use()` block, else the request's
    `Accept-Language`, else zh-CN (CLI, background tasks)."""
    chosen = _override.get()
    if chosen is not None:
        return chosen
    if not has_request_context():
        return DEFAULT
    found = g.get("language")
    if found is None:
        found = g.language = negotiate(request.headers.get("Accept-Language"))
    return found


def is_english() -> bool:
    return language() == EN


@contextmanager
def use(lang: str) -> Iterator[None]:
    """Answer in `lang` inside the block — for work done off the request's thread (e.g. the
    parts of a screen fetched concurrently), which cannot see the request's headers."""
    token = _override.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _override.reset(token)


def pick(zh: str, en: str | None) -> str:
    """`en` when the answer is English and there is an English text, else `zh`."""
    return en if en and is_english() else zh


# --- Labels: stable code → words, per kind -------------------------------------------------------

_LABELS: dict[str, tuple[Mapping[Any, str], Mapping[Any, str]]] = {}


def register_labels(kind: str, zh: Mapping[Any, str], en: Mapping[Any, str]) -> None:
    """Make `label(kind, code)` answer from these tables (the feature keeps them; we keep references)."""
    _LABELS[kind] = (zh, en)


def label(kind: str, code: Any) -> Any:
    """The label of `code` in the answer's language; the Chinese label when there is no English
    one; the code itself when it has no label at all (None stays None)."""
    if code is None:
        return None
    zh, en = _LABELS[kind]
    chinese = zh.get(code)
    if chinese is None:
        return code
    return pick(chinese, en.get(code))


# --- Messages keyed by stable code (problems without a class of their own) -----------------------

_MESSAGES_EN: dict[str, str] = {
    # Werkzeug / generic HTTP problems (app/errors.py _HTTP_CODES) and the handlers' own codes.
    "bad_request": "The request is malformed.",
    "unauthorized": "Please sign in first.",
    "forbidden": "You are not allowed to do this.",
    "not_found": "The requested resource was not found.",
    "method_not_allowed": "This request method is not supported.",
    "not_acceptable": "The requested format cannot be provided.",
    "conflict": "The request conflicts with the current state.",
    "precondition_failed": "A precondition was not met.",
    "payload_too_large": "The request body is too large.",
    "unsupported_media_type": "Unsupported content type; please send JSON.",
    "validation_failed": "Some request parameters are invalid; please check and try again.",
    "precondition_required": "A precondition is required.",
    "rate_limited": "Too many requests; please try again later.",
    "http_error": "The request cannot be processed.",
    "service_unavailable": "The service is temporarily unavailable; please try again later.",
    "internal_error": "Internal server error; please try again later.",
    # Codes given at a raise site (no class of their own).
    "user_not_found": "The account does not exist or has been closed.",
    "username_taken": "The username is already taken.",
    "staff_not_found": "The staff account does not exist.",
    "staff_locked": "Too many failed sign-ins; the account is locked for a while, please try again later.",
    "name_invalid": "The name is not in a valid format.",
    "liveness_session_not_found": "The face verification session does not exist or has expired; please start again.",
    "batch_too_large": "Too many documents in one signing batch.",
    "queue_push_rate_limited": "Queue length reported too often; please try again later.",
    "sms_resend_too_soon": "Codes are being requested too often; please try again later.",
    "sms_limit_reached": "Too many codes requested for this phone number; please try again later.",
    "real_name_attempts_exceeded": "Too many real-name verification attempts today; please try again tomorrow.",
    "map_rate_limited": "Too many searches; please try again later.",
    "proxy_attempts_exceeded": "Too many authorisation changes; please try again later.",
}


def message_en(code: str) -> str | None:
    """The English sentence for a problem code that has no class of its own, if known."""
    return _MESSAGES_EN.get(code)


# --- Field reasons (the `errors` map of a 422) ---------------------------------------------------

# The app's own Chinese field reasons, in English. Reasons built with values (f-strings) are
# matched by their fixed prefix in _REASON_PREFIXES_EN.
_REASONS_EN: dict[str, str] = {
    "请输入 11 位中国大陆手机号码。": "Enter an 11-digit mainland China mobile number.",
    "请输入与身份证一致的姓名。": "Enter the name exactly as on the ID card.",
    "分页游标无效。": "The cursor is invalid.",
    "未知的证照类型。": "Unknown licence type.",
    "应与持证人身份证号码一致。": "Must match the holder's ID number.",
    "截止日期应晚于起始日期。": "The end date must be after the start date.",
    "与持证人的实名信息不一致。": "Does not match the holder's real-name record.",
    "应与持证人姓名一致。": "Must match the holder's name.",
    "应与证照有效期起始日期（valid_from）一致。": "Must match the licence's valid_from.",
    "应与证照有效期截止日期（valid_until）一致。": "Must match the licence's valid_until.",
    "应与证照状态一致：新发证照的状态为“有效”。": "Must match the licence's status: a newly issued licence is valid.",
    "日期格式应为 YYYY-MM-DD。": "Dates are written YYYY-MM-DD.",
    "日期不存在。": "This date does not exist.",
    "统一社会信用代码格式或校验位不正确（GB 32100）。": "Invalid unified social credit code (format or check character, GB 32100).",
    "应为非负数，最多 4 位小数。": "Must be a non-negative number with at most 4 decimal places.",
    "证照数据应为对象。": "Licence data must be an object.",
    "目录中没有该字段。": "The catalogue has no such field.",
    "不是有效的 Base64 编码。": "Not valid Base64.",
    "证书无法解析。": "The certificate cannot be parsed.",
    "Base64 编码无效。": "Invalid Base64.",
    "请说明不满意的原因，或选择标签。": "Please give the reason for your dissatisfaction, or choose a tag.",
    "请至少选择一项。": "Choose at least one.",
    "格式不正确。": "Invalid format.",
    "该 openid 未与当前账号绑定。": "This openid is not bound to the current account.",
    "只能使用当前账号绑定的手机号。": "Only the phone number bound to this account can be used.",
    "qr_text 与 manual_code 须且只须提供一个。": "Give exactly one of qr_text and manual_code.",
    "document_b64 与 e_hex 须且仅须提供其一。": "Give exactly one of document_b64 and e_hex.",
    "需要 wechat_code，或 phone 与 code。": "Give wechat_code, or phone and code.",
    "身份证号码应为 18 位，前 17 位为数字，最后一位为数字或 X。":
        "An ID number has 18 characters: 17 digits, then a digit or X.",
    "身份证号码的地区码无效。": "The area code in the ID number is invalid.",
    "身份证号码中的出生日期无效。": "The date of birth in the ID number is invalid.",
    "身份证号码校验位不正确，请核对。": "The check digit of the ID number is wrong; please check it.",
    "不支持的密钥用途。": "Unsupported key usage.",
    "有效期超出 CA 证书有效期。": "The validity exceeds the CA certificate's.",
    "证书主体格式有误。": "The certificate subject is malformed.",
    "取值不在允许范围内。": "The value is not one of the allowed values.",
    "应为字符串。": "Must be a string.",
    "须为 64 位十六进制。": "Must be 64 hexadecimal digits.",
    "签名密码须为 6 位数字。": "The signing PIN must be 6 digits.",
    "不是有效的数字。": "Not a valid number.",
    "不能是 NaN 或无穷大。": "Cannot be NaN or infinity.",
    "纬度应在 -90 到 90 之间。": "Latitude must be between -90 and 90.",
    "纬度应在 -85.05112878 到 85.05112878 之间。": "Latitude must be between -85.05112878 and 85.05112878.",
    "经度应在 -180 到 180 之间。": "Longitude must be between -180 and 180.",
    "坐标系应为 gcj02、wgs84 或 bd09。": "The coordinate system must be gcj02, wgs84 or bd09.",
    "事项编码格式有误。": "Malformed service item code.",
    "未知的网点类型。": "Unknown hall type.",
    "结果坐标仅提供 gcj02 或 bd09。": "Result coordinates are only available as gcj02 or bd09.",
    "排队人数应在 0 到 10000 之间。": "The queue length must be between 0 and 10000.",
    "应为 1–64 位可见 ASCII 字符（不含空格）。": "Must be 1–64 visible ASCII characters (no spaces).",
    "不能为空。": "Cannot be blank.",
    "经纬度需同时提供。": "Give both latitude and longitude.",
    "推送标识长度不符合要求。": "The push token has the wrong length.",
    "未知的推送渠道。": "Unknown push channel.",
    "发生时间不能晚于当前时间。": "The time of the event cannot be in the future.",
    "授权截止时间应晚于当前时间，且不超过 365 天。": "The expiry must be in the future and within 365 days.",
    "仅补正（supplement_required）事件可带补正截止日期。":
        "Only a supplement_required event can carry a supplement due date.",
    "补正截止日期不能早于事件发生日期。": "The supplement due date cannot be before the day of the event.",
    "与该身份证号码的实名登记姓名不一致。": "Does not match the registered real name of this ID number.",
}
_REASON_PREFIXES_EN: tuple[tuple[str, str], ...] = (
    ("缺少必填项", "Required field missing."),
    ("取值应为以下之一", "The value is not one of the allowed values."),
    ("长度不能超过", "Too long."),
    ("不可授权：", "These scopes cannot be delegated: "),
    ("搜索半径应在", "The search radius is out of range."),
    ("条数应在", "The limit is out of range."),
    ("推送渠道应为", "Unknown push channel."),
    ("不适用于该评价等级：", "Not allowed for this rating: "),
)


def reason_en(reason: str) -> str:
    """An app field reason in English: by exact lookup, then by known prefix; unknown stays."""
    found = _REASONS_EN.get(reason)
    if found is not None:
        return found
    for prefix, english in _REASON_PREFIXES_EN:
        if reason.startswith(prefix):
            # "不可授权：a, b" keeps the listed codes; the other prefixes stand alone.
            return english + reason[len(prefix):] if english.endswith(": ") else english
    return reason


# --- Response headers ------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """Every JSON answer names its language and tells caches it depends on Accept-Language."""

    @app.after_request
    def _content_language(response):
        mimetype = response.mimetype or ""
        if mimetype == "application/json" or mimetype.endswith("+json") or response.status_code == 304:
            response.headers["Content-Language"] = language()
            response.vary.add("Accept-Language")
        return response
