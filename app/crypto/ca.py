"""Platform CA: a self-signed SM2 root that issues X.509 v3 certificates for SM2 keys, revokes
them, and publishes a v2 CRL.

Development creates the root on first use (its key in the key store, purpose "ca"); production
takes it from PLATFORM_CA_CERT / PLATFORM_CA_KEY and imports the key into the key store on first
use. First use, not start-up: `flask db upgrade` builds the app before the tables exist.
Certificates are signed SM2-with-SM3 with the default signer ID (GM/T 0009); CRLs with the empty
ID OpenSSL 3.0 verifies them with (`x509.CRL_SIGNER_ID`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

import peewee as pw
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from flask import Flask, current_app

from app import audit
from app.config import ConfigError
from app.crypto import x509
from app.crypto.ca_models import CaCrl, CertificateRecord, PlatformCa
from app.crypto.errors import (
    CertificateAlreadyRevoked, CertificateNotFound, InvalidCertificateRequest, InvalidRevocationReason,
)
from app.crypto.keystore import Actor, KeyStore, build_keystore
from app.crypto.sm2 import SM2PrivateKey, SM2PublicKey
from app.db import db, new_id, unit_of_work, utcnow
from app.i18n import N_

log = logging.getLogger(__name__)

ROOT_SUBJECT = {"C": "CN", "O": "YiWang", "CN": "YiWang Platform Root CA (development)"}
ROOT_DAYS = 3650
CA_PURPOSE, CA_OWNER = "ca", "platform"
LEAF_FORBIDDEN_USAGES = {"keyCertSign", "cRLSign"}  # this CA issues end-entity certificates only
# certificateHold would need a release operation and removeFromCRL only means something in delta
# CRLs; neither exists here, so revocation is permanent.
REVOCATION_REASONS = frozenset(x509.CRL_REASONS) - {"certificateHold", "removeFromCRL"}


@dataclass(frozen=True)
class IssuedCertificate:
    serial: str  # lower-case hex
    pem: str
    der: bytes
    not_before: datetime
    not_after: datetime




@dataclass(frozen=True)
class ConfiguredCa:
    certificate: asn1_x509.Certificate
    private_key: SM2PrivateKey


@dataclass(frozen=True)
class _ActiveCa:
    id: str
    key_id: str
    certificate: asn1_x509.Certificate
    key_identifier: bytes
    der: bytes  # certificate.dump(), taken once (asn1crypto re-walks the tree on every dump)


def _sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def _subject_text(subject: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in subject.items() if v)


def _ca_key_identifier(cert: asn1_x509.Certificate) -> bytes:
    """The CA's own SKI when it has one (AKI of its certificates must match it), else computed."""
    return cert.key_identifier or x509.key_identifier(cert.public_key)


def load_configured_ca(settings: dict[str, Any]) -> ConfiguredCa | None:
    """PLATFORM_CA_CERT + PLATFORM_CA_KEY, checked: a CA certificate, still valid, whose public key
    is the configured private key's. ConfigError names what is wrong; None when neither is set."""
    cert_pem, key_pem = settings.get("PLATFORM_CA_CERT"), settings.get("PLATFORM_CA_KEY")
    if not cert_pem and not key_pem:
        return None
    if not cert_pem or not key_pem:
        raise ConfigError("PLATFORM_CA_CERT and PLATFORM_CA_KEY must be set together")
    try:
        cert = x509.load_certificate(cert_pem)
        key = SM2PrivateKey.from_pem(key_pem.encode() if isinstance(key_pem, str) else key_pem)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a configuration error
        raise ConfigError(f"PLATFORM_CA_CERT / PLATFORM_CA_KEY cannot be read: {type(exc).__name__}") from None
    if cert.public_key.dump() != key.public_key().public_bytes_der():
        raise ConfigError("PLATFORM_CA_KEY is not the key of PLATFORM_CA_CERT")
    if not cert.ca:
        raise ConfigError("PLATFORM_CA_CERT is not a CA certificate (basicConstraints CA:TRUE)")
    if cert.not_valid_after <= utcnow():
        raise ConfigError("PLATFORM_CA_CERT has expired")
    return ConfiguredCa(cert, key)


class PlatformCA:
    """Issues, revokes and lists certificates under the platform CA."""

    def __init__(self, keystore: KeyStore, *, configured: ConfiguredCa | None, crl_ttl: int = 86400,
                 pki_base_url: str = "") -> None:
        """`configured`: the production CA; without it a development root is generated. With
        `pki_base_url`, issued certificates point to its CRL, OCSP and CA certificate URLs."""
        self._keystore = keystore
        self._pki_base_url = pki_base_url.rstrip("/")
        self._configured = configured
        self._crl_ttl = timedelta(seconds=crl_ttl)
        self._active: _ActiveCa | None = None
        self._crls_checked: set[tuple[str, int]] = set()  # stored CRLs known to carry CRL_SIGNER_ID

    # --- the CA itself -----------------------------------------------------------------------

    def certificate_der(self) -> bytes:
        return self._ca().der

    def certificate_pem(self) -> str:
        return x509.to_pem("CERTIFICATE", self.certificate_der())

    def ocsp_responder(self) -> tuple[str, asn1_x509.Certificate, Callable[[bytes, bytes], bytes]]:
        """(CA id, CA certificate, sign(data, uid)) for app/crypto/ocsp.py, which signs its responses
        with the CA key itself (see there why). Nothing else signs with this."""
        ca = self._ca()
        return ca.id, ca.certificate, lambda data, uid: self._keystore.sign(ca.key_id, data, uid=uid)

    def _distribution(self) -> list[asn1_x509.Extension]:
        if not self._pki_base_url:
            return []
        base = f"{self._pki_base_url}/api/v1/signing"
        return x509.distribution_extensions(crl_url=f"{base}/crl", ocsp_url=f"{base}/ocsp",
                                            ca_issuers_url=f"{base}/ca.cer")

    def _ca(self) -> _ActiveCa:
        if self._active is None:
            row = PlatformCa.get_or_none(PlatformCa.slot == "active")
            wanted = _sm3_hex(self._configured.certificate.dump()) if self._configured else None
            if row is None or (wanted and row.fingerprint != wanted):
                self._install(row)
                row = PlatformCa.get(PlatformCa.slot == "active")
            cert = x509.load_certificate(row.pem)
            self._active = _ActiveCa(row.id, row.key_id, cert, _ca_key_identifier(cert), cert.dump())
        return self._active

    def _install(self, previous: PlatformCa | None) -> None:
        """Put the configured CA (or a new development root) in the active slot. Of two processes
        doing this at once, one wins on the unique slot and the other rolls back and reads it."""
        try:
            with unit_of_work():
                if self._configured:
                    cert = self._configured.certificate
                    key = self._keystore.import_private_key(self._configured.private_key, purpose=CA_PURPOSE,
                                                            owner=CA_OWNER, label="platform-root")
                    source = "configured"
                else:
                    key = self._keystore.generate(purpose=CA_PURPOSE, owner=CA_OWNER, label="platform-root")
                    cert = self._self_signed(key.key_id, key.public_key_der)
                    source = "generated"
                if previous is not None:  # the configuration names another CA certificate: it replaces this one
                    PlatformCa.update(slot=None).where(PlatformCa.id == previous.id).execute()
                    if previous.key_id != key.key_id:  # a renewed certificate may keep its key
                        self._keystore.disable(previous.key_id, "superseded")
                ca_id = new_id("ca")
                PlatformCa.create(id=ca_id, slot="active", key_id=key.key_id, source=source,
                                  subject=cert.subject.human_friendly[:512], serial=x509.serial_hex(cert.serial_number),
                                  fingerprint=_sm3_hex(cert.dump()), pem=x509.to_pem("CERTIFICATE", cert.dump()),
                                  not_before=cert.not_valid_before, not_after=cert.not_valid_after)
                replaces = previous.id if previous else None
                audit.record("ca.install", actor_kind="system", target=ca_id,
                             details={"source": source, "key": key.key_id, "replaces": replaces})
            log.warning("platform CA installed", extra={"ca": ca_id, "source": source})
        except pw.IntegrityError:
            log.info("platform CA installed concurrently by another process")

    def _self_signed(self, key_id: str, public_key_der: bytes) -> asn1_x509.Certificate:
        spki = asn1_keys.PublicKeyInfo.load(public_key_der)
        ski = x509.key_identifier(spki)
        name = x509.build_name(ROOT_SUBJECT)
        now = utcnow().replace(microsecond=0)
        tbs = x509.build_tbs_certificate(
            serial=x509.random_serial(), issuer=name, subject=name, spki=spki, not_before=now,
            not_after=now + timedelta(days=ROOT_DAYS),
            extensions=x509.certificate_extensions(ca=True, key_usage={"keyCertSign", "cRLSign"},
                                                   subject_key_id=ski, authority_key_id=ski))
        return x509.assemble_certificate(tbs, self._keystore.sign(key_id, tbs.dump()))

    # --- issuing -----------------------------------------------------------------------------

    def issue_certificate(self, public_key: SM2PublicKey, subject: dict[str, str], *, days: int,
                          key_usage: set[str], extended_key_usage: tuple[str, ...] = (),
                          extended_key_usage_critical: bool = False,
                          not_before: datetime | None = None, actor: Actor | None = None) -> IssuedCertificate:
        """An end-entity certificate (basicConstraints CA:FALSE) for `public_key`.
        InvalidCertificateRequest when the subject, usages or validity do not fit this CA."""
        ca = self._ca()
        unknown = set(key_usage) - set(x509.KEY_USAGES)
        if not key_usage or unknown or set(key_usage) & LEAF_FORBIDDEN_USAGES:
            raise InvalidCertificateRequest(errors={"key_usage": N_("不支持的密钥用途。")})
        start = (not_before or utcnow()).replace(microsecond=0)
        end = start + timedelta(days=days)
        if days < 1 or end > ca.certificate.not_valid_after:
            raise InvalidCertificateRequest(errors={"days": N_("有效期超出 CA 证书有效期。")})
        try:
            name = x509.build_name(subject)
            spki = asn1_keys.PublicKeyInfo.load(public_key.public_bytes_der())
            tbs = x509.build_tbs_certificate(
                serial=x509.random_serial(), issuer=ca.certificate.subject, subject=name, spki=spki,
                not_before=start, not_after=end,
                extensions=x509.certificate_extensions(ca=False, key_usage=key_usage,
                                                       subject_key_id=x509.key_identifier(spki),
                                                       authority_key_id=ca.key_identifier,
                                                       extended_key_usage=extended_key_usage,
                                                       extended_key_usage_critical=extended_key_usage_critical)
                + self._distribution())
        except ValueError as exc:
            raise InvalidCertificateRequest(errors={"subject": N_("证书主体格式有误。")}) from exc
        der = x509.assemble_certificate(tbs, self._keystore.sign(ca.key_id, tbs.dump())).dump()
        serial = x509.serial_hex(tbs["serial_number"].native)
        pem = x509.to_pem("CERTIFICATE", der)
        kind, actor_id = actor if actor else ("system", None)
        with unit_of_work():
            CertificateRecord.create(serial=serial, ca=ca.id, subject=_subject_text(subject)[:1024],
                                     spki_sm3=_sm3_hex(spki.dump()), pem=pem, not_before=start, not_after=end)
            audit.record("ca.issue", actor_kind=kind, actor_id=actor_id, target=serial,
                         details={"ca": ca.id, "days": days, "key_usage": sorted(key_usage)})
        return IssuedCertificate(serial, pem, der, start, end)

    def certificate(self, serial: str) -> CertificateRecord:
        """The stored row of an issued certificate; CertificateNotFound if unknown."""
        row = CertificateRecord.get_or_none(CertificateRecord.serial == _normal_serial(serial))
        if row is None:
            raise CertificateNotFound()
        return row

    # --- revocation --------------------------------------------------------------------------

    def revoke(self, serial: str, reason: str, *, at: datetime | None = None, actor: Actor | None = None) -> None:
        """Revoke for an RFC 5280 reason name (keyCompromise, superseded, …); permanent.
        CertificateNotFound, CertificateAlreadyRevoked, InvalidRevocationReason."""
        if reason not in REVOCATION_REASONS:
            raise InvalidRevocationReason(errors={"reason": N_("取值不在允许范围内。")})
        at = (at or utcnow()).replace(microsecond=0)
        kind, actor_id = actor if actor else ("system", None)
        with unit_of_work():
            row = self.certificate(serial)
            changed = (CertificateRecord.update(status="revoked", revoked_at=at, reason=reason)
                       .where(CertificateRecord.serial == row.serial, CertificateRecord.status == "good").execute())
            if changed != 1:
                raise CertificateAlreadyRevoked()
            PlatformCa.update(revocations=PlatformCa.revocations + 1).where(PlatformCa.id == row.ca).execute()
            audit.record("ca.revoke", actor_kind=kind, actor_id=actor_id, target=row.serial,
                         details={"reason": reason, "ca": row.ca})

    def status(self, serial: str) -> dict[str, Any]:
        """{status: good | revoked | unknown, revoked_at, reason, not_after} (OCSP-like: an
        unknown serial is an answer, not an error)."""
        row = CertificateRecord.get_or_none(CertificateRecord.serial == _normal_serial(serial))
        if row is None:
            return {"status": "unknown", "revoked_at": None, "reason": None, "not_after": None}
        return {"status": row.status, "revoked_at": row.revoked_at, "reason": row.reason, "not_after": row.not_after}

    def current_crl(self) -> bytes:
        """The CA's current CRL (DER). Re-signed, with the next CRL number, when a revocation
        happened since the last one or half its validity has passed; otherwise the stored one."""
        ca = self._ca()
        latest = self._latest_crl(ca.id)
        revocations = PlatformCa.get_by_id(ca.id).revocations
        now = utcnow()
        if (latest and latest.revocations == revocations and now < latest.this_update + self._crl_ttl / 2
                and self._signed_with_crl_id(ca, latest)):
            return bytes(latest.der)
        try:
            with unit_of_work():
                return self._issue_crl(ca, (latest.number + 1) if latest else 1, revocations, now)
        except pw.IntegrityError:  # another process issued this number first: use theirs
            return bytes(self._latest_crl(ca.id).der)

    def _signed_with_crl_id(self, ca: _ActiveCa, stored: CaCrl) -> bool:
        """Whether a stored CRL is signed with x509.CRL_SIGNER_ID: one stored before that (signed with
        the default ID, which `openssl verify -crl_check` rejects) is re-issued. Checked once per CRL."""
        if (ca.id, stored.number) not in self._crls_checked:
            parsed = asn1_crl.CertificateList.load(bytes(stored.der))
            if not self._keystore.public_key(ca.key_id).verify(
                    parsed["signature"].native, parsed["tbs_cert_list"].dump(), uid=x509.CRL_SIGNER_ID):
                return False
            self._crls_checked.add((ca.id, stored.number))
        return True

    def _latest_crl(self, ca_id: str) -> CaCrl | None:
        return CaCrl.select().where(CaCrl.ca == ca_id).order_by(CaCrl.number.desc()).first()

    def _issue_crl(self, ca: _ActiveCa, number: int, revocations: int, now: datetime) -> bytes:
        # `revocations` was read before the list: a revocation landing in between is either listed
        # already or makes the next call re-issue; it is never silently left out.
        revoked = (CertificateRecord.select(CertificateRecord.serial, CertificateRecord.revoked_at,
                                            CertificateRecord.reason)
                   .where(CertificateRecord.ca == ca.id, CertificateRecord.status == "revoked")
                   .order_by(CertificateRecord.revoked_at))
        this_update = now.replace(microsecond=0)
        next_update = this_update + self._crl_ttl
        tbs = x509.build_tbs_crl(issuer=ca.certificate.subject, this_update=this_update, next_update=next_update,
                                 number=number, authority_key_id=ca.key_identifier,
                                 revoked=[(int(r.serial, 16), r.revoked_at, r.reason) for r in revoked])
        der = x509.assemble_crl(tbs, self._keystore.sign(ca.key_id, tbs.dump(), uid=x509.CRL_SIGNER_ID)).dump()
        CaCrl.create(ca=ca.id, number=number, revocations=revocations, this_update=this_update,
                     next_update=next_update, der=der)
        CaCrl.delete().where(CaCrl.ca == ca.id, CaCrl.number < number).execute()
        return der


def _normal_serial(serial: str) -> str:
    try:
        return x509.serial_hex(int(serial.replace(":", ""), 16))
    except ValueError:
        raise CertificateNotFound() from None


def init_crypto(app: Flask) -> None:
    """app.extensions["keystore"] and ["ca"]; configuration errors stop the start."""
    try:
        keystore = build_keystore(app.config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    app.extensions["keystore"] = keystore
    app.extensions["ca"] = PlatformCA(keystore, configured=load_configured_ca(app.config),
                                      crl_ttl=app.config["CA_CRL_TTL"], pki_base_url=app.config["PKI_BASE_URL"])


def ensure_platform_ca(app: Flask) -> None:
    """Create (development) or import (configured) the platform CA now rather than on first use."""
    with app.app_context(), db.connection_context():
        app.extensions["ca"].certificate_der()


def keystore() -> KeyStore:
    return current_app.extensions["keystore"]


def platform_ca() -> PlatformCA:
    return current_app.extensions["ca"]
