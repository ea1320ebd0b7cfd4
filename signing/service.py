"""What other features may use from cloud signing (through this module only)."""
from __future__ import annotations

from signing.enrolment import enrol, get_certificate, revoke
from signing.signer import authorize, authorize_batch, create_batch, create_request, list_signatures
from signing.verification import verify

__all__ = ["authorize", "authorize_batch", "create_batch", "create_request", "enrol", "get_certificate",
           "list_signatures", "revoke", "verify"]
