"""Issue 15 ("One house"): shared pieces live once, in the kernel, and every feature reaches them there."""
from __future__ import annotations

import re
from pathlib import Path

from app import calendar, version_gate
from app.errors import AppError
from app.features import FEATURES
from app.qr import render_png, render_svg
from app.security.pii import PiiCipher, field_cipher

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("app", *FEATURES)


def _sources():
    for top in SOURCE_DIRS:
        yield from (ROOT / top).rglob("*.py")


def test_one_field_cipher(app):
    """Issue 15: `cipher()` was written in cases, identity and wallet (and `_cipher()` in notify);
    now one kernel accessor gives the application's cipher and no feature keeps a copy."""
    with app.app_context():
        assert isinstance(field_cipher(), PiiCipher)
        assert field_cipher() is app.extensions["pii"]
        assert field_cipher().decrypt(field_cipher().encrypt("13800138000", "user.phone"), "user.phone") == "13800138000"
    copies = [str(p.relative_to(ROOT)) for p in _sources() if re.search(r"^def _?cipher\(", p.read_text(), re.M)]
    assert copies == []


def test_hall_not_found_defined_once(client, clock):
    """Issue 15: `HallNotFound` was defined in both mapsvc/errors.py and appointments/errors.py;
    one class now answers both the map and the appointment slots with the same problem."""
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    assert [c.__module__ for c in subclasses(AppError) if c.__name__ == "HallNotFound"] == ["mapsvc.errors"]
    for url in ("/api/v1/map/halls/hall_nope", "/api/v1/map/halls/hall_nope/slots?date=2026-09-30"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.get_json()["code"] == "hall_not_found"


def test_qr_rendering_lives_in_the_kernel():
    """Issue 15: the PNG/QR writer lived in wallet/presentation.py and the appointments imported it from
    the wallet; it is now `app.qr`, and no feature keeps a renderer of its own."""
    assert render_png("YW1." + "A" * 43).startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in render_svg("YW1." + "A" * 43)
    renderers = sorted((str(p.relative_to(ROOT)), name) for p in _sources()
                       for name in re.findall(r"^def (render_png|render_svg|_grey_png)\(", p.read_text(), re.M))
    assert renderers == [("app/qr.py", "_grey_png"), ("app/qr.py", "render_png"), ("app/qr.py", "render_svg")]


def test_holiday_calendar_lives_in_the_kernel(runner):
    """Issue 15: the holiday calendar lived in mapsvc/calendar.py and cases reached into the map for it;
    it is now `app.calendar`, and `flask calendar list` still answers."""
    assert not (ROOT / "mapsvc" / "calendar.py").exists()
    assert calendar.CalendarDay._meta.table_name == "map_calendar_day"
    listed = runner.invoke(args=["calendar", "list", "--year", "2026"])
    assert listed.exit_code == 0 and "国庆节" in listed.output


def test_version_gate_lives_in_the_kernel(client):
    """Issue 15: the client version gate lived in bff/conventions.py and the app factory imported it from
    the BFF; it is now `app.version_gate` (the BFF only installs it with its settings) and still answers."""
    assert version_gate.parse_version("1.4.2") == (1, 4, 2)
    assert not re.search(r"^def (check_client_version|parse_version)\(", (ROOT / "bff" / "conventions.py").read_text(), re.M)
    response = client.get("/api/v1/map/halls/hall_nope", headers={"X-Client": "app", "X-Client-Version": "x.y"})
    assert response.status_code == 400 and response.get_json()["code"] == "client_version_invalid"
