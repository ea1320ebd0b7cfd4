"""Signing commands: `flask --app wsgi signing <command>`."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import click
from asn1crypto import pem
from flask.cli import AppGroup

from app.clock import CHINA_TZ, china_today, to_china
from app.crypto import cms, x509
from app.crypto.ca import platform_ca
from app.crypto.sm3 import sm3, sm3_hex
from app.db import unit_of_work, utcnow
from signing import evidence, models, notices

signing_cli = AppGroup("signing", help="Cloud signing (电子云签): certificate expiry reminders, signature evidence.")
COMMANDS = (signing_cli,)


def remind_expiring() -> int:
    """Queue the certificate-expiry notices now due: an active certificate whose not_after (China
    date) is within 30 days gets the 30-day notice, within 7 days the 7-day one; each once (dedupe
    key: serial and threshold), so a daily run — or a missed day made up later — never repeats one.
    The number queued."""
    day = china_today()
    start = datetime.combine(day, time(), tzinfo=CHINA_TZ)
    end = datetime.combine(day + timedelta(days=max(notices.THRESHOLDS) + 1), time(), tzinfo=CHINA_TZ)
    queued = 0
    for credential, not_after in models.certificates_ending(start, end):
        until = to_china(not_after).date()
        days_left = (until - day).days
        threshold = min(t for t in notices.THRESHOLDS if days_left <= t)
        with unit_of_work():
            queued += notices.certificate_expiring(user_id=credential.user_id, serial=credential.cert_serial,
                                                   until=until, threshold=threshold, days_left=days_left)
    return queued


@signing_cli.command("remind-expiring")
def remind_expiring_command() -> None:
    """Queue the signing-certificate expiry notices (30 and 7 days before not_after). Run daily."""
    click.echo(f"queued {remind_expiring()} certificate expiry notice(s)")


@signing_cli.command("prune-documents")
def prune_documents_command() -> None:
    """Delete the documents kept for signing requests that expired unsigned (each new request also does)."""
    with unit_of_work():
        click.echo(f"deleted {models.drop_expired_documents(utcnow())} expired request document(s)")


# --- Evidence for a court or a relying party -----------------------------------------------------

VERIFY_TEXT = """YiWang signature evidence (签名证据) — signature {signature_id}
Document SM3 = the signed messageDigest: {document_sm3}
Signed at {signed_at} (UTC); time-stamped at {gen_time} (UTC) by the TSA certificate {tsa_serial}
SM3 of the CMS signature value (the timestamp's imprint): {imprint}

1. Certificates: the signer's and the TSA's, issued by the platform CA (OpenSSL 3 needs the SM2 ID)
   openssl verify -vfyopt distid:1234567812345678 -CAfile ca.pem signer.pem
   openssl verify -vfyopt distid:1234567812345678 -CAfile ca.pem tsa.pem
   gmssl certverify -in signer.pem -cacert ca.pem
   Revocation: the CRL at the URL in the certificate (openssl x509 -in signer.pem -noout -ext crlDistributionPoints).

2. The CMS SignedData, GM/T 0010 (GmSSL 3.1 reads PEM "-----BEGIN CMS-----"; .p7s are the same in DER)
   gmssl cmsverify -in signature.pem                        -> verify success (signed attributes, messageDigest among them)
{attached_line}   gmssl cmsparse -in signature.pem                         -> messageDigest, signingTime, the signer's certificate

3. The document: its SM3 must be the messageDigest above
   gmssl sm3 -in DOCUMENT        or        openssl dgst -sm3 DOCUMENT

4. The timestamp (RFC 3161 token in the SignerInfo's unsigned attribute id-aa-signatureTimeStampToken; also timestamp.tsr)
   openssl ts -reply -token_in -in timestamp.tsr -text      -> Hash Algorithm: sm3, Message data = the imprint above, Time stamp
   OpenSSL 3.0 cannot check an SM2 token's signature (`openssl ts -verify` passes no SM2 ID); the platform's
   POST /api/v1/verify/signatures {{cms_b64, document_b64}} checks it and reports the proof of existence.
"""
ATTACHED_LINE = ("   gmssl cmsverify -in attached.pem -out document.out       -> verify success; document.out is the document "
                 "(signed itself: its own signature and token)\n")


def _write(out: Path, name: str, data: bytes | str) -> str:
    (out / name).write_bytes(data.encode() if isinstance(data, str) else data)
    return name


def export_evidence(signature_id: str, out: Path, document: bytes | None = None) -> list[str]:
    """Write a signature's evidence into `out`; the names written. ClickException when the signature
    or its CMS is missing, or the document is not the one signed."""
    row = models.signature_by_id(signature_id)
    if row is None or row.cms_der is None:
        raise click.ClickException(f"no CMS evidence for signature {signature_id!r}")
    der = bytes(row.cms_der)
    info, token = cms.parse(der), evidence.timestamp_token(der)
    if document is not None and sm3(document) != info.digest:
        raise click.ClickException("the document's SM3 is not the signed messageDigest")
    if document is not None and row.cms_attached_der is None:
        raise click.ClickException("no attached form: the platform never had this document (digest mode)")
    out.mkdir(parents=True, exist_ok=True)
    written = [_write(out, "signature.p7s", der), _write(out, "signature.pem", pem.armor("CMS", der)),
               _write(out, "signer.pem", x509.to_pem("CERTIFICATE", info.certificate_der)),
               _write(out, "ca.pem", platform_ca().certificate_pem())]
    if token is not None:
        written += [_write(out, "timestamp.tsr", token),
                    _write(out, "tsa.pem", x509.to_pem("CERTIFICATE", cms.parse(token).certificate_der))]
    if document is not None:
        attached = evidence.splice(bytes(row.cms_attached_der), document)
        written += [_write(out, "attached.p7s", attached), _write(out, "attached.pem", pem.armor("CMS", attached))]
    written.append(_write(out, "VERIFY.txt", VERIFY_TEXT.format(
        signature_id=row.id, document_sm3=info.digest.hex(), signed_at=row.signed_at.isoformat(),
        gen_time=row.timestamped_at.isoformat() if row.timestamped_at else "-", tsa_serial=row.tsa_serial or "-",
        imprint=sm3_hex(info.signature), attached_line=ATTACHED_LINE if document is not None else "")))
    return written


@signing_cli.command("export-evidence")
@click.argument("signature_id")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write into (created).")
@click.option("--document", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The signed document: also write the attached form (attached.p7s).")
def export_evidence_command(signature_id: str, out: Path, document: Path | None) -> None:
    """Write a signature's evidence: signature.p7s (detached CMS, DER; .pem for GmSSL), attached.p7s
    (with --document), signer.pem, ca.pem, tsa.pem, timestamp.tsr and VERIFY.txt with the commands."""
    written = export_evidence(signature_id, out, document.read_bytes() if document else None)
    click.echo(f"wrote {', '.join(written)} to {out}")
