"""The demo citizen's appointment for `flask demo seed` (development only): a booked appointment at
the seeded 合肥市政务服务中心 on the next working day. Idempotent: a citizen with an appointment is
left alone. Runs after mapsvc's seeder (features load in order)."""
from __future__ import annotations

from app import calendar
from appointments import service, slots
from identity import service as identity
from mapsvc.service import hall_by_code

HALL_CODE, ITEM_CODE = "340100-ZWFW-01", "GA003"  # 居住证办理


def seed() -> list[str]:
    citizen = identity.demo_people()["citizen"]
    if service.list_for(user_id=citizen)["items"]:
        return ["appointments: the demo citizen's appointment is there already"]
    hall = hall_by_code(HALL_CODE)
    if hall is None:
        return [f"appointments: hall {HALL_CODE} is not seeded; no demo appointment"]
    today = calendar.china_now(slots.now()).date()
    for day in calendar.working_days_after(today, 5):
        free = [s for s in slots.list_slots(hall_id=hall.id, day=day)["items"] if s["bookable"]]
        if free:
            booked = service.book(user_id=citizen, hall_id=hall.id, slot_id=free[len(free) // 2]["id"],
                                  item_code=ITEM_CODE)
            return [f"appointments: the demo citizen booked {HALL_CODE} on {day} ({booked['id']})"]
    return ["appointments: no free slot in the next working days; no demo appointment"]
