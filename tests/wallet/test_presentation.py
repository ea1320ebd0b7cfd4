"""Showing a licence (亮证): one-time QR texts and manual codes, QR images, retiring and revoking."""
from __future__ import annotations

import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import png
import pytest
import zxingcpp

from app.qr import render_png
from tests import vectors
from tests.helpers import assert_problem, bearer, rows
from tests.wallet.conftest import ISSUE, MATTER, VERIFY, issue, issue_body, present, present_url
from wallet.models import Presentation


def decode_png(data: bytes) -> list[str]:
    width, height, pixels, _ = png.Reader(bytes=data).asRGB8()
    grey = bytearray()
    for row in pixels:
        grey += bytes(row)[::3]
    image = memoryview(bytes(grey)).cast("B", (height, width))
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def zbar_decode(data: bytes, tmp_path) -> list[str]:
    """Decode with ZBar's `zbarimg` (Debian zbar-tools): a decoder from another codebase than the
    encoder (zxing-cpp renders the PNGs)."""
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg is not installed (apt-get install zbar-tools): the second decoder needs it")
    path = tmp_path / "qr.png"
    path.write_bytes(data)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True, text=True, timeout=30)
    return out.stdout.splitlines()


def test_presentation_answer_and_qr_png_decodes_to_the_qr_text(client, holder, licence, tmp_path):
    shown = present(client, holder, licence["id"], purpose="办理社保卡")
    assert set(shown) == {"id", "qr_text", "expires_at", "refresh_after", "fields", "manual_code"}
    assert shown["qr_text"].startswith("YW1.") and len(shown["qr_text"]) <= 300
    assert shown["fields"] == ["name", "vehicle_class", "valid_until", "status"]  # the counter default
    assert len(shown["manual_code"]) == 8 and shown["manual_code"].isdigit()
    expires, refresh = (datetime.fromisoformat(shown[k]) for k in ("expires_at", "refresh_after"))
    assert (expires - refresh).total_seconds() == 15
    assert 55 <= expires.timestamp() - time.time() <= 61

    response = client.get(f"/api/v1/wallet/presentations/{shown['id']}/qr.png", headers=holder)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    assert decode_png(response.data) == [shown["qr_text"]]
    assert zbar_decode(response.data, tmp_path) == [shown["qr_text"]]

    svg = client.get(f"/api/v1/wallet/presentations/{shown['id']}/qr.svg", headers=holder)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_png_is_a_standard_qr_image(tmp_path):
    for text in ("YW1." + "A" * 43, "YW1.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE", "YW1." + "_" * 43):
        data = render_png(text)
        width, height, _, info = png.Reader(bytes=data).asDirect()
        assert width == height and width % 6 == 0 and info["greyscale"] and info["bitdepth"] == 8
        modules = width // 6
        assert (modules - 8 - 17) % 4 == 0  # a QR version's size plus the 4-module quiet zone each side
        assert decode_png(data) == [text]
        assert zbar_decode(data, tmp_path) == [text]


def test_chosen_fields_and_unknown_fields(client, holder, licence):
    shown = present(client, holder, licence["id"], fields=["name", "address"])
    assert shown["fields"] == ["name", "address"]
    body = assert_problem(client.post(present_url(licence["id"]), json={"fields": ["nope"]}, headers=holder), 422)
    assert "fields.nope" in body["errors"]
    assert_problem(client.post(present_url(licence["id"]), json={"purpose": "x" * 41}, headers=holder), 422)


def test_only_the_holder_at_l2_may_present(client, licence, login_citizen, verified_citizen):
    plain = bearer(login_citizen(vectors.PHONES[2])["access_token"])
    assert_problem(client.post(present_url(licence["id"]), json={}, headers=plain), 403,
                   "assurance_level_insufficient")
    other = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    assert_problem(client.post(present_url(licence["id"]), json={}, headers=other), 404, "licence_not_found")
    assert_problem(client.post(present_url(licence["id"]), json={}), 401)


def test_invalid_licence_cannot_be_presented(client, issuer, holder, licence):
    client.post(f"{ISSUE}/{licence['id']}/revoke", json={"status_code": "02", "reason": "暂扣"}, headers=issuer)
    assert_problem(client.post(present_url(licence["id"]), json={}, headers=holder), 422, "licence_not_valid")
    expired = issue(client, issuer, issue_body(reference="old", valid_from="2010-01-01", valid_until="2015-01-01"))
    assert_problem(client.post(present_url(expired["id"]), json={}, headers=holder), 422, "licence_not_valid")


def test_qr_images_only_for_the_holder_and_live_codes(app, client, holder, licence, verified_citizen):
    shown = present(client, holder, licence["id"])
    other = bearer(verified_citizen(vectors.LI_SI, vectors.PHONES[1])["access_token"])
    url = f"/api/v1/wallet/presentations/{shown['id']}/qr.png"
    assert_problem(client.get(url, headers=other), 404, "presentation_not_found")
    assert client.delete(f"/api/v1/wallet/presentations/{shown['id']}", headers=holder).status_code == 204
    assert_problem(client.get(url, headers=holder), 404, "presentation_not_found")
    assert rows(app, Presentation)[0].status == "revoked"
    assert_problem(client.delete(f"/api/v1/wallet/presentations/{shown['id']}", headers=other), 404)


def test_a_new_presentation_retires_the_old(app, client, holder, licence, clerk):
    first = present(client, holder, licence["id"])
    second = present(client, holder, licence["id"])
    statuses = {p.id: p.status for p in rows(app, Presentation)}
    assert statuses == {first["id"]: "retired", second["id"]: "live"}
    counter = clerk()
    assert_problem(client.post(VERIFY, json={"qr_text": first["qr_text"], "matter": MATTER}, headers=counter), 409, "presentation_used")
    assert_problem(client.post(VERIFY, json={"manual_code": first["manual_code"], "matter": MATTER}, headers=counter), 400,
                   "presentation_invalid")
    assert client.post(VERIFY, json={"qr_text": second["qr_text"], "matter": MATTER}, headers=counter).status_code == 200


def test_holder_revocation_kills_the_code(client, holder, licence, clerk):
    shown = present(client, holder, licence["id"])
    assert client.delete(f"/api/v1/wallet/presentations/{shown['id']}", headers=holder).status_code == 204
    counter = clerk()
    body = assert_problem(client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter), 409,
                          "presentation_used")
    assert "licence" not in body


def test_usage_shows_who_verified(client, holder, licence, clerk):
    shown = present(client, holder, licence["id"], purpose="租房登记")
    counter = clerk()
    assert client.post(VERIFY, json={"qr_text": shown["qr_text"], "matter": MATTER}, headers=counter).status_code == 200
    usage = client.get("/api/v1/wallet/usage", headers=holder).get_json()
    assert usage["next_cursor"] is None
    [item] = usage["items"]
    assert item["licence_id"] == licence["id"] and item["presentation_id"] == shown["id"]
    assert item["hall"] == "H1" and item["clerk"] == "clerk.one" and item["purpose"] == "租房登记"
    assert item["fields"] == ["name", "id_number"] and item["result"] == "verified"  # the matter's, not the code's
    assert item["matter"]["code"] == MATTER
    assert "张" not in str(item)  # names of fields, never their values


def test_concurrent_presentations_leave_one_live(app, client, holder, licence):
    def make(_):
        return app.test_client().post(present_url(licence["id"]), json={}, headers=holder).status_code

    with ThreadPoolExecutor(10) as pool:
        assert list(pool.map(make, range(10))) == [201] * 10
    statuses = [p.status for p in rows(app, Presentation)]
    assert statuses.count("live") == 1 and statuses.count("retired") == 9
    assert len(app.extensions["redis"].keys("wallet:pres:*")) == 1
