"""`flask issuers …`: the issuer registry from the command line."""
from __future__ import annotations

from flask.cli import AppGroup

issuers_cli = AppGroup("issuers", help="Issuing departments (发证机关): USCC, licence types, clients.")
COMMANDS = (issuers_cli,)
