"""My login sessions (登录设备): /me/sessions — list them, revoke one I no longer trust together with
the proxy grants made in it (issue 14 item 2). Schemas beside the routes: only these use them."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from app.fields import StrictBoolean
from app.openapi import problems
from app.security.auth import auth_required, current_principal
from identity import service

blp = Blueprint("sessions", __name__, url_prefix="/api/v1/me",
                description="我的登录会话 (sign-in sessions, revoking one for compromise)")


class SessionGrantSchema(ma.Schema):
    """A proxy grant (授权代理) made with the session's tokens, as its principal sees it."""

    id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["pending", "active", "declined", "revoked", "expired"]})
    scopes = ma.fields.List(ma.fields.String())
    scope_labels = ma.fields.List(ma.fields.String())
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    revoked_at = ma.fields.DateTime(allow_none=True)
    revoked_by = ma.fields.String(allow_none=True)
    proxy = ma.fields.Dict(metadata={"description": "代办人：{id, name_masked, phone_masked}"})


class SessionSchema(ma.Schema):
    id = ma.fields.String()
    channel = ma.fields.String(metadata={"description": "app | miniprogram | …"})
    created_at = ma.fields.DateTime(metadata={"description": "登录时间"})
    revoked_at = ma.fields.DateTime(allow_none=True)
    current = ma.fields.Boolean(metadata={"description": "是否为本次请求所用的会话"})
    proxy_grants = ma.fields.List(ma.fields.Nested(SessionGrantSchema),
                                  metadata={"description": "用该会话创建的代办授权（可在撤销会话时一并撤销）"})


class SessionListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SessionSchema))


class RevokeSessionSchema(ma.Schema):
    revoke_grants = StrictBoolean(load_default=False, metadata={
        "description": "true：一并撤销用该会话创建的代办授权（怀疑令牌被盗用时建议选择）"})


class RevokedSessionSchema(SessionSchema):
    grants_revoked = ma.fields.Boolean(metadata={"description": "proxy_grants 中未结束的授权是否已一并撤销"})


@blp.route("/sessions", methods=["GET"])
@blp.response(200, SessionListSchema())
@problems(blp, {403: "proxy_not_allowed"})
@auth_required()
def list_sessions():
    """My live sign-in sessions, newest first, each with the proxy grants made in it."""
    principal = current_principal()
    return service.list_sessions(user_id=principal.id, current_session_id=principal.session_id)


@blp.route("/sessions/<session_id>/revoke", methods=["POST"])
@blp.arguments(RevokeSessionSchema())
@blp.response(200, RevokedSessionSchema())
@problems(blp, {403: "proxy_not_allowed", 404: "session_not_found", 422: "validation_failed"})
@auth_required()
def revoke_session(body, session_id):
    """Revoke a session I do not trust (its tokens stop working); names, and with `revoke_grants` revokes, its grants."""
    principal = current_principal()
    return service.revoke_own_session(user_id=principal.id, session_id=session_id,
                                              revoke_grants=body["revoke_grants"],
                                              current_session_id=principal.session_id)
