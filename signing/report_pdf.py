"""The verification report as a PDF for people (验签报告 PDF, issue 18), rendered with reportlab.

Chinese text uses reportlab's built-in CID font STSong-Light (Adobe-GB1; the reader supplies the
glyphs, so no font file ships with YiWang); text that is all ASCII (ids, serials, hashes, commands)
uses Helvetica / Courier, so it is also extractable by any PDF text tool. One A4 page or more: the
verdict, the four conditions of article 13 with their evidence, the certificate chain, revocation
and timestamp, the re-check commands, and a QR code (app/qr.py) of the report's URL. The PDF is a
rendering: the evidence is the SignedData of the JSON report.
"""
from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app import qr

CJK = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(CJK))

_LABELS = {
    "zh-CN": {"title": "电子签名验证报告", "id": "报告编号", "checked_at": "核验时间", "result": "结论",
              "format": "格式", "signer": "签名人", "art13": "《电子签名法》第十三条", "chain": "证书链",
              "revocation": "吊销状态（存在性证明时间）", "timestamp": "时间戳", "recheck": "复核命令",
              "note": "本 PDF 由平台签名的 JSON 报告生成；具有证明力的是报告的 CMS SignedData（report_cms_b64）。",
              "met": "满足", "not_met": "不满足", "not_established": "无法确认", "none": "无"},
    "en": {"title": "Electronic signature verification report", "id": "Report id", "checked_at": "Checked at",
           "result": "Result", "format": "Format", "signer": "Signer", "art13": "Electronic Signature Law, art. 13",
           "chain": "Certificate chain", "revocation": "Revocation (at proof-of-existence time)",
           "timestamp": "Timestamp", "recheck": "Re-check commands",
           "note": "This PDF renders the platform-signed JSON report; the evidence is its CMS SignedData "
                   "(report_cms_b64).",
           "met": "met", "not_met": "not met", "not_established": "not established", "none": "none"},
}


def _style(size: float = 9, *, bold: bool = False) -> dict[str, ParagraphStyle]:
    base = {"fontSize": size, "leading": size * 1.35, "wordWrap": "CJK"}
    return {"cjk": ParagraphStyle("cjk", fontName=CJK, **base),
            "latin": ParagraphStyle("latin", fontName="Helvetica-Bold" if bold else "Helvetica", **base)}


_BODY, _HEAD, _TITLE = _style(), _style(11, bold=True), _style(16, bold=True)
_MONO = ParagraphStyle("mono", fontName="Courier", fontSize=7.5, leading=9.5, wordWrap="CJK")


def _p(text: Any, styles: dict[str, ParagraphStyle] = _BODY) -> Paragraph:
    """A paragraph in the font its text needs: Helvetica for ASCII, STSong-Light otherwise."""
    text = "-" if text is None else str(text)
    return Paragraph(escape(text), styles["latin"] if text.isascii() else styles["cjk"])


def _dash(value: Any) -> Any:
    return "-" if value is None else value


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=0)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)]))
    return table


def _evidence(item: dict[str, Any]) -> str:
    refs = [f"{k}={item[k]}" for k in ("serial", "audit_id", "chain_seq", "at", "valid", "match") if k in item]
    return f"{item.get('text') or item.get('kind')} [{', '.join(refs)}]" if refs else str(item.get("text", ""))


def _head(report: dict[str, Any], url: str, words: dict[str, str]) -> list[Any]:
    verdict = report["indication"] + (f" / {report['sub_indication']}" if report.get("sub_indication") else "")
    signer = report.get("signer") or {}
    summary = _table([[_p(words["id"]), _p(report["report_id"])], [_p(words["checked_at"]), _p(report["checked_at"])],
                      [_p(words["result"]), _p(verdict, _HEAD)], [_p(words["format"]), _p(report["format"])],
                      [_p(words["signer"]), _p(" ".join(v for v in signer.values() if v) or words["none"])]],
                     [28 * mm, 100 * mm])
    code = Image(io.BytesIO(qr.render_png(url)), width=38 * mm, height=38 * mm)
    return [_p(words["title"], _TITLE), Spacer(1, 4 * mm),
            Table([[summary, code]], colWidths=[130 * mm, 45 * mm], style=[("VALIGN", (0, 0), (-1, -1), "TOP")]),
            _p(url, {"latin": _MONO, "cjk": _MONO}), Spacer(1, 4 * mm)]


def _article13(report: dict[str, Any], words: dict[str, str]) -> list[Any]:
    rows = [[_p(str(c["number"])), _p(c["condition"]), _p(words.get(c["verdict"], c["verdict"]), _HEAD),
             [_p(_evidence(e)) for e in c.get("evidence", [])]] for c in report.get("article_13", [])]
    return [_p(words["art13"], _HEAD), Spacer(1, 2 * mm), _table(rows, [8 * mm, 52 * mm, 22 * mm, 93 * mm]),
            Spacer(1, 4 * mm)]


def _chain_and_time(report: dict[str, Any], words: dict[str, str]) -> list[Any]:
    chain = [[_p(c["role"]), [_p(c["subject"]), _p(f"serial {c['serial']}"),
                              _p(f"{c['not_before']} - {c['not_after']}"),
                              _p(f"SM3 {c['sm3_fingerprint']}", {"latin": _MONO, "cjk": _MONO})]]
             for c in report.get("certificate_chain", [])]
    rev = report.get("revocation") or {}
    ts = report.get("timestamp") or {}
    out = [_p(words["chain"], _HEAD), _table(chain, [20 * mm, 155 * mm]), Spacer(1, 3 * mm),
           _p(words["revocation"], _HEAD),
           _p(", ".join(f"{k}={_dash(rev.get(k))}" for k in ("status_now", "revoked_at", "poe_time", "status_at_poe")))]
    if rev.get("note"):
        out.append(_p(rev["note"]))
    out += [Spacer(1, 3 * mm), _p(words["timestamp"], _HEAD),
            _p(", ".join(f"{k}={_dash(ts.get(k))}" for k in ("valid", "reason", "gen_time", "tsa_status", "used_as_poe"))
               if ts else words["none"]), Spacer(1, 3 * mm)]
    return out


def _recheck(report: dict[str, Any], words: dict[str, str]) -> list[Any]:
    rows = [[_p(r["step"]), _p(r["command"], {"latin": _MONO, "cjk": _MONO})] for r in report.get("recheck", [])]
    return [_p(words["recheck"], _HEAD), _table(rows, [60 * mm, 115 * mm]) if rows else _p(words["none"]),
            Spacer(1, 4 * mm), _p(words["note"])]


def render(report: dict[str, Any], *, url: str) -> bytes:
    """The PDF of a report (its language: the report's own), with a QR code of `url`."""
    words = _LABELS.get(report.get("language"), _LABELS["zh-CN"])
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=17 * mm, rightMargin=17 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"{words['title']} {report['report_id']}",
                            author="YiWang", subject=report["report_id"])
    doc.build(_head(report, url, words) + _article13(report, words) + _chain_and_time(report, words)
              + _recheck(report, words))
    return out.getvalue()
