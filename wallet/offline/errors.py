"""Problem types of the offline QR (stable codes; English in the catalogue)."""
from __future__ import annotations

from app.errors import ValidationFailed
from app.i18n import N_


class OfflineQrTooLarge(ValidationFailed):
    code, detail = "offline_qr_too_large", N_("该事项出示的内容过长，无法生成离线亮证码，请使用在线亮证码。")
