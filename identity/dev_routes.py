"""Development-only endpoints; registered only when APP_ENV is development or testing."""
from __future__ import annotations

from flask_smorest import Blueprint

from app.errors import NotFound
from app.i18n import N_
from app.idnumber import normalize_phone
from identity import schemas as s
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
    if not providers().liveness.complete(session_id, passed=body["passed"]):
        raise NotFound(N_("活体核验会话不存在或已过期。"), code="liveness_session_not_found")
