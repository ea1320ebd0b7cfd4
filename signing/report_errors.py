"""Problems of the verification reports (/api/v1/verify/reports): stable codes, Chinese details."""
from __future__ import annotations

from app.errors import NotFound
from app.i18n import N_


class ReportNotFound(NotFound):
    """An unknown report id, an expired one, or another client's: the same answer."""

    code, detail = "verify_report_not_found", N_("验签报告不存在或已过保存期限。")
