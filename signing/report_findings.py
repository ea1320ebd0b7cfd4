"""What one verification found, step by step (issue 18): the verification modules fill it, the report
(signing/report.py) and its article 13 part (signing/report_article13.py) read it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FORMAT_CMS, FORMAT_RAW = "CMS GM/T 0010", "raw SM2"


@dataclass
class Findings:
    """The facts behind an indication. `signature_ok` / `digest_ok`: True, False, or None when the
    step could not run (no trusted key; no content or digest given)."""

    format: str
    indication: str
    sub_indication: str | None
    certificate: Any  # verification._Cert: the parsed, chain-checked signer certificate
    certificate_der: bytes
    certificate_part: dict[str, Any]  # the answer's `certificate` (serial, status, issuer, validity, revocation)
    signature_value: bytes  # the SM2 signature value (raw form: the signature; CMS: the SignerInfo's)
    checked_at: datetime
    signature_ok: bool | None = None
    format_ok: bool = True
    signed_over: str = "e"  # e = SM3(Z‖M) | signed_attributes
    digest: dict[str, Any] = field(default_factory=dict)  # algorithm, message_digest, content_sm3, match, source
    timestamp: dict[str, Any] | None = None  # the timestamp part of the report (None: the SignedData has none)
    poe_time: datetime | None = None  # the timestamp's genTime when it is a usable proof of existence
    status_at_poe: str = "unknown"  # good | revoked | unknown, at poe_time (or at checked_at without one)
    platform_record: Any = None  # report_models.PlatformSignature when the platform made this signature
    extra: dict[str, Any] = field(default_factory=dict)
