"""Public PKI endpoints of the platform CA beside /ca.pem, /crl and /certificates/{serial}/status
(signing/routes.py): the CA certificate in DER (the certificates' AIA caIssuers URL) and the OCSP
responder (RFC 6960, their AIA OCSP URL), by POST and by GET (appendix A.1). Public, no
authentication, like the other PKI routes.

An OCSP answer is always HTTP 200 with an OCSPResponse, its own status saying what went wrong
(malformedRequest for bytes that are not an OCSP request, none included): that is what OCSP clients
read. Only a POST of another content type gets a problem+json answer (415).
"""
from __future__ import annotations

import base64
import binascii
import re

from flask import Response, request
from flask_smorest import Blueprint

from app.crypto import ocsp
from app.crypto.ca import platform_ca
from app.errors import AppError
from app.i18n import N_
from app.openapi import problems

pki_blp = Blueprint("signing_pki", __name__, url_prefix="/api/v1/signing",
                    description="平台 CA 公开服务：CA 证书（DER）与 OCSP (RFC 6960)")

OCSP_REQUEST, OCSP_RESPONSE = "application/ocsp-request", "application/ocsp-response"
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*=*")


class OcspMediaType(AppError):
    """A POST to the responder that is not application/ocsp-request."""
    status, code, detail = 415, "unsupported_media_type", N_("OCSP 请求的内容类型须为 application/ocsp-request（RFC 6960）。")


_OCSP_DOC = (
    "OCSP（RFC 6960）：平台 CA 自身签名（SM2-SM3，区分标识为空，与 CRL 相同），可用 OpenSSL 3 校验：\n\n"
    "`openssl ocsp -issuer ca.pem -cert signer.pem -url <本地址> -CAfile ca.pem -resp_text`\n\n"
    "每个 CertID 答 good / revoked（时间与原因）/ unknown（本 CA 未签发该序列号，或 CertID 的签发者散列不是本 CA）；"
    "CertID 散列算法支持 SHA-1、SHA-256、SM3；请求中的 nonce 原样回显。非 OCSP 请求的字节答 OCSP 状态 "
    "malformedRequest（HTTP 200）。")
_OCSP_ANSWER = {200: {"description": "DER OCSPResponse (RFC 6960 §4.2.1)",
                      "content": {OCSP_RESPONSE: {"schema": {"type": "string", "format": "binary"}}}}}


@pki_blp.route("/ca.cer", methods=["GET"])
@pki_blp.doc(security=[], responses={200: {"description": "DER certificate (RFC 2585)",
                                           "content": {"application/pkix-cert": {}}}})
def ca_certificate_der():
    """The platform CA certificate in DER (public): the caIssuers URL of the certificates' AIA."""
    return Response(platform_ca().certificate_der(), mimetype="application/pkix-cert",
                    headers={"Cache-Control": "public, max-age=3600"})


@pki_blp.route("/ocsp", methods=["POST"])
@pki_blp.doc(security=[], description=_OCSP_DOC, responses=_OCSP_ANSWER, requestBody={
    "required": True, "description": "DER OCSPRequest (RFC 6960 §4.1.1)",
    "content": {OCSP_REQUEST: {"schema": {"type": "string", "format": "binary"}}}})
@problems(pki_blp, {415: "unsupported_media_type（须为 application/ocsp-request）"})
def ocsp_post():
    """OCSP responder (public): a DER OCSPRequest in, a DER OCSPResponse signed by the platform CA out."""
    if request.mimetype != OCSP_REQUEST:
        raise OcspMediaType()
    return _answer(ocsp.respond(request.get_data(cache=False)), cacheable=False)


@pki_blp.route("/ocsp/<path:encoded>", methods=["GET"])
@pki_blp.doc(security=[], description=_OCSP_DOC + "\n\nGET：路径为 DER OCSPRequest 的 Base64（RFC 6960 附录 A.1，"
                                                  "URL 编码；也接受 base64url）。答复可被 HTTP 缓存（RFC 5019）。",
             responses=_OCSP_ANSWER)
def ocsp_get(encoded):
    """OCSP responder by GET (public): the path is the Base64 of a DER OCSPRequest; cacheable answers."""
    return _answer(ocsp.respond(_decode(encoded)), cacheable=True)


def _decode(encoded: str) -> bytes:
    """The request bytes of a GET path; b"" (→ malformedRequest) when it is not Base64."""
    text = encoded.strip()
    if not _BASE64.fullmatch(text):
        return b""
    text = text.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _answer(der: bytes, *, cacheable: bool) -> Response:
    headers = ocsp.http_cache_headers(der) if cacheable else {}
    headers.setdefault("Cache-Control", "no-store")
    return Response(der, mimetype=OCSP_RESPONSE, headers=headers)
