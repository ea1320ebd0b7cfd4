"""The e-licence wallet's public API (电子证照): what the routes and other features use — through
this module only.

The catalogue and its validation live in `catalogue.py`; issuance, status changes and parking in
`issuance.py`; the holder's wallet in `holder.py`; showing a licence (亮证) in `presentation.py`;
counter verification (柜台核验) and the usage lists in `counter.py`; every query in `models.py`.
"""
from __future__ import annotations

from wallet.catalogue import localized_types
from wallet.counter import clerk_today, holder_usage
from wallet.counter import verify as verify_presentation
from wallet.holder import get_licence, list_licences
from wallet.issuance import IssueRequest, attach_parked, change_status, get_issued, issue_licence
from wallet.lifecycle import version_check
from wallet.matters import localized as counter_matters
from wallet.presentation import create as create_presentation
from wallet.presentation import qr_text_of
from wallet.presentation import revoke as revoke_presentation
from wallet.reissue import Reissue, reissue

__all__ = ["IssueRequest", "attach_parked", "change_status", "clerk_today", "counter_matters", "create_presentation", "get_issued",
           "get_licence", "holder_usage", "issue_licence", "list_licences", "localized_types", "qr_text_of",
           "revoke_presentation", "verify_presentation"]
__all__ += ["Reissue", "reissue", "version_check"]  # the life cycle (wallet/lifecycle.py, issue 17)
