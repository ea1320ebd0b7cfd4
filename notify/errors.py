"""Notification errors (stable codes, Chinese details; English in the catalogue)."""
from __future__ import annotations

from app.errors import AppError, NotFound, ValidationFailed
from app.i18n import N_, Series


class NotificationNotFound(NotFound):
    code, detail = "notification_not_found", N_("未找到该消息。")


class DeviceNotFound(NotFound):
    code, detail = "device_not_found", N_("未找到该推送设备。")


class DeviceTokenInvalid(ValidationFailed):
    code, detail = "device_token_invalid", N_("推送标识格式不正确，或不属于当前账号。")


class PlatformUnavailable(ValidationFailed):
    code, detail = "push_platform_unavailable", N_("暂不支持该推送渠道。")


class CursorInvalid(ValidationFailed):
    code, detail = "cursor_invalid", N_("分页游标无效，请从第一页重新加载。")


class LastEventIdInvalid(ValidationFailed):
    code, detail = "last_event_id_invalid", N_("Last-Event-ID 无效，应为消息编号。")


class StreamUnavailable(AppError):
    status, code, detail = 503, "stream_unavailable", N_("实时消息暂时不可用，请稍后重连。")


# Seconds a client refused for capacity waits before reconnecting (jitter is EventSource's own).
STREAM_RETRY_AFTER = 10


class StreamCapacity(AppError):
    status, code, detail = 503, "stream_capacity", N_("实时消息连接已满，请稍后重连。")

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(STREAM_RETRY_AFTER)}, extra={"retry_after": STREAM_RETRY_AFTER})


class QuietWindowEmpty(ValidationFailed):
    code, detail = "quiet_hours_empty", N_("免打扰的开始时间和结束时间不能相同，请设置一段时间，例如 22:00 至 08:00。")


class CategoryLocked(ValidationFailed):
    code, detail = "category_locked", N_("这类通知不能关闭。")

    def __init__(self, categories: list[str], names: list[str]) -> None:
        super().__init__(N_("“{names:、}”类通知不能关闭：安全提醒和重要通知始终推送。", names=Series(names)),
                         extra={"categories": categories})
