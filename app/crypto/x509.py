"""ASN.1 building blocks for SM2 certificates and CRLs (RFC 5280 profile, GM/T 0015 algorithms).

asn1crypto builds the to-be-signed structures; the caller signs their DER with SM2-with-SM3 and
`assemble_*` adds the signature. Nothing here touches a private key. Certificates are signed with
the default signer ID 1234567812345678 (GM/T 0009), which `openssl verify -vfyopt
distid:1234567812345678` expects; CRLs with `CRL_SIGNER_ID` (see there).
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timezone

from asn1crypto import algos, core, crl, keys, pem, x509
from cryptography.hazmat.primitives import hashes

SM2_CURVE_OID = "1.2.156.10197.1.301"
SM2_SM3_OID = "1.2.156.10197.1.501"
# The SM2 signer ID a CRL is signed with: empty. OpenSSL 3.0 checks a CRL's signature through
# X509_CRL_verify, which, unlike X509_verify for certificates, hands no distinguishing ID to SM2
# (`-vfyopt distid:…` reaches certificates only), so Z is computed over an empty ID (ENTL = 0). A
# CRL signed with the default ID failed `openssl verify -crl_check` with "CRL signature failure"
# for every certificate; its AKI, cRLNumber, algorithm fields, issuer name and dates were all fine.
# Other verifiers check a CRL with this empty ID (`openssl pkeyutl -verify` without `-pkeyopt distid`).
CRL_SIGNER_ID = b""


def _register_oid(cls: type[core.ObjectIdentifier], oid: str, name: str) -> None:
    cls._map[oid] = name
    if cls._reverse_map is not None:  # asn1crypto builds the reverse map lazily, once
        cls._reverse_map[name] = oid


# asn1crypto knows neither SM2 OID; registered names make `.native` readable (dotted OIDs would
# also encode correctly).
_register_oid(algos.SignedDigestAlgorithmId, SM2_SM3_OID, "sm2_sm3")
if SM2_CURVE_OID not in keys.NamedCurve._map:
    keys.NamedCurve.register("sm2", SM2_CURVE_OID, 32)

# Subject keys accepted by `build_name`: the usual short names → asn1crypto attribute names.
NAME_ATTRIBUTES = {
    "C": "country_name", "ST": "state_or_province_name", "L": "locality_name", "O": "organization_name",
    "OU": "organizational_unit_name", "CN": "common_name", "serialNumber": "serial_number",
    "emailAddress": "email_address", "title": "title", "GN": "given_name", "SN": "surname",
}

# RFC 5280 KeyUsage names (camelCase, as in the RFC and OpenSSL's text) → asn1crypto names.
KEY_USAGES = {
    "digitalSignature": "digital_signature", "nonRepudiation": "non_repudiation",
    "contentCommitment": "non_repudiation", "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment", "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign", "cRLSign": "crl_sign",
}

# RFC 5280 CRLReason names → asn1crypto names.
CRL_REASONS = {
    "unspecified": "unspecified", "keyCompromise": "key_compromise", "cACompromise": "ca_compromise",
    "affiliationChanged": "affiliation_changed", "superseded": "superseded",
    "cessationOfOperation": "cessation_of_operation", "certificateHold": "certificate_hold",
    "removeFromCRL": "remove_from_crl", "privilegeWithdrawn": "privilege_withdrawn", "aACompromise": "aa_compromise",
}


def sm2_sm3() -> algos.SignedDigestAlgorithm:
    """AlgorithmIdentifier for SM2-with-SM3, parameters absent (as OpenSSL writes it)."""
    return algos.SignedDigestAlgorithm({"algorithm": SM2_SM3_OID})


def random_serial() -> int:
    """Positive serial of at most 20 octets (RFC 5280 §4.1.2.2) with 159 random bits."""
    while True:
        serial = secrets.randbits(159)  # high bit of the 20th octet clear: DER needs no 0x00 pad
        if serial:
            return serial


def serial_hex(serial: int) -> str:
    """Lower-case hex with an even number of digits (how the serial is stored and looked up)."""
    text = f"{serial:x}"
    return text if len(text) % 2 == 0 else "0" + text


_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]+")  # X.680 PrintableString


def build_name(attributes: dict[str, str]) -> x509.Name:
    """A distinguished name from {"CN": …, "O": …}: values 1–64 characters (RFC 5280 upper
    bounds), C two capital letters, serialNumber PrintableString. ValueError otherwise."""
    unknown = set(attributes) - set(NAME_ATTRIBUTES)
    if unknown or not attributes:
        raise ValueError(f"unsupported or empty subject attributes: {sorted(unknown)}")
    for key, value in attributes.items():
        if not isinstance(value, str) or not 1 <= len(value) <= 64:
            raise ValueError(f"subject {key} must be 1–64 characters")
    if "C" in attributes and not re.fullmatch(r"[A-Z]{2}", attributes["C"]):
        raise ValueError("subject C must be an ISO 3166 two-letter code")
    if "serialNumber" in attributes and not _PRINTABLE.fullmatch(attributes["serialNumber"]):
        raise ValueError("subject serialNumber must be a PrintableString")
    return x509.Name.build({NAME_ATTRIBUTES[k]: v for k, v in attributes.items()})


def key_identifier(spki: keys.PublicKeyInfo) -> bytes:
    """Subject key identifier: the leftmost 160 bits of SM3 over the subjectPublicKey bits
    (RFC 7093 §2 method 1, with SM3 in place of SHA-256)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(spki["public_key"].contents[1:])  # skip the BIT STRING's unused-bits octet
    return digest.finalize()[:20]


def _time(moment: datetime) -> x509.Time:
    moment = moment.astimezone(timezone.utc).replace(microsecond=0)
    # RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    return x509.Time({"utc_time" if moment.year < 2050 else "general_time": moment})


def _extension(name: str, value, critical: bool = False) -> x509.Extension:
    return x509.Extension({"extn_id": name, "critical": critical, "extn_value": value})


def certificate_extensions(*, ca: bool, key_usage: Iterable[str], subject_key_id: bytes,
                           authority_key_id: bytes, extended_key_usage: Iterable[str] = (),
                           extended_key_usage_critical: bool = False) -> list[x509.Extension]:
    """basicConstraints (critical), keyUsage (critical), SKI, AKI and optional extendedKeyUsage
    (critical when asked: RFC 3161 §2.3 wants a TSA's sole id-kp-timeStamping EKU critical).
    `key_usage` takes RFC names (digitalSignature, nonRepudiation, keyCertSign, cRLSign …)."""
    usages = {KEY_USAGES[u] for u in key_usage}
    extensions = [
        _extension("basic_constraints", {"ca": ca}, critical=True),
        _extension("key_usage", usages, critical=True),
        _extension("key_identifier", subject_key_id),
        _extension("authority_key_identifier", {"key_identifier": authority_key_id}),
    ]
    if extended_key_usage:
        extensions.append(_extension("extended_key_usage", list(extended_key_usage),
                                     critical=extended_key_usage_critical))
    return extensions


def distribution_extensions(*, crl_url: str, ocsp_url: str, ca_issuers_url: str) -> list[x509.Extension]:
    """cRLDistributionPoints (one fullName URI, all reasons) and authorityInfoAccess (id-ad-ocsp,
    id-ad-caIssuers → the CA certificate in DER, RFC 5280 §4.2.2.1), both non-critical."""
    def uri(url: str) -> x509.GeneralName:
        return x509.GeneralName(name="uniform_resource_identifier", value=url)

    point = x509.DistributionPointName(name="full_name", value=[uri(crl_url)])
    return [
        _extension("crl_distribution_points", [{"distribution_point": point}]),
        _extension("authority_information_access", [
            {"access_method": "ocsp", "access_location": uri(ocsp_url)},
            {"access_method": "ca_issuers", "access_location": uri(ca_issuers_url)},
        ]),
    ]


def build_tbs_certificate(*, serial: int, issuer: x509.Name, subject: x509.Name, spki: keys.PublicKeyInfo,
                          not_before: datetime, not_after: datetime,
                          extensions: list[x509.Extension]) -> x509.TbsCertificate:
    return x509.TbsCertificate({
        "version": "v3",
        "serial_number": serial,
        "signature": sm2_sm3(),
        "issuer": issuer,
        "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
        "subject": subject,
        "subject_public_key_info": spki,
        "extensions": extensions,
    })


def assemble_certificate(tbs: x509.TbsCertificate, signature: bytes) -> x509.Certificate:
    """The signed certificate: tbs ‖ SM2-with-SM3 ‖ the DER signature over tbs.dump()."""
    return x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": sm2_sm3(), "signature_value": signature})


def build_tbs_crl(*, issuer: x509.Name, this_update: datetime, next_update: datetime, number: int,
                  authority_key_id: bytes,
                  revoked: Iterable[tuple[int, datetime, str]]) -> crl.TbsCertList:
    """A v2 CRL body. `revoked`: (serial, revocation date, RFC reason name) triples; every entry
    carries a reasonCode, the list carries cRLNumber and authorityKeyIdentifier."""
    entries = [crl.RevokedCertificate({
        "user_certificate": serial,
        "revocation_date": _time(at),
        "crl_entry_extensions": [{"extn_id": "crl_reason", "critical": False, "extn_value": CRL_REASONS[reason]}],
    }) for serial, at, reason in revoked]
    body = {
        "version": "v2",
        "signature": sm2_sm3(),
        "issuer": issuer,
        "this_update": _time(this_update),
        "next_update": _time(next_update),
        "crl_extensions": [
            {"extn_id": "crl_number", "critical": False, "extn_value": number},
            {"extn_id": "authority_key_identifier", "critical": False,
             "extn_value": {"key_identifier": authority_key_id}},
        ],
    }
    if entries:  # RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked
        body["revoked_certificates"] = entries
    return crl.TbsCertList(body)


def assemble_crl(tbs: crl.TbsCertList, signature: bytes) -> crl.CertificateList:
    return crl.CertificateList({"tbs_cert_list": tbs, "signature_algorithm": sm2_sm3(), "signature": signature})


def to_pem(kind: str, der: bytes) -> str:
    return pem.armor(kind, der).decode()


def load_certificate(data: bytes | str) -> x509.Certificate:
    """A certificate from PEM or DER; ValueError if it is neither."""
    raw = data.encode() if isinstance(data, str) else data
    if pem.detect(raw):
        _, _, raw = pem.unarmor(raw)
    cert = x509.Certificate.load(raw)
    cert.native  # parse everything now: a malformed certificate fails here, not later
    return cert
