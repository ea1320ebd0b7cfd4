"""Fetching a kept verification report (issue 18): what signing/report_routes.py calls. Only the
client that asked gets it (another's is ReportNotFound, as an unknown id); every fetch is audited."""
from __future__ import annotations

import json
from typing import Any

from app import audit
from app.db import unit_of_work
from signing import report
from signing.report_errors import ReportNotFound


def _fetch(client_id: str, report_id: str, form: str) -> tuple[bytes, bytes]:
    found = report.stored(report_id=report_id, client_id=client_id) if report_id else None
    with unit_of_work():
        audit.record("signing.report_fetch", outcome="success" if found else "refused", actor_kind="client",
                     actor_id=client_id, target=report_id[:128] or None, details={"form": form})
    if found is None:
        raise ReportNotFound()
    return found


def get_report(*, client_id: str, report_id: str) -> dict[str, Any]:
    """The report as it was signed, with its SignedData (`report_cms_b64`)."""
    return report.answer(*_fetch(client_id, report_id, "json"))


def get_report_pdf(*, client_id: str, report_id: str, base_url: str) -> bytes:
    """The report rendered as a PDF for people, its QR code naming the report's URL under `base_url`."""
    from signing.report_pdf import render  # reportlab is loaded only when a PDF is asked for

    data, _ = _fetch(client_id, report_id, "pdf")
    url = f"{base_url.rstrip('/')}/api/v1/verify/reports/{report_id}"
    return render(json.loads(data), url=url)
