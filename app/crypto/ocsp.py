"""OCSP responder (RFC 6960) for the platform CA: DER OCSPRequest in, DER OCSPResponse out.

    der = ocsp.respond(request_der)          # never raises for bad input: malformedRequest (1)

Each CertID of the request (at most `MAX_CERT_IDS`) is answered in a SingleResponse that echoes it
byte for byte: `good`, `revoked` (revocationTime + CRLReason) or `unknown`. CertIDs hashed with
SHA-1 (OpenSSL's default), SHA-256 or SM3 (1.2.156.10197.1.401) are understood; `unknown` answers a
serial this CA never issued (RFC 6960 §2.2), a CertID whose issuerNameHash / issuerKeyHash are not
this CA's, and a hash algorithm outside those three. thisUpdate is now, nextUpdate now + OCSP_TTL.
A nonce extension (RFC 8954) in the request is echoed unchanged in responseExtensions. A signed
request is answered like an unsigned one (its signature is not required, so not checked).

Who signs. The CA key itself (RFC 6960 §4.2.2.2, first case), not a delegated responder
certificate. A delegated responder exists to keep the CA key offline while revocation answers are
signed online; here the CA key is online anyway (it issues a certificate at every enrolment and
re-signs the CRL at every revocation, app/crypto/ca.py), so a delegate would add a second online key
without taking the first offline, and its certificate would need id-pkix-ocsp-nocheck — a responder
key whose compromise no relying party could learn of until that certificate expires. A CA-signed
answer is checked by every client with nothing but the CA certificate (`openssl ocsp -issuer ca.pem
-CAfile ca.pem`). The CA certificate is included in `certs` so clients that were given only a trust
store find the signer. responderID is byKey: SHA-1 of the CA's subjectPublicKey bits.

The SM2 distinguishing ID of the signature: OCSP_SIGNER_ID (empty). OpenSSL 3.0 checks a response
with OCSP_basic_verify → OCSP_BASICRESP_verify → ASN1_item_verify, which, like X509_CRL_verify for
CRLs (x509.CRL_SIGNER_ID) and unlike X509_verify for certificates, hands SM2 no distinguishing ID,
so Z is computed over an empty ID (ENTL = 0). Measured with OpenSSL 3.0.19 (`openssl ocsp -respin
resp.der -issuer ca.pem -CAfile ca.pem`): a response signed with the empty ID verifies ("Response
verify OK"); the same response signed with the default ID 1234567812345678 fails with "signature
failure" (tests/crypto/test_ocsp.py holds both). `openssl ocsp` has no option to pass an ID.

Cost and cache. One SM2 signature per answer. An answer to a single CertID without a nonce (what
browsers, OpenSSL without -nonce and RFC 5019 GET clients send) is kept in process, keyed by (CA,
CertID, status, revocation time), and served again until half its validity has passed. The status
is read from the database on every request, so a revocation (PlatformCA.revoke) changes the key and
the next answer is a fresh `revoked` in every process at once; nothing stale survives it.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from asn1crypto import algos, core, ocsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from flask import current_app

from app.crypto import x509
from app.crypto.ca import platform_ca
from app.crypto.ca_models import CertificateRecord
from app.db import utcnow

log = logging.getLogger(__name__)

OCSP_SIGNER_ID = b""  # SM2 distinguishing ID of response signatures: see the module doc
SM3_OID = "1.2.156.10197.1.401"
MAX_CERT_IDS = 20  # CertIDs per request; more is malformedRequest
MAX_REQUEST_BYTES = 16 * 1024
CACHE_SIZE = 10_000

if SM3_OID not in algos.DigestAlgorithmId._map:
    x509._register_oid(algos.DigestAlgorithmId, SM3_OID, "sm3")


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


_HASHES = {
    "sha1": lambda data: hashlib.sha1(data).digest(),  # noqa: S324 - CertID hash, not a security choice here
    "sha256": lambda data: hashlib.sha256(data).digest(),
    "sm3": _sm3,
}


@dataclass(frozen=True)
class Status:
    """What the responder says of one CertID."""
    status: str  # good | revoked | unknown
    revoked_at: datetime | None = None
    reason: str | None = None  # RFC 5280 name (keyCompromise …)


class _Cache:
    """Signed single-CertID answers until half their validity; bounded, per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[datetime, bytes]] = {}

    def get(self, key: tuple, now: datetime) -> bytes | None:
        found = self._entries.get(key)
        return found[1] if found and now < found[0] else None

    def put(self, key: tuple, until: datetime, der: bytes) -> None:
        with self._lock:
            if len(self._entries) >= CACHE_SIZE:
                self._entries.clear()
            self._entries[key] = (until, der)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _Cache()


def error_response(status: str) -> bytes:
    """An OCSPResponse without responseBytes: malformed_request, internal_error, try_later, unauthorized."""
    return ocsp.OCSPResponse({"response_status": status}).dump()


def parse_request(der: bytes) -> ocsp.OCSPRequest:
    """The request, fully parsed; ValueError when it is not a well-formed OCSPRequest."""
    if not der or len(der) > MAX_REQUEST_BYTES:
        raise ValueError("empty or oversized OCSP request")
    try:
        request = ocsp.OCSPRequest.load(der, strict=True)
        request.native  # parse everything now: malformed contents fail here
        cert_ids = [item["req_cert"] for item in request["tbs_request"]["request_list"]]
    except Exception as exc:  # noqa: BLE001 - any parse failure of client input is "malformed"
        raise ValueError(f"not an OCSP request: {type(exc).__name__}") from None
    if not 1 <= len(cert_ids) <= MAX_CERT_IDS:
        raise ValueError("an OCSP request names 1 to 20 certificates")
    return request


def _nonce(request: ocsp.OCSPRequest) -> ocsp.ResponseDataExtension | None:
    for extension in request["tbs_request"]["request_extensions"] or []:
        if extension["extn_id"].dotted == "1.3.6.1.5.5.7.48.1.2":
            # echoed byte for byte (OpenSSL wraps the nonce in an OCTET STRING, some clients do not)
            return ocsp.ResponseDataExtension.load(extension.dump())
    return None


def _issuer_hashes(ca_cert: asn1_x509.Certificate) -> dict[str, tuple[bytes, bytes]]:
    """Per hash algorithm: (hash of the issuer Name DER, hash of the issuer key's BIT STRING value)."""
    name = ca_cert.subject.dump()
    key = ca_cert.public_key["public_key"].contents[1:]  # skip the unused-bits octet
    return {algo: (digest(name), digest(key)) for algo, digest in _HASHES.items()}


def lookup(ca_id: str, issuer_hashes: dict[str, tuple[bytes, bytes]], cert_id: ocsp.CertId) -> Status:
    """The status this CA gives a CertID (read live from the issued-certificate table)."""
    algo = cert_id["hash_algorithm"]["algorithm"].native
    if algo not in issuer_hashes:
        return Status("unknown")
    name_hash, key_hash = issuer_hashes[algo]
    if cert_id["issuer_name_hash"].native != name_hash or cert_id["issuer_key_hash"].native != key_hash:
        return Status("unknown")
    serial = cert_id["serial_number"].native
    if serial <= 0 or serial.bit_length() > 160:
        return Status("unknown")
    row = CertificateRecord.get_or_none(CertificateRecord.serial == x509.serial_hex(serial),
                                        CertificateRecord.ca == ca_id)
    if row is None:
        return Status("unknown")
    if row.status == "revoked":
        return Status("revoked", row.revoked_at, row.reason)
    return Status("good")


def _gtime(moment: datetime) -> core.GeneralizedTime:
    """GeneralizedTime in UTC, whole seconds (a naive time from the database is UTC already)."""
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return core.GeneralizedTime(moment.replace(microsecond=0))


def _single(cert_id: ocsp.CertId, found: Status, now: datetime, ttl: timedelta) -> ocsp.SingleResponse:
    if found.status == "revoked":
        info = {"revocation_time": _gtime(found.revoked_at)}
        if found.reason:
            info["revocation_reason"] = x509.CRL_REASONS[found.reason]
        status = ocsp.CertStatus(name="revoked", value=ocsp.RevokedInfo(info))
    else:
        status = ocsp.CertStatus(name=found.status, value=core.Null())
    return ocsp.SingleResponse({"cert_id": cert_id, "cert_status": status, "this_update": _gtime(now),
                                "next_update": _gtime(now + ttl)})


def build_response(*, ca_cert: asn1_x509.Certificate, sign, singles: list[ocsp.SingleResponse], now: datetime,
                   nonce: ocsp.ResponseDataExtension | None = None, uid: bytes = OCSP_SIGNER_ID) -> bytes:
    """A successful OCSPResponse (DER) around a BasicOCSPResponse signed SM2-with-SM3 by `sign(data, uid)`."""
    data = {
        "responder_id": ocsp.ResponderId(
            name="by_key", value=hashlib.sha1(ca_cert.public_key["public_key"].contents[1:]).digest()),  # noqa: S324
        "produced_at": _gtime(now),
        "responses": singles,
    }
    if nonce is not None:
        data["response_extensions"] = [nonce]
    tbs = ocsp.ResponseData(data)
    basic = ocsp.BasicOCSPResponse({"tbs_response_data": tbs, "signature_algorithm": x509.sm2_sm3(),
                                    "signature": sign(tbs.dump(), uid), "certs": [ca_cert]})
    return ocsp.OCSPResponse({"response_status": "successful", "response_bytes": {
        "response_type": "basic_ocsp_response", "response": basic}}).dump()


def respond(request_der: bytes, *, ca=None, ttl_seconds: int | None = None) -> bytes:
    """The DER OCSPResponse to a DER OCSPRequest, by the platform CA (`ca`: a PlatformCA, default the
    app's). malformedRequest for input that is not a well-formed request; internalError (logged)
    when the CA cannot answer. Never raises."""
    try:
        request = parse_request(request_der)
    except ValueError as exc:
        log.info("OCSP request refused as malformed", extra={"reason": str(exc)[:80]})
        return error_response("malformed_request")
    try:
        return _answer(request, ca, ttl_seconds)
    except Exception:  # noqa: BLE001 - RFC 6960 §2.3: the responder says internalError, not a broken HTTP answer
        log.exception("OCSP responder failed")
        return error_response("internal_error")


def _answer(request: ocsp.OCSPRequest, ca, ttl_seconds: int | None) -> bytes:
    ca = ca or platform_ca()
    ttl = timedelta(seconds=ttl_seconds if ttl_seconds is not None else current_app.config["OCSP_TTL"])
    ca_id, ca_cert, sign = ca.ocsp_responder()
    hashes_ = _issuer_hashes(ca_cert)
    cert_ids = [item["req_cert"] for item in request["tbs_request"]["request_list"]]
    found = [lookup(ca_id, hashes_, cert_id) for cert_id in cert_ids]
    nonce = _nonce(request)
    now = utcnow().replace(microsecond=0)
    key = None
    if nonce is None and len(cert_ids) == 1:
        key = (ca_id, cert_ids[0].dump(), found[0].status, found[0].revoked_at)
        cached = _cache.get(key, now)
        if cached is not None:
            return cached
    singles = [_single(cert_id, status, now, ttl) for cert_id, status in zip(cert_ids, found)]
    der = build_response(ca_cert=ca_cert, sign=sign, singles=singles, now=now, nonce=nonce)
    if key is not None:
        _cache.put(key, now + ttl / 2, der)
    return der


def http_cache_headers(response_der: bytes) -> dict[str, str]:
    """RFC 5019 §6.2 caching headers for a GET answer: max-age up to nextUpdate, ETag, Last-Modified,
    Expires. {} for an error status or an answer carrying a nonce (neither may be cached)."""
    response = ocsp.OCSPResponse.load(response_der)
    if response["response_status"].native != "successful":
        return {}
    data = response["response_bytes"]["response"].parsed["tbs_response_data"]
    if data["response_extensions"].native:
        return {}
    this_update = max(single["this_update"].native for single in data["responses"])
    next_update = min(single["next_update"].native for single in data["responses"])
    max_age = int((next_update - utcnow()).total_seconds())
    if max_age <= 0:
        return {}
    return {
        "Cache-Control": f"max-age={max_age}, public, no-transform, must-revalidate",
        "ETag": '"' + hashlib.sha1(response_der).hexdigest() + '"',  # noqa: S324 - RFC 5019's suggested ETag
        "Last-Modified": format_datetime(this_update, usegmt=True),
        "Expires": format_datetime(next_update, usegmt=True),
    }


def clear_cache() -> None:
    """Forget every cached answer (tests; a CA replaced at run time is keyed apart anyway)."""
    _cache.clear()
