"""The commands that re-check each step of a verification report without trusting YiWang (issue 18).

Files a relying party fetches first: `ca.pem` (GET /api/v1/signing/ca.pem), `crl.der` (GET
/api/v1/signing/crl), the signer certificate as `signer.pem` (the raw form's certificate_pem; for a
SignedData, `gmssl cmsparse` prints it), and what was verified (`document`, `sig.der`, or the
SignedData as `signed.cms.pem`, PEM label CMS). OpenSSL 3.0 cannot read SM2 CMS (FACTS: checked),
so the SignedData steps use GmSSL 3.1; OpenSSL checks the chain and the revocation.
"""
from __future__ import annotations

from typing import Any

from app.i18n import N_, translate
from signing.report_findings import FORMAT_CMS, Findings

DISTID = "distid:1234567812345678"

_CHAIN = [
    (N_("把 CRL 转为 PEM"), "openssl crl -inform DER -in crl.der -out crl.pem"),
    (N_("证书链与吊销状态（区分标识 1234567812345678）"),
     f"openssl verify -vfyopt {DISTID} -CAfile ca.pem -CRLfile crl.pem -crl_check signer.pem"),
]
_RAW = [
    (N_("取签名人公钥"), "openssl x509 -in signer.pem -pubkey -noout -out pub.pem"),
    (N_("SM2 签名：e = SM3(Z‖M)"),
     f"openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -digest sm3 -pkeyopt {DISTID} -in document "
     "-sigfile sig.der"),
]
_CMS = [
    (N_("SignedData 的结构与签名人证书"), "gmssl cmsparse -in signed.cms.pem"),
    (N_("SignedData 的 SM2 签名（GmSSL 3.1，附带原文的形式）"), "gmssl cmsverify -in signed.cms.pem -out content"),
    (N_("原文的 SM3 摘要，应等于 messageDigest"), "gmssl sm3 < document"),
]
_TIMESTAMP = [
    (N_("时间戳的 genTime 与消息摘要（RFC 3161；摘要应为签名值的 SM3）"),
     "openssl ts -reply -token_in -in timestamp.der -text"),
]
_REPORT = [
    (N_("本报告的平台签名（报告 JSON 即 SignedData 的内容）"),
     "gmssl cmsverify -in report.cms.pem -out report.json"),
    (N_("报告签名证书的证书链"), f"openssl verify -vfyopt {DISTID} -CAfile ca.pem report-signer.pem"),
]


def commands(found: Findings) -> list[dict[str, Any]]:
    """[{step, command}] for this report's format, in the order the checks ran."""
    steps = list(_CHAIN)
    if found.format == FORMAT_CMS:
        steps += _CMS + (_TIMESTAMP if found.timestamp else [])
    else:
        steps += _RAW
    steps += _REPORT
    return [{"step": translate(text), "command": command} for text, command in steps]
