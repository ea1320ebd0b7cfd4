"""BFF endpoints — the app's screens: the home screen, display preferences (大字版), launch config.

Their GETs carry a weak ETag (304 on `If-None-Match`) and are gzipped above 1 KB (bff/conventions.py).
"""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, client_ip, current_principal
from bff import schemas as s
from bff import service
from mapsvc.service import coords

blp = Blueprint("bff", __name__, url_prefix="/api/v1/bff", description="移动端聚合接口 (mobile BFF)")

_NOT_MODIFIED = "Not Modified：If-None-Match 与当前 ETag 一致，无响应体"


@blp.route("/home", methods=["GET"])
@blp.arguments(s.HomeArgsSchema(), location="query")
@blp.response(200, s.HomeSchema())
@blp.alt_response(304, description=_NOT_MODIFIED)
@problems(blp, {422: "validation_failed"})
@auth_required()
def get_home(args):
    """The home screen in one call; a slow or failing part is null and named in `partial`."""
    point = None
    if args["lat"] is not None:
        point = coords.to_gcj02(args["lat"], args["lng"], args["coord"])
    # Sent as the service writes it (plain JSON values, as the schema above dumps them; the schema
    # documents it): a marshmallow dump of the nested parts cost more than all of the parts' reads.
    return jsonify(service.home(user_id=current_principal().id, ip=client_ip(), point=point,
                                answer_coord="bd09" if args["coord"] == "bd09" else "gcj02"))


@blp.route("/preferences", methods=["GET"])
@blp.response(200, s.DisplayPreferencesSchema())
@blp.alt_response(304, description=_NOT_MODIFIED)
@auth_required()
def get_preferences():
    """My display preferences (大字版, language)."""
    return service.preferences(user_id=current_principal().id)


@blp.route("/preferences", methods=["PUT"])
@blp.arguments(s.DisplayPreferencesSchema())
@blp.response(200, s.DisplayPreferencesSchema())
@problems(blp, {422: "validation_failed, empty_update"})
@auth_required()
def put_preferences(body):
    """Change my display preferences (大字版, language); the home screen follows at once."""
    return service.set_preferences(user_id=current_principal().id, elderly_mode=body.get("elderly_mode"),
                                   language=body.get("language", service.KEEP))


@blp.route("/app-config", methods=["GET"])
@blp.response(200, s.AppConfigSchema())
@blp.alt_response(304, description=_NOT_MODIFIED)
def get_app_config():
    """Feature switches, minimum client versions, upgrade URLs and notices (public; never 426)."""
    return service.app_config()
