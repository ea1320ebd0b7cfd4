"""Enterprise signals other features subscribe to (they never import orgs models).

`enterprise_registered` (sender: the enterprise id, kw `uscc`): sent after the registration
commits; wallet/cases attach what was parked for that USCC (CONTRACTS F)."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

enterprise_registered = _signals.signal("enterprise-registered")
