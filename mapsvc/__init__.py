"""Service map (政务服务地图): halls, opening hours, nearby search (part A); appointments (part B)."""
from __future__ import annotations


def register(api) -> None:
    """The halls blueprint (nearby, detail, queue lengths)."""
    from mapsvc.routes import blp

    api.register_blueprint(blp)
