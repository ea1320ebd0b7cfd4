"""Service map endpoints — 政务服务地图: nearby halls, a hall's details, live queue lengths.

The map is public (no token): a citizen looks for a hall before, or without, logging in, as on
the provincial portals' maps. Nearby and detail queries are limited per client IP
(`MAP_PER_IP_MINUTE`); behind a proxy, `TRUSTED_PROXIES` makes that the citizen's address.
"""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from app.openapi import problems
from app.security.auth import auth_required, client_ip, current_principal
from mapsvc import coords
from mapsvc import schemas as s
from mapsvc import service

blp = Blueprint("map", __name__, url_prefix="/api/v1/map", description="政务服务地图 (service map)")


@blp.route("/halls/nearby", methods=["GET"])
@blp.arguments(s.NearbyArgsSchema(), location="query")
@blp.response(200, s.NearbyAnswerSchema())
@problems(blp, {422: "validation_failed", 429: "map_rate_limited"})
def nearby_halls(args):
    """Halls near a point, nearest first, with filters by item, type and open-now (public)."""
    lat, lng = coords.to_gcj02(args["lat"], args["lng"], args["coord"])
    query = service.NearbyQuery(lat=lat, lng=lng, radius_m=args["radius_m"], limit=args["limit"], item=args["item"],
                                hall_type=args["type"], open_now=args["open_now"], answer_coord=args["answer_coord"])
    # The JSON text comes from the service (mapsvc/answer.py: pieces rendered once per hall), not from
    # the schema above, which documents it: a marshmallow dump, even a json.dumps, of 20 nested halls
    # costs more than the search itself.
    return current_app.response_class(service.nearby_json(query, ip=client_ip()), mimetype="application/json")


@blp.route("/halls/<hall_id>", methods=["GET"])
@blp.arguments(s.AnswerCoordArgsSchema(), location="query")
@blp.response(200, s.HallDetailSchema())
@problems(blp, {404: "hall_not_found", 422: "validation_failed", 429: "map_rate_limited"})
def get_hall(args, hall_id):
    """One hall: weekly hours with lunch breaks, closures, service items, today's state, queue (public)."""
    return service.hall_detail(hall_id=hall_id, ip=client_ip(), answer_coord=args["answer_coord"])


@blp.route("/halls/<hall_code>/queue", methods=["PUT"])
@blp.arguments(s.QueuePushSchema())
@blp.response(200, s.QueuePushAnswerSchema())
@problems(blp, {403: "insufficient_scope, forbidden, hall_not_bound", 404: "hall_not_found", 422: "validation_failed",
                429: "queue_push_rate_limited"})
@auth_required(kinds=("client",), scopes=("halls:write",))
def push_queue(body, hall_code):
    """A hall's queue system reports its current queue length (`halls:write`, only for the halls the
    client is bound to, `flask clients create --halls` / `clients halls`; audited, refusals too)."""
    return service.push_queue(client_id=current_principal().id, hall_code=hall_code, length=body["length"])
