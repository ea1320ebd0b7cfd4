"""Enterprise endpoints (企业): registration by the legal representative and the enterprises a citizen may act for."""
from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("orgs", __name__, url_prefix="/api/v1", description="企业 (enterprises)")
