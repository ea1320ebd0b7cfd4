"""What other features may use from cloud signing (through this module only)."""
from __future__ import annotations

from signing import enrolment
from signing.enrolment import enrol, get_certificate, revoke
from signing.signer import authorize, authorize_batch, create_batch, create_request, list_signatures
from signing.verification import verify

__all__ = ["authorize", "authorize_batch", "check_pin", "create_batch", "create_request", "enrol", "get_certificate",
           "list_signatures", "revoke", "verify"]


def check_pin(*, user_id: str, pin: str) -> None:
    """Pass when `pin` is the citizen's signing PIN, as a step-up for another feature's operation
    (a proxy grant). A wrong PIN counts toward the signing lockout (PinInvalid with the tries left,
    SigningLocked); NotEnrolled without an active certificate. Call it outside a transaction, so
    a wrong try's count is kept when the caller's operation is refused."""
    enrolment.check_pin(enrolment.active_credential(user_id), pin)
