"""Problems of the time-stamping API (/api/v1/timestamps): stable codes, Chinese details."""
from __future__ import annotations

from app.errors import AppError
from app.i18n import N_


class TimestampMediaType(AppError):
    """Neither form: the wire form's refusals are TimeStampResp rejections, the JSON form's 422."""

    status, code, detail = 415, "unsupported_media_type", N_(
        "请求内容类型须为 application/timestamp-query（RFC 3161）或 application/json。")
