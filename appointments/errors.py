"""Appointment errors (预约): stable codes, Chinese details a citizen or clerk can read."""
from __future__ import annotations

from datetime import datetime

from app.clock import CHINA_TZ as CHINA
from app.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from app.pagination import CursorInvalid  # noqa: F401  (re-exported)


class SlotInvalid(ValidationFailed):
    code, detail = "slot_invalid", "预约时段不存在，请刷新时段列表后重新选择。"
    detail_en = "The time slot does not exist; please refresh the list of slots and choose again."


class SlotFull(Conflict):
    code, detail = "slot_full", "该时段已约满，请选择其他时段。"
    detail_en = "This time slot is fully booked; please choose another."


class AlreadyBooked(Conflict):
    code, detail = "already_booked", "您在该大厅当天已有预约，每人每天在同一大厅只能预约一次。"
    detail_en = "You already have an appointment at this hall on that day; one appointment per person per hall per day."


class BookingWindow(ValidationFailed):
    code, detail = "booking_window", "只能预约明天起5个工作日内的时段。"
    detail_en = "Appointments can only be made for slots from tomorrow within the next 5 working days."


class SlotDateOutOfRange(ValidationFailed):
    code, detail = "slot_date_out_of_range", "只能查看近期的预约时段。"
    detail_en = "Slots can only be listed for dates close to today."


class ItemNotOffered(ValidationFailed):
    code, detail = "item_not_offered", "该大厅不办理此事项。"
    detail_en = "This hall does not handle this service."


class AssuranceTooLow(Forbidden):
    code, detail = "assurance_level_insufficient", "预约前请先绑定手机号。"
    detail_en = "Please bind a mobile number before booking."


class BookingBanned(Forbidden):
    code = "booking_banned"
    detail_en = "You have missed too many appointments recently and cannot book for now."

    def __init__(self, until: datetime) -> None:
        local = until.astimezone(CHINA)
        super().__init__(f"您近期爽约次数过多，{local:%Y年%m月%d日 %H:%M}前不能预约。",
                         detail_en=f"You have missed too many appointments recently; you can book again from "
                                   f"{local:%Y-%m-%d %H:%M} (China time).",
                         extra={"banned_until": local.isoformat()})


class AppointmentNotFound(NotFound):
    code, detail = "appointment_not_found", "预约不存在。"
    detail_en = "The appointment does not exist."


class CancelTooLate(Conflict):
    code, detail = "cancel_too_late", "距预约时段开始已不足2小时，不能取消。"
    detail_en = "The slot starts in less than 2 hours; the appointment can no longer be cancelled."


class AppointmentNotActive(Conflict):
    code, detail = "appointment_not_active", "该预约已签到、已取消或已爽约。"
    detail_en = "This appointment has already been checked in, cancelled or missed."


class AlreadyCheckedIn(Conflict):
    code, detail = "already_checked_in", "该预约已签到。"
    detail_en = "This appointment has already been checked in."


class CheckInWrongDay(Conflict):
    code, detail = "check_in_wrong_day", "该预约不是今天的，请在预约当天签到。"
    detail_en = "This appointment is not for today; please check in on the day of the appointment."


class CheckInCodeInvalid(AppError):
    status, code, detail = 404, "check_in_code_invalid", "签到码无效，或不是本大厅的预约。"
    detail_en = "The check-in code is invalid, or the appointment is not at this hall."

