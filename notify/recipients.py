"""Who a notice's pushes reach (issue 19): a citizen's notices reach the citizen's devices; an
enterprise's (its owner id is the enterprise's "en_…", CONTRACTS F) reach its legal representative
and the agents whose grant covers the notice — orgs decides (`orgs.service.recipients_for`).

The inbox entry stays one, under the owner id (the enterprise's inbox, read with an enterprise
token); only the deliveries fan out, each under its recipient's user id, so that the recipient's
own devices, channel switches, muted categories and quiet hours apply as for their own notices.

orgs is imported inside the call: orgs' notices write to notify (notify.service), and the worker's
modules must not need orgs loaded to import.
"""
from __future__ import annotations

from notify.categories import category_of

# notify's categories → the kinds orgs matches an agent's scopes against ("case…", "licence…")
_ORGS_KIND = {"cases": "case", "licences": "licence"}


def push_recipients(owner_id: str, kind: str) -> list[str]:
    """The user ids whose devices get the pushes of `owner_id`'s notice of `kind` (the owner itself
    for a citizen; [] for an unknown enterprise)."""
    from orgs import service as orgs

    if not orgs.is_enterprise_id(owner_id):
        return [owner_id]
    return orgs.recipients_for(owner_id, _ORGS_KIND.get(category_of(kind), kind))
