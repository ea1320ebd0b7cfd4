"""Identity signals other features subscribe to (they never import identity models)."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent after commit when a citizen passes real-name verification: kwargs user_id.
# Receivers attach what was parked for that person (licences, cases).
real_name_verified = _signals.signal("real-name-verified")

# Sent inside the revoking transaction when a session ends (logout, refresh-token reuse, account
# merged): kwargs session_id. Receivers drop what the session set up (its push devices), in the
# same transaction.
session_ended = _signals.signal("session-ended")
