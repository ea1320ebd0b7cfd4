"""`flask orgs …`: the development business registry."""
from __future__ import annotations

from flask.cli import AppGroup

orgs_cli = AppGroup("orgs", help="Enterprises (企业) and the development business registry.")
