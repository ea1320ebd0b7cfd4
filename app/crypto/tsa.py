"""The platform's time-stamping authority: RFC 3161 tokens (GB/T 20520 profile) signed SM2-with-SM3.

    token = tsa.timestamp(sm3(document))                    # DER TimeStampToken (a CMS ContentInfo)
    check = tsa.verify_token(token, data=document)          # TimestampCheck(valid, reason, gen_time, …)
    reply = tsa.respond(request_der)                        # the wire protocol: TimeStampReq → TimeStampResp

A token is a SignedData (RFC 5652 OIDs, `cms.PROFILE_PKCS7`, made by app/crypto/cms.py) whose eContent
is a TSTInfo (id-ct-TSTInfo): version 1, POLICY_OID, the messageImprint as asked (SM3 or SHA-256, 32
octets), a random 159-bit serialNumber (x509.random_serial: unique with overwhelming probability, no
table), genTime as GeneralizedTime in UTC to the second with accuracy seconds = 1, the nonce echoed,
and tsa = the TSA certificate's subject (directoryName). The signed attributes carry contentType,
messageDigest (SM3), signingTime (= genTime) and ESS signingCertificateV2 (RFC 5816, SM3 cert hash).
The signer is the platform key of purpose "tsa" (app/crypto/platform_keys.py): its certificate from
the platform CA has the sole extendedKeyUsage id-kp-timeStamping, critical (RFC 3161 §2.3); it rotates
with `flask keys rotate-platform tsa`. certReq true puts the TSA certificate in the token; false leaves
the SignedData without certificates (RFC 3161 §2.4.1: MUST NOT be present) — `verify_token` then
finds the certificate among the platform CA's issued certificates by the signer's serial number.

Policy: POLICY_OID is 2.25.337011221952473327977943416857101564087, a UUID OID (ITU-T X.667 / RFC 4122
§C: "2.25.<UUID as integer>"), which anyone may allocate without registration. YiWang holds no arc
under China's 1.2.156 and must not invent one; an operator with a registered arc changes this constant
(requests naming another policy are refused with unacceptedPolicy, tokens name this one).

`respond` never raises for what a client sends: anything that is not a DER TimeStampReq is a rejection
with failInfo badDataFormat; version ≠ 1 badRequest; a hash other than SM3 / SHA-256 (or parameters
other than absent/NULL) badAlg; an imprint of the wrong length badDataFormat; another policy
unacceptedPolicy; any extension unacceptedExtension (we recognise none); a failure of our own
(key store, database) systemFailure, logged. Nothing about the imprint is logged (it may be a
fingerprint of a personal document).
"""
from __future__ import annotations

import logging

from asn1crypto import cms as asn1_cms
from asn1crypto import core, tsp
from asn1crypto import x509 as asn1_x509

from app.crypto import cms, platform_keys
from app.crypto.ca import keystore
from app.crypto.tsa_verify import TimestampCheck, verify_token  # noqa: F401 - the module's public API
from app.crypto.tsa_verify import HASH_OIDS, ID_CT_TST_INFO, POLICY_OID, SHA256_OID, SM3_OID  # noqa: F401
from app.crypto.x509 import random_serial
from app.db import utcnow

log = logging.getLogger(__name__)

PURPOSE = "tsa"  # the platform key's purpose
MAX_NONCE_BITS = 256  # a nonce is echoed, so it is bounded (OpenSSL sends 64 bits)

# PKIFailureInfo names (asn1crypto) ↔ RFC 3161 names, for documentation and JSON.
FAILURES = {"bad_alg": "badAlg", "bad_request": "badRequest", "bad_data_format": "badDataFormat",
            "unaccepted_policy": "unacceptedPolicy", "unaccepted_extensions": "unacceptedExtension",
            "system_failure": "systemFailure"}


class RequestRejected(ValueError):
    """A TimeStampReq (or the JSON form of one) that cannot be granted; `failure` is the asn1crypto
    PKIFailureInfo name (bad_alg, bad_request, bad_data_format, unaccepted_policy, …)."""

    def __init__(self, failure: str, text: str) -> None:
        super().__init__(text)
        self.failure, self.text = failure, text


def check_imprint(imprint: bytes, hash_oid: str) -> None:
    """RequestRejected unless `imprint` is a digest this TSA stamps (SM3 or SHA-256, 32 octets)."""
    if hash_oid not in HASH_OIDS:
        raise RequestRejected("bad_alg", "unsupported hash algorithm; use SM3 or SHA-256")
    if not isinstance(imprint, bytes) or len(imprint) != HASH_OIDS[hash_oid]:
        raise RequestRejected("bad_data_format", "hashedMessage length does not match the hash algorithm")


def timestamp(imprint: bytes, *, hash_oid: str = SM3_OID, nonce: int | None = None,
              cert_req: bool = True) -> bytes:
    """A DER TimeStampToken over `imprint` (the digest of the data, by `hash_oid`) at the app clock's
    now. RequestRejected for an unsupported hash, a wrong-length imprint or a bad nonce."""
    check_imprint(imprint, hash_oid)
    if nonce is not None and (not isinstance(nonce, int) or nonce < 0 or nonce.bit_length() > MAX_NONCE_BITS):
        raise RequestRejected("bad_request", f"nonce must be a non-negative integer of at most {MAX_NONCE_BITS} bits")
    key = platform_keys.current(PURPOSE)
    certificate = asn1_x509.Certificate.load(key.certificate_der)
    gen_time = utcnow().replace(microsecond=0)
    info = {
        "version": "v1",
        "policy": POLICY_OID,
        "message_imprint": {"hash_algorithm": {"algorithm": hash_oid}, "hashed_message": imprint},
        "serial_number": random_serial(),
        "gen_time": gen_time,
        "accuracy": {"seconds": 1},
        "tsa": asn1_x509.GeneralName(name="directory_name", value=certificate.subject),
    }
    if nonce is not None:
        info["nonce"] = nonce
    tst_info = tsp.TSTInfo(info).dump()
    signer = cms.Signer(certificate_der=key.certificate_der, sign=lambda message: keystore().sign(key.key_id, message))
    token = cms.sign(tst_info, signer=signer, detached=False, profile=cms.PROFILE_PKCS7,
                     content_type=ID_CT_TST_INFO, signing_time=gen_time)
    return token if cert_req else _without_certificates(token)


def _without_certificates(token: bytes) -> bytes:
    """The same token without the SignedData's certificates field (the signature does not cover it)."""
    info = asn1_cms.ContentInfo.load(token)
    signed_data = info["content"]
    signed_data["certificates"] = None
    return asn1_cms.ContentInfo({"content_type": info["content_type"], "content": signed_data}).dump(force=True)


# --- the wire protocol -----------------------------------------------------------------------

def parse_request(request_der: bytes) -> tuple[bytes, str, int | None, bool]:
    """(imprint, hash OID, nonce, certReq) of a DER TimeStampReq this TSA grants; RequestRejected otherwise."""
    try:
        request = tsp.TimeStampReq.load(request_der, strict=True)
        request.native  # parse everything now: malformed inner parts fail here
        if request.dump(force=True) != request_der:
            raise ValueError("not DER")
    except Exception:  # noqa: BLE001 - asn1crypto raises ValueError, TypeError, KeyError … on garbage
        raise RequestRejected("bad_data_format", "the request is not a DER TimeStampReq") from None
    if request["version"].native != "v1":
        raise RequestRejected("bad_request", "version must be 1")
    algorithm = request["message_imprint"]["hash_algorithm"]
    if algorithm["parameters"].native is not None:
        raise RequestRejected("bad_alg", "hash algorithm parameters must be absent or NULL")
    hash_oid = algorithm["algorithm"].dotted
    imprint = request["message_imprint"]["hashed_message"].native
    check_imprint(imprint, hash_oid)
    policy = request["req_policy"]
    if policy.native is not None and policy.dotted != POLICY_OID:
        raise RequestRejected("unaccepted_policy", f"this TSA stamps under policy {POLICY_OID} only")
    if request["extensions"].native:
        raise RequestRejected("unaccepted_extensions", "no request extension is supported")
    nonce = request["nonce"].native
    if nonce is not None and (nonce < 0 or nonce.bit_length() > MAX_NONCE_BITS):
        raise RequestRejected("bad_request", f"nonce must be a non-negative integer of at most {MAX_NONCE_BITS} bits")
    return imprint, hash_oid, nonce, bool(request["cert_req"].native)


class TimeStampResp(core.Sequence):
    """RFC 3161 §2.4.2 — asn1crypto's tsp.TimeStampResp makes timeStampToken mandatory; it is OPTIONAL."""

    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", asn1_cms.ContentInfo, {"optional": True})]


def rejection(failure: str, text: str) -> bytes:
    """A DER TimeStampResp with status rejection, the failure bit and a statusString."""
    return TimeStampResp({"status": {"status": "rejection", "status_string": [text],
                                         "fail_info": {failure}}}).dump()


def granted(token: bytes) -> bytes:
    return TimeStampResp({"status": {"status": "granted"},
                              "time_stamp_token": asn1_cms.ContentInfo.load(token)}).dump()


def respond(request_der: bytes) -> bytes:
    """The DER TimeStampResp to a DER TimeStampReq: granted with a token, or a rejection with its
    PKIFailureInfo. Never raises for client input; our own failures are systemFailure (logged)."""
    try:
        imprint, hash_oid, nonce, cert_req = parse_request(request_der)
    except RequestRejected as exc:
        return rejection(exc.failure, exc.text)
    try:
        return granted(timestamp(imprint, hash_oid=hash_oid, nonce=nonce, cert_req=cert_req))
    except Exception:  # noqa: BLE001 - RFC 3161: the client gets systemFailure, the operator the log
        log.exception("time-stamp token could not be issued")
        return rejection("system_failure", "the time-stamping authority failed; try again later")


def response_status(response_der: bytes) -> tuple[str, set[str], bytes | None]:
    """(status, failure names, token DER or None) of a TimeStampResp — for tests and clients."""
    response = TimeStampResp.load(response_der)
    token = response["time_stamp_token"]
    return (response["status"]["status"].native, set(response["status"]["fail_info"].native or ()),
            token.dump() if token.native is not None else None)


def token_info(token: bytes) -> dict:
    """{serial, gen_time, policy, hash_oid, nonce} read from a token we just made (unchecked: use
    verify_token for anything received)."""
    tst = asn1_cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
    return {"serial": tst["serial_number"].native, "gen_time": tst["gen_time"].native,
            "policy": tst["policy"].dotted, "nonce": tst["nonce"].native,
            "hash_oid": tst["message_imprint"]["hash_algorithm"]["algorithm"].dotted}
