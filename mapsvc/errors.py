"""Service map errors: stable codes, Chinese details a citizen (or an operator) can read."""
from __future__ import annotations

from app.errors import Forbidden, NotFound, ValidationFailed


class HallNotFound(NotFound):
    code, detail = "hall_not_found", "办事网点不存在或已停用。"
    detail_en = "The service hall does not exist or is closed for good."


class AnswerCoordUnsupported(ValidationFailed):
    code, detail = "answer_coord_unsupported", "结果坐标仅提供 gcj02 或 bd09。"
    detail_en = "Result coordinates are only available as gcj02 or bd09."


class HallNotBound(Forbidden):
    code, detail = "hall_not_bound", "该客户端未绑定此办事网点，不能上报其排队人数。"
    detail_en = "This client is not bound to the service hall and cannot report its queue."
