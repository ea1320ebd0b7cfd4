"""The issuer registry's admin API: /api/v1/admin/issuers."""
from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("issuers_admin", __name__, url_prefix="/api/v1/admin/issuers",
                description="发证机关登记 (issuer registry, admin)")
