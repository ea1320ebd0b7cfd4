"""Identity signals other features subscribe to (they never import identity models)."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent after commit when a citizen passes real-name verification: kwargs user_id.
# Receivers attach what was parked for that person (licences, cases).
real_name_verified = _signals.signal("real-name-verified")
