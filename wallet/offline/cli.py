"""`flask --app wsgi wallet verify-offline QR_TEXT --trust-list FILE`: check an offline QR the way a
verifying device does — the trust list from a file (as fetched from GET /.well-known/yiwang/issuers),
no network, no database. Exit status 0 verified, 1 refused, 2 seen before (with --seen FILE)."""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from pathlib import Path

import click

from app.clock import CHINA_TZ
from wallet.offline.verify import TrustListError, open_trust_list, verify


def _signature(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:1] == b"\x30":  # DER: SEQUENCE
        return raw
    return base64.b64decode(raw.strip(), validate=True)


def _load_seen(path: Path | None) -> set[str]:
    if path is None or not path.exists():
        return set()
    return set(json.loads(path.read_text() or "[]"))


@click.command("verify-offline")
@click.argument("qr_text")
@click.option("--trust-list", "trust_list", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="The body of GET /.well-known/yiwang/issuers, saved byte for byte (curl -o).")
@click.option("--signature", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Its YiWang-Signature header: the DER signature (as `openssl base64 -d` writes it) or its base64.")
@click.option("--kid", default=None, help="Its YiWang-Signature-Kid header (default: any trust-list key it names).")
@click.option("--ca", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Pin the platform CA certificate (PEM): the trust list's signing key must chain to it.")
@click.option("--seen", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A JSON file of codes seen on this device (read and updated): a replay answers seen_before.")
@click.option("--unsigned-ok", is_flag=True, help="Accept the trust list without a signature (tests only).")
@click.option("--now", type=int, default=None, help="Unix time to check against (default: the clock).")
def verify_offline(qr_text: str, trust_list: Path, signature: Path | None, kid: str | None, ca: Path | None,
                   seen: Path | None, unsigned_ok: bool, now: int | None) -> None:
    """Verify an offline QR text (YWO1:…) with a saved trust list, without network."""
    if signature is None and not unsigned_ok:
        raise click.ClickException("the trust list's signature is needed (--signature), or --unsigned-ok")
    try:
        trust = open_trust_list(trust_list.read_bytes(), signature=_signature(signature) if signature else None,
                                kid=kid, ca_pem=ca.read_bytes() if ca else None)
    except (TrustListError, ValueError, KeyError) as exc:
        raise click.ClickException(f"trust list refused: {exc}") from None
    seen_set = _load_seen(seen)
    result = verify(qr_text, trust, now=int(time.time()) if now is None else now, seen=seen_set)
    if seen is not None:
        seen.write_text(json.dumps(sorted(seen_set)))
    out = {"status": result.status, "reason": result.reason, "flags": list(result.flags)}
    p = result.payload
    if p is not None and result.status != "refused":
        out.update({
            "identifier": p.identifier, "licence_version": p.licence_version, "type_code": p.type_code,
            "matter": p.matter, "issuer": {"uscc": p.issuer_uscc, "name": result.issuer_name, "kid": p.issuer_kid},
            "holder": {"name_masked": p.holder_name_masked, "id_number_last4": p.holder_id_tail4},
            "fields": {key: value for key, _how, value in p.fields},
            "how": {key: how for key, how, _value in p.fields},
            "issued_at": datetime.fromtimestamp(p.issued_at, CHINA_TZ).isoformat(),
            "expires_at": datetime.fromtimestamp(p.expires_at, CHINA_TZ).isoformat(),
        })
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    raise SystemExit({"verified": 0, "refused": 1, "seen_before": 2}[result.status])
