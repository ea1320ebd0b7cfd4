"""The signed verification reports, fetched again by the client that asked (验签报告, issue 18):
`GET /api/v1/verify/reports/{id}` (JSON: the report and its SignedData) and `…/{id}.pdf` (for people).
Scope `signatures:verify`; another client's report is 404, like an unknown one; each fetch is audited."""
from __future__ import annotations

import re

from flask import Response, request
from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, current_principal
from signing import report_service
from signing import report_schemas as rs

blp = Blueprint("verification_reports", __name__, url_prefix="/api/v1/verify",
                description="验签报告 (signed verification reports)")

_ID = re.compile(r"^[a-z0-9_]{1,32}$")
_PDF_DOC = ("报告的 PDF（供人阅读）：结论、第十三条四项条件及证据、证书链与时间戳摘要、报告编号的二维码。"
            "具有证明力的是 JSON 的 SignedData（report_cms_b64）；PDF 由其生成。")


@blp.route("/reports/<report_id>", methods=["GET"])
@blp.response(200, rs.ValidationReportSchema())
@problems(blp, {403: "insufficient_scope, forbidden", 404: "verify_report_not_found"})
@auth_required(kinds=("client",), scopes=("signatures:verify",))
def get_report(report_id):
    """A verification report this client asked for: the report and its platform SignedData (report_cms_b64)."""
    return report_service.get_report(client_id=current_principal().id, report_id=_checked(report_id))


@blp.route("/reports/<report_id>.pdf", methods=["GET"])
@blp.doc(description=_PDF_DOC, responses={200: {"description": "PDF", "content": {"application/pdf": {}}}})
@problems(blp, {403: "insufficient_scope, forbidden", 404: "verify_report_not_found"})
@auth_required(kinds=("client",), scopes=("signatures:verify",))
def get_report_pdf(report_id):
    """The same report as a PDF for people (Chinese or English as the report was made), with a QR code of its URL."""
    pdf = report_service.get_report_pdf(client_id=current_principal().id, report_id=_checked(report_id),
                                        base_url=request.url_root)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{report_id}.pdf"', "Cache-Control": "no-store"})


def _checked(report_id: str) -> str:
    return report_id if _ID.fullmatch(report_id) else ""
