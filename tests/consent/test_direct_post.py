"""direct_post (OpenID4VP 1.0 §8.2): the platform POSTs the answer, form-encoded, to the verifier's
response_uri — a local fake verifier that checks what it receives. Fail closed: an answer the
verifier did not take (an error status, a redirect, nobody listening) stays pending, is retried by
`flask consent deliver`, and never turns into anything but the signed answer."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

from werkzeug.wrappers import Response

from consent import service as consent
from consent.models import ConsentRequest
from tests.consent.conftest import MINE, REQUESTS, ask, ask_body
from tests.fakes.server import FakeServer
from tests.helpers import latest_code, rows
from tests import vectors


class Verifier:
    """A fake verifier endpoint: answers `status` (and `location` for a redirect)."""

    def __init__(self, status: int = 200, location: str | None = None) -> None:
        self.status, self.location = status, location

    def __call__(self, environ, start_response):
        headers = {"Location": self.location} if self.location else {}
        return Response(json.dumps({}), status=self.status, headers=headers, mimetype="application/json")(
            environ, start_response)


def _approve(client, holder, request_id: str, licence_id: str) -> None:
    assert client.post(f"{MINE}/{request_id}/step-up-code", headers=holder).status_code == 202
    response = client.post(f"{MINE}/{request_id}/approve",
                           json={"licence_id": licence_id, "sms_code": latest_code(client, vectors.PHONES[0])},
                           headers=holder)
    assert response.status_code == 200, response.get_json()


def _verify(app, token: str) -> dict:
    with app.app_context():
        from app.db import db
        with db.connection_context():
            return consent.verify_disclosure(token)


def test_the_fake_verifier_receives_the_signed_disclosure(app, client, verifier, holder, licence):
    bank, bank_id = verifier()
    with FakeServer(Verifier()) as server:
        body = ask_body(response_mode="direct_post", response_uri=server.url + "/yiwang/response")
        asked = ask(client, bank, body)
        assert server.count() == 0
        _approve(client, holder, asked["id"], licence["id"])
        [received] = server.requests
    assert (received.method, received.path) == ("POST", "/yiwang/response")
    assert received.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(received.body.decode()).items()}
    assert set(form) == {"vp_token", "state"} and form["state"] == body["state"]
    payload = _verify(app, form["vp_token"])
    assert (payload["nonce"], payload["state"], payload["aud"]) == (body["nonce"], body["state"], bank_id)
    assert payload["claims"] == {"vehicle_class": "C1", "valid_until": "2030-05-01"}
    polled = client.get(f"{REQUESTS}/{asked['id']}", headers=bank).get_json()
    assert polled["delivery"] == "delivered" and polled["vp_token"] == form["vp_token"]


def test_a_refusal_is_posted_as_access_denied(client, verifier, holder):
    bank, _ = verifier()
    with FakeServer(Verifier()) as server:
        body = ask_body(response_mode="direct_post", response_uri=server.url + "/cb")
        asked = ask(client, bank, body)
        assert client.post(f"{MINE}/{asked['id']}/refuse", headers=holder).status_code == 200
        [received] = server.requests
    form = {k: v[0] for k, v in parse_qs(received.body.decode()).items()}
    assert form["error"] == "access_denied" and form["state"] == body["state"] and "vp_token" not in form


def test_an_answer_not_taken_stays_pending_and_is_retried(app, client, runner, verifier, holder, licence):
    bank, _ = verifier()
    with FakeServer(Verifier(status=302, location="https://elsewhere.example/")) as server:
        asked = ask(client, bank, ask_body(response_mode="direct_post", response_uri=server.url + "/cb"))
        _approve(client, holder, asked["id"], licence["id"])
        assert server.count() == 1  # the redirect is not followed
    [row] = rows(app, ConsentRequest)
    assert (row.delivery, row.delivery_attempts, row.delivery_error) == ("pending", 1, "status_302")
    # nobody listening now: still pending, counted
    assert "not delivered 1" in runner.invoke(args=["consent", "deliver"]).output
    [row] = rows(app, ConsentRequest)
    assert (row.delivery, row.delivery_attempts, row.delivery_error) == ("pending", 2, "unreachable")
    # the verifier's poll still gets the signed answer; a later retry to a working endpoint delivers it
    assert client.get(f"{REQUESTS}/{asked['id']}", headers=bank).get_json()["vp_token"]
    with FakeServer(Verifier()) as server:
        with app.app_context():
            from app.db import db
            with db.connection_context():
                ConsentRequest.update(response_uri=server.url + "/cb").execute()
        assert "delivered 1, not delivered 0" in runner.invoke(args=["consent", "deliver"]).output
        assert server.count() == 1
    assert rows(app, ConsentRequest)[0].delivery == "delivered"


def test_a_response_uri_must_be_https_in_production(make_app, verifier):
    app = make_app(CONSENT_ALLOW_HTTP_RESPONSE_URI=False)
    client = app.test_client()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["clients", "create", "--name", "银行", "--scopes", "verifications:request"]).output
    creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    token = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", **creds}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    response = client.post(REQUESTS, json=ask_body(response_mode="direct_post", response_uri="http://127.0.0.1:9/cb"),
                           headers=headers)
    assert response.status_code == 422 and response.get_json()["code"] == "consent_response_uri_invalid"
