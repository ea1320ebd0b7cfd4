"""The signed verification report (issue 18): its SignedData verifies (cms.verify, GmSSL) over the exact
canonical JSON; article 13 for a platform signature (enrolment and authorisation from the audit chain)
and for a foreign one; fetching it again (JSON, PDF with its QR) only by the client that asked, audited;
English under Accept-Language: en; retention."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import timedelta

import pytest
import time_machine

from app.audit import AuditEvent
from app.audit_chain import seal
from app.crypto import cms, x509
from app.crypto.ca import platform_ca
from app.db import db, utcnow
from signing import report
from tests.helpers import assert_problem, rows
from tests.signing.conftest import DOCUMENT, VERIFY, b64, revoke, sign
from tests.signing.test_verify_cms import Made, check

REPORTS = "/api/v1/verify/reports"


def _raw(client, verifier, signed, headers=None, **changes) -> dict:
    body = {"document_b64": b64(DOCUMENT), "signature_b64": signed["signature_b64"],
            "certificate_pem": signed["certificate_pem"], **changes}
    response = client.post(VERIFY, json=body, headers={**verifier, **(headers or {})})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _verdicts(answer: dict) -> list[str]:
    return [c["verdict"] for c in answer["article_13"]]


def test_the_report_is_signed_by_the_platform_over_its_canonical_json(app, client, verifier):
    answer = check(client, verifier, Made(app).signed())
    der = base64.b64decode(answer["report_cms_b64"])
    verified = cms.verify(der)
    assert verified.ok and verified.info.profile == cms.PROFILE_GM and verified.info.content is not None
    content = verified.info.content
    assert json.loads(content) == {k: v for k, v in answer.items() if k != "report_cms_b64"}
    assert content == json.dumps(json.loads(content), sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False).encode()  # canonical: sorted keys, no spaces, UTF-8
    signer = x509.load_certificate(verified.info.certificate_der)
    assert signer.subject.native["organizational_unit_name"] == "report"
    with app.app_context(), db.connection_context():
        ca_der = platform_ca().certificate_der()
    assert signer.issuer.dump() == x509.load_certificate(ca_der).subject.dump()
    altered = der.replace(b'"TOTAL_PASSED"', b'"TOTAL_FAILED"')
    assert altered != der and not cms.verify(altered).ok


def test_gmssl_verifies_the_report(app, client, verifier, gmssl, tmp_path):
    answer = check(client, verifier, Made(app).signed())
    der = base64.b64decode(answer["report_cms_b64"])
    out = tmp_path / "report.json"
    result = gmssl.cmsverify(gmssl.write_cms(tmp_path / "report.cms.pem", der), out)
    assert result.returncode == 0 and b"verify success" in result.stdout + result.stderr, result.stderr
    assert json.loads(out.read_bytes())["report_id"] == answer["report_id"]
    # the README's two lines, as written (`gmssl` being the built binary)
    (tmp_path / "report.p7s").write_bytes(der)
    script = ('(echo "-----BEGIN CMS-----"; base64 -w 64 report.p7s; echo "-----END CMS-----") > report.cms.pem\n'
              f'{gmssl.binary} cmsverify -in report.cms.pem -out readme.json\n')
    shell = subprocess.run(["bash", "-ec", script], cwd=tmp_path, capture_output=True)
    assert shell.returncode == 0 and b"verify success" in shell.stdout + shell.stderr, shell.stderr
    assert (tmp_path / "readme.json").read_bytes() == out.read_bytes()
    altered = der.replace(answer["report_id"].encode(), b"vrp_" + b"x" * (len(answer["report_id"]) - 4))
    assert gmssl.cmsverify(gmssl.write_cms(tmp_path / "altered.pem", altered)).returncode != 0


def test_article_13_for_a_platform_signature(app, client, signer, verifier):
    signed = sign(client, signer[0])
    with time_machine.travel(utcnow() + timedelta(seconds=5)), app.app_context():
        assert seal() > 0  # the audit rows get their place in the hash chain (older than AUDIT_SEAL_MIN_AGE)
    answer = _raw(client, verifier, signed)
    assert answer["platform_signature"] is True and _verdicts(answer) == ["met", "met", "met", "met"]
    exclusive, control = answer["article_13"][0], answer["article_13"][1]
    actions = [e.get("action") for e in exclusive["evidence"]]
    assert actions == [None, "signing.enrol", "key.generate"]
    enrol = rows(app, AuditEvent, AuditEvent.action == "signing.enrol")[0]
    assert exclusive["evidence"][1]["audit_id"] == enrol.id and exclusive["evidence"][1]["chain_hash"] == enrol.chain_hash
    assert enrol.chain_hash and exclusive["evidence"][1]["chain_seq"] == enrol.seq
    assert control["evidence"][0]["chain_hash"]  # the authorisation is sealed too
    authorised = control["evidence"][0]
    assert authorised["action"] == "signing.sign" and authorised["pin_verified"] is True
    assert authorised["signature_id"] == signed["signature_id"]
    # the second factors this authorisation required, as its audit row recorded them (not today's settings)
    assert authorised["second_factors"] == {"sms": False, "liveness": False, "source": "authorisation"}
    assert "张三" not in json.dumps(answer, ensure_ascii=False)
    tampered = _raw(client, verifier, signed, document_b64=b64(DOCUMENT + b"!"))
    assert _verdicts(tampered) == ["met", "met", "met", "not_met"]  # the platform signed another e
    digest_only = _raw(client, verifier, signed, document_b64=None, e_hex=signed["e_hex"])
    assert _verdicts(digest_only)[3] == "not_established"


def test_article_13_after_a_key_compromise(client, signer, verifier):
    """Revoked for keyCompromise: without a timestamp nothing shows the signature came first ((1) not
    established); with the platform's timestamp before the revocation it did ((1) met, TOTAL_PASSED)."""
    headers, _ = signer
    signed = sign(client, headers)
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert revoke(client, headers).status_code == 200
        raw = _raw(client, verifier, signed)
        stamped = check(client, verifier, base64.b64decode(signed["cms_b64"]), document_b64=b64(DOCUMENT))
    assert (raw["sub_indication"], _verdicts(raw)[0]) == ("REVOKED_NO_POE", "not_established")
    assert raw["article_13"][0]["evidence"][-1]["kind"] == "revocation"
    assert stamped["revocation"]["poe_time"] < stamped["revocation"]["revoked_at"]
    assert stamped["indication"] == "TOTAL_PASSED" and _verdicts(stamped) == ["met", "met", "met", "met"]


def test_article_13_for_a_platform_cms_signature(client, signer, verifier):
    signed = sign(client, signer[0])
    answer = check(client, verifier, base64.b64decode(signed["cms_b64"]), document_b64=b64(DOCUMENT))
    assert answer["indication"] == "TOTAL_PASSED" and answer["timestamp"]["used_as_poe"]
    assert answer["platform_signature"] is True and _verdicts(answer) == ["met", "met", "met", "met"]
    attached = client.post(f"/api/v1/signing/signatures/{signed['signature_id']}/cms",
                           json={"document_b64": b64(DOCUMENT)}, headers=signer[0])
    assert attached.status_code == 200, attached.get_json()
    answer = check(client, verifier, attached.data)  # its own signature value, found too
    assert answer["cms"]["detached"] is False and answer["platform_signature"] is True
    assert _verdicts(answer) == ["met", "met", "met", "met"]


def test_article_13_for_a_foreign_signature(app, client, verifier):
    answer = check(client, verifier, Made(app).signed())  # a key the platform certified, signed outside any request
    assert answer["indication"] == "TOTAL_PASSED" and answer["platform_signature"] is False
    assert _verdicts(answer) == ["not_established", "not_established", "met", "met"]
    assert answer["article_13"][0]["evidence"][0]["kind"] == "certificate"


def test_english_report(app, client, verifier):
    answer = check(client, verifier, Made(app).signed(), headers={"Accept-Language": "en"})
    assert answer["language"] == "en"
    assert answer["article_13"][0]["condition"].startswith("The signature creation data")
    assert all(c["condition"].isascii() for c in answer["article_13"])
    assert "SM3" in answer["article_13"][3]["evidence"][0]["text"]
    chinese = check(client, verifier, Made(app).signed())
    assert chinese["article_13"][0]["condition"] == "电子签名制作数据用于电子签名时，属于电子签名人专有。"
    pdf = client.get(f"{REPORTS}/{answer['report_id']}.pdf", headers=verifier)  # the report's own language
    assert pdf.status_code == 200 and b"Electronic signature verification report" in pdf.data


def test_fetching_a_report_again_only_by_its_client(app, client, verifier, machine_token):
    answer = check(client, verifier, Made(app).signed())
    url = f"{REPORTS}/{answer['report_id']}"
    again = client.get(url, headers=verifier)
    assert again.status_code == 200 and again.get_json() == answer
    other = {"Authorization": f"Bearer {machine_token('signatures:verify')}"}
    assert_problem(client.get(url, headers=other), 404, "verify_report_not_found")
    assert_problem(client.get(url + ".pdf", headers=other), 404, "verify_report_not_found")
    assert_problem(client.get(f"{REPORTS}/vrp_unknown", headers=verifier), 404, "verify_report_not_found")
    assert_problem(client.get(url), 401)
    assert_problem(client.get(url, headers={"Authorization": f"Bearer {machine_token('licences:issue')}"}), 403)
    fetches = rows(app, AuditEvent, AuditEvent.action == "signing.report_fetch")
    assert [(e.outcome, e.target) for e in fetches][:3] == [("success", answer["report_id"]),
                                                            ("refused", answer["report_id"]),
                                                            ("refused", answer["report_id"])]


def test_the_pdf_names_the_report_and_its_qr_decodes(app, client, verifier, tmp_path):
    answer = check(client, verifier, Made(app).signed())
    response = client.get(f"{REPORTS}/{answer['report_id']}.pdf", headers=verifier)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.data)
    assert response.data.startswith(b"%PDF-") and b"STSong-Light" in response.data
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    assert answer["report_id"] in text and "TOTAL_PASSED" in text
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("pdftoppm or zbarimg not installed")
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, check=True).stdout.decode()
    assert decoded.strip().endswith(f"/api/v1/verify/reports/{answer['report_id']}")


def test_reports_are_pruned_after_the_retention_period(make_app, machine_token):
    app = make_app(VERIFY_REPORT_RETENTION_DAYS=30)
    client = app.test_client()
    verifier = {"Authorization": f"Bearer {machine_token('signatures:verify')}"}
    answer = check(client, verifier, Made(app).signed(stamp=False))
    with time_machine.travel(utcnow() + timedelta(days=31)):
        result = app.test_cli_runner().invoke(args=["signing", "prune-reports"])
        assert "removed 1 " in result.output, result.output
    with app.app_context(), db.connection_context():
        assert report.stored(report_id=answer["report_id"], client_id="x") is None
