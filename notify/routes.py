"""Notification endpoints — 消息通知: devices, the inbox, preferences and the live stream (SSE)."""
from __future__ import annotations

from flask import current_app, request
from flask_smorest import Blueprint

from app.i18n import language
from app.openapi import problems
from app.security.auth import auth_required, current_principal
from notify import schemas as s
from notify import service

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="消息通知 (notifications and push)")

# The inbox is read by a citizen, or by an enterprise (issue 19): its LR's or an agent's enterprise
# token reads the entries under the enterprise id (an agent only the kinds its scopes cover). A
# relative's proxy token (kind citizen) still may not read the citizen's inbox: delegable for
# enterprise tokens only (403 proxy_not_allowed before any input is read).
_INBOX = {"kinds": ("citizen", "enterprise"), "delegable": "cases:follow", "delegable_kinds": ("enterprise",)}


def _reader() -> dict:
    """The inbox's owner (a citizen, or the enterprise a token acts for) and the kinds its reader sees."""
    principal = current_principal()
    return {"user_id": principal.id,
            "kinds": service.readable_kinds(delegated=principal.delegated, grant_id=principal.grant_id,
                                            scopes=principal.delegated_scopes)}


@blp.route("/devices", methods=["POST"])
@blp.arguments(s.DeviceCreateSchema())
@blp.response(201, s.DeviceSchema())
@blp.alt_response(200, schema=s.DeviceSchema, description="已登记的推送标识（转到当前账号）")
@problems(blp, {422: "validation_failed, device_token_invalid, push_platform_unavailable"})
@auth_required()
def register_device(body):
    """Register this phone's push token (idempotent; a token moves to the latest account and session),
    with the language its pushes are worded in (`locale`: zh-CN, the default, or en).
    Logging out of the session that registered it removes it; the citizen is told of a new device."""
    principal = current_principal()
    view, created = service.register_device(user_id=principal.id, session_id=principal.session_id,
                                            platform=body["platform"], token=body["token"], locale=body["locale"])
    return view, 201 if created else 200


@blp.route("/devices", methods=["GET"])
@blp.response(200, s.DeviceListSchema())
@auth_required()
def list_devices():
    """The citizen's registered push targets (tokens shown by their last 4 characters)."""
    return {"items": service.list_devices(user_id=current_principal().id)}


@blp.route("/devices/<device_id>", methods=["DELETE"])
@blp.response(204)
@problems(blp, {404: "device_not_found"})
@auth_required()
def remove_device(device_id):
    """Stop pushing to a device (logout on the phone)."""
    service.remove_device(user_id=current_principal().id, device_id=device_id)


@blp.route("/notifications", methods=["GET"])
@blp.arguments(s.NotificationListArgsSchema(), location="query")
@blp.response(200, s.NotificationListSchema())
@problems(blp, {403: "proxy_not_allowed", 422: "validation_failed, cursor_invalid"})
@auth_required(**_INBOX)
def list_notifications(args):
    """The inbox, newest first (`?limit=&cursor=&unread_only=`). With an enterprise token: the
    enterprise's inbox (its LR sees every notice, an agent those of its scopes: cases, licences)."""
    return service.list_notifications(**_reader(), limit=args["limit"], cursor=args["cursor"],
                                      unread_only=args["unread_only"])


@blp.route("/notifications/unread-count", methods=["GET"])
@blp.response(200, s.UnreadCountSchema())
@problems(blp, {403: "proxy_not_allowed"})
@auth_required(**_INBOX)
def unread_count():
    """How many notices are unread (the badge)."""
    return {"count": service.unread_count(**_reader())}


@blp.route("/notifications/<entry_id>/read", methods=["POST"])
@blp.response(200, s.NotificationSchema())
@problems(blp, {403: "proxy_not_allowed", 404: "notification_not_found"})
@auth_required(**_INBOX)
def mark_read(entry_id):
    """Mark one notice read (idempotent)."""
    return service.mark_read(**_reader(), entry_id=entry_id)


@blp.route("/notifications/read-all", methods=["POST"])
@blp.response(200, s.ReadAllSchema())
@problems(blp, {403: "proxy_not_allowed"})
@auth_required(**_INBOX)
def mark_all_read():
    """Mark every notice read (with an enterprise token: those its reader sees)."""
    return {"updated": service.mark_all_read(**_reader())}


@blp.route("/notifications/preferences", methods=["GET"])
@blp.response(200, s.PreferencesSchema())
@auth_required()
def get_preferences():
    """Channels on/off, quiet hours and the citizen's window (Beijing time, 22:00–08:00 by default), and
    the categories of notices with their switches: a muted category is not pushed but still reaches
    the inbox and the live stream; the locked category (security and critical notices) cannot be muted."""
    return service.get_preferences(user_id=current_principal().id)


@blp.route("/notifications/preferences", methods=["PUT"])
@blp.arguments(s.PreferencesUpdateSchema())
@blp.response(200, s.PreferencesSchema())
@problems(blp, {422: "validation_failed, quiet_hours_empty, category_locked"})
@auth_required()
def update_preferences(body):
    """Switch channels, categories and quiet hours on or off and set the quiet window (`quiet_start`,
    `quiet_end`, Beijing time; the window may cross midnight; start == end is refused with
    `quiet_hours_empty`; switching off a locked category is refused with `category_locked`). Fields
    left out keep their value."""
    return service.update_preferences(user_id=current_principal().id, channels=body["channels"],
                                      quiet_hours=body["quiet_hours"], quiet_start=body["quiet_start"],
                                      quiet_end=body["quiet_end"], categories=body["categories"])


@blp.route("/notifications/stream", methods=["GET"])
@blp.doc(responses={"200": {"description": "text/event-stream：`id:` 为消息编号，`event: notification`，"
                                           "`data:` 为消息 JSON（标题和正文按本连接的 Accept-Language 使用中文或英文）；空闲时每 15 秒发送注释行作为心跳。"
                                           "退出登录或会话被撤销时以 `event: end`、`data: {\"reason\": \"session_revoked\"}` "
                                           "结束；同一账号打开第 4 个连接时，最早的连接以 `reason: stream_limit` 结束"
                                           "（并带 `retry: 600000`），客户端应关闭它",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
         parameters=[{"in": "header", "name": "Last-Event-ID", "required": False,
                      "schema": {"type": "string", "pattern": "^[0-9]{0,18}$"},
                      "description": "从该消息编号之后继续（断线重连）"}])
@problems(blp, {422: "last_event_id_invalid", 503: "stream_unavailable, stream_capacity"})
@auth_required()
def stream():
    """Live notices (Server-Sent Events); `Last-Event-ID` resumes from the inbox. At most 3 streams per
    citizen (a 4th closes the oldest with `event: end`); logging out ends the stream."""
    last_event_id = service.parse_last_event_id(request.headers.get("Last-Event-ID", ""))
    principal = current_principal()
    events = service.open_stream(current_app._get_current_object(), user_id=principal.id,
                                 session_id=principal.session_id, last_event_id=last_event_id,
                                 lang=language())  # the events are worded in the connection's language
    return current_app.response_class(events, mimetype="text/event-stream",
                                      headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
