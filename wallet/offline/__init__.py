"""The offline-verifiable QR (离线亮证码): its byte format (`format`), issuing it to a holder
(`issue`) and verifying it with a cached trust list and no network (`verify`)."""
from __future__ import annotations

from wallet.offline.verify import Result, TrustList, verify

__all__ = ["Result", "TrustList", "verify"]
