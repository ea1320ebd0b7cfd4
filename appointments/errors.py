"""Appointment errors (预约): stable codes, Chinese details a citizen or clerk can read."""
from __future__ import annotations

from datetime import datetime

from app.clock import CHINA_TZ as CHINA
from app.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import N_


class SlotInvalid(ValidationFailed):
    code, detail = "slot_invalid", N_("预约时段不存在，请刷新时段列表后重新选择。")


class SlotFull(Conflict):
    code, detail = "slot_full", N_("该时段已约满，请选择其他时段。")


class AlreadyBooked(Conflict):
    code, detail = "already_booked", N_("您在该大厅当天已有预约，每人每天在同一大厅只能预约一次。")


class BookingWindow(ValidationFailed):
    code, detail = "booking_window", N_("只能预约明天起5个工作日内的时段。")


class SlotDateOutOfRange(ValidationFailed):
    code, detail = "slot_date_out_of_range", N_("只能查看近期的预约时段。")


class ItemNotOffered(ValidationFailed):
    code, detail = "item_not_offered", N_("该大厅不办理此事项。")


class AssuranceTooLow(Forbidden):
    code, detail = "assurance_level_insufficient", N_("预约前请先绑定手机号。")


class BookingBanned(Forbidden):
    code = "booking_banned"

    def __init__(self, until: datetime) -> None:
        local = until.astimezone(CHINA)
        super().__init__(N_("您近期爽约次数过多，{until:%Y年%m月%d日 %H:%M}前不能预约。", until=local),
                         extra={"banned_until": local.isoformat()})


class AppointmentNotFound(NotFound):
    code, detail = "appointment_not_found", N_("预约不存在。")


class CancelTooLate(Conflict):
    code, detail = "cancel_too_late", N_("距预约时段开始已不足2小时，不能取消。")


class AppointmentNotActive(Conflict):
    code, detail = "appointment_not_active", N_("该预约已签到、已取消或已爽约。")


class AlreadyCheckedIn(Conflict):
    code, detail = "already_checked_in", N_("该预约已签到。")


class CheckInWrongDay(Conflict):
    code, detail = "check_in_wrong_day", N_("该预约不是今天的，请在预约当天签到。")


class CheckInTooEarly(Conflict):
    code, detail = "check_in_too_early", N_("还没到签到时间，请在预约时段开始前一小时内签到。")


class CheckInTooLate(Conflict):
    code, detail = "check_in_too_late", N_("预约时段已过，已不能签到，请重新预约。")


class CheckInOtherHall(Conflict):
    """A code booked at another hall of this province: the clerk learns that hall's NAME only."""

    code, detail = "check_in_other_hall", N_("该预约不是本大厅的，请群众前往预约的大厅办理。")


class CheckInCodeInvalid(AppError):
    status, code, detail = 404, "check_in_code_invalid", N_("签到码无效，请核对后重新输入。")

