"""Cloud signing's public API (电子云签): what the routes and other features use — through this
module only.

Enrolment, the PIN check and revocation live in `enrolment.py`, changing and resetting the PIN
in `pin_lifecycle.py`; requests, their authorisation and the history in `signer.py`; third-party
verification in `verification.py`; every query in `models.py`.
"""
from __future__ import annotations

from typing import Any

from app.crypto.ca import platform_ca
from signing import enrolment
from signing.enrolment import CITIZEN_REVOCATION_REASONS, enrol, get_certificate, revoke
from signing.pin_lifecycle import change_pin, reset_pin
from signing.signer import (
    authorize, authorize_batch, create_batch, create_request, get_batch, get_request, list_requests, list_signatures,
    refuse, send_sms_code, signature_cms,
)
from signing.verification import verify

__all__ = ["CITIZEN_REVOCATION_REASONS", "authorize", "authorize_batch", "ca_certificate_pem", "certificate_status",
           "change_pin", "check_pin", "create_batch", "create_request", "current_crl", "enrol", "get_batch",
           "get_certificate", "get_request", "list_requests", "list_signatures", "refuse", "reset_pin", "revoke",
           "send_sms_code", "signature_cms", "verify"]


def check_pin(*, user_id: str, pin: str) -> None:
    """Pass when `pin` is the citizen's signing PIN, as a step-up for another feature's operation
    (a proxy grant). A wrong PIN counts toward the signing lockout (PinInvalid with the tries left,
    SigningLocked); NotEnrolled without an active certificate. Call it outside a transaction, so
    a wrong try's count is kept when the caller's operation is refused."""
    enrolment.check_pin(enrolment.active_credential(user_id), pin)


# --- The platform CA, public: offline verification with OpenSSL ----------------------------------

def ca_certificate_pem() -> str:
    """The platform CA certificate (PEM)."""
    return platform_ca().certificate_pem()


def current_crl() -> bytes:
    """The CA's current CRL (DER), re-signed as soon as a certificate is revoked."""
    return platform_ca().current_crl()


def certificate_status(serial: str) -> dict[str, Any]:
    """A certificate's status by serial (OCSP-like: an unknown or over-long serial is `unknown`)."""
    return platform_ca().status(serial if len(serial) <= 64 else "")
