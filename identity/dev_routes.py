"""Development-only endpoints; registered only when APP_ENV is development or testing."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from app.errors import NotFound
from app.fields import IdNumber
from app.i18n import N_
from app.idnumber import normalize_phone
from identity import ncid
from identity import schemas as s
from identity.adapters.ncid import MODES, DevNcidGateway
from identity.service import providers

blp = Blueprint("dev", __name__, url_prefix="/api/v1/dev", description="开发环境工具 (development only)")


@blp.route("/sms-outbox")
@blp.arguments(s.SmsOutboxQuerySchema(), location="query")
@blp.response(200, s.SmsOutboxSchema())
def sms_outbox(query):
    """Codes the development SMS sender 'sent', newest first."""
    sender = providers().sms
    if not hasattr(sender, "outbox"):
        raise NotFound(N_("当前短信通道不是开发发件箱。"), code="sms_outbox_not_in_use")
    phone = normalize_phone(query["phone"]) if query.get("phone") else None
    return {"items": sender.outbox(phone)}


@blp.route("/liveness/<session_id>/complete", methods=["POST"])
@blp.arguments(s.LivenessCompleteSchema())
@blp.response(204)
def complete_liveness(body, session_id):
    """Play the liveness provider's side: mark a session passed or failed."""
    complete = getattr(providers().liveness, "complete", None)  # only the development provider has it
    if complete is None or not complete(session_id, passed=body["passed"]):
        raise NotFound(N_("活体核验会话不存在或已过期。"), code="liveness_session_not_found")


class NcidDevCredentialsSchema(ma.Schema):
    biz_seq = ma.fields.String(required=True, validate=validate.Length(min=36, max=36),
                               metadata={"description": "POST /auth/ncid/sessions 或 /me/ncid/sessions 返回的 biz_seq"})
    person = ma.fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9]{16,64}$"),
                              metadata={"description": "网络身份应用标识（appUserId，开发用）", "example": "DevPerson0000000001"})
    mode = ma.fields.String(load_default="R02", validate=validate.OneOf(MODES),
                            metadata={"description": "R01 网证；R02 网证+口令；R03 网证+人脸；R04 网证+口令+人脸"})
    name = ma.fields.String(load_default=None, validate=validate.Length(min=1, max=64),
                            metadata={"description": "仅 consent：平台经用户同意提供的姓名"})
    id_number = IdNumber(load_default=None, metadata={"description": "仅 consent：平台经用户同意提供的身份证号码"})


class NcidDevCredentialsAnswerSchema(ma.Schema):
    id_card_auth_data = ma.fields.String(required=True)
    auth_mode = ma.fields.String(required=True, validate=validate.OneOf(MODES))


@blp.route("/ncid/credentials", methods=["POST"])
@blp.arguments(NcidDevCredentialsSchema())
@blp.response(200, NcidDevCredentialsAnswerSchema())
def ncid_credentials(body):
    """Play the national app: the opaque 网证 data (id_card_auth_data) the development gateway accepts
    for `person`, to post with the session's biz_seq to the login / link / step-up / consent route."""
    if not isinstance(providers().ncid, DevNcidGateway):
        raise NotFound(N_("当前网络身份认证通道不是开发网关。"), code="ncid_dev_gateway_not_in_use")
    if not ncid.session_live(body["biz_seq"]):
        raise NotFound(N_("网络身份认证会话不存在或已过期。"), code="ncid_session_not_found")
    both = body["name"] is not None and body["id_number"] is not None
    data = ncid.dev_auth_data(body["person"], mode=body["mode"], name=body["name"] if both else None,
                              id_number=body["id_number"] if both else None)
    return {"id_card_auth_data": data, "auth_mode": body["mode"]}
