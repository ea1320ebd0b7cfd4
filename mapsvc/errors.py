"""Service map errors: stable codes, Chinese details a citizen (or an operator) can read."""
from __future__ import annotations

from app.errors import Forbidden, NotFound
from app.i18n import N_


class HallNotFound(NotFound):
    code, detail = "hall_not_found", N_("办事网点不存在或已停用。")



class HallNotBound(Forbidden):
    code, detail = "hall_not_bound", N_("该客户端未绑定此办事网点，不能上报其排队人数。")
