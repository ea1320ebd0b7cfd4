"""Notification errors (stable codes, Chinese details)."""
from __future__ import annotations

from app.errors import AppError, NotFound, ValidationFailed


class NotificationNotFound(NotFound):
    code, detail = "notification_not_found", "未找到该消息。"
    detail_en = "The message was not found."


class DeviceNotFound(NotFound):
    code, detail = "device_not_found", "未找到该推送设备。"
    detail_en = "The push device was not found."


class DeviceTokenInvalid(ValidationFailed):
    code, detail = "device_token_invalid", "推送标识格式不正确，或不属于当前账号。"
    detail_en = "The push token is malformed or does not belong to this account."


class PlatformUnavailable(ValidationFailed):
    code, detail = "push_platform_unavailable", "暂不支持该推送渠道。"
    detail_en = "This push channel is not supported."


class CursorInvalid(ValidationFailed):
    code, detail = "cursor_invalid", "分页游标无效，请从第一页重新加载。"
    detail_en = "The cursor is invalid; please reload from the first page."


class LastEventIdInvalid(ValidationFailed):
    code, detail = "last_event_id_invalid", "Last-Event-ID 无效，应为消息编号。"
    detail_en = "Last-Event-ID is invalid; it must be a message id."


class StreamUnavailable(AppError):
    status, code, detail = 503, "stream_unavailable", "实时消息暂时不可用，请稍后重连。"
    detail_en = "Live messages are temporarily unavailable; please reconnect later."


# Seconds a client refused for capacity waits before reconnecting (jitter is EventSource's own).
STREAM_RETRY_AFTER = 10


class StreamCapacity(AppError):
    status, code, detail = 503, "stream_capacity", "实时消息连接已满，请稍后重连。"
    detail_en = "Too many live connections right now; please reconnect later."

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(STREAM_RETRY_AFTER)}, extra={"retry_after": STREAM_RETRY_AFTER})
