"""Machine clients: the CLI and the client-credentials grant (POST /oauth/token)."""
from __future__ import annotations

import base64

import jwt
import pytest

from app.audit import AuditEvent
from app.db import db
from identity.models import ApiClient
from tests.helpers import assert_problem, rows

TOKEN = "/api/v1/oauth/token"


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# --- flask clients create -----------------------------------------------------------------------

def create_client(runner, scopes="licences:issue cases:write", name="省市场监管局"):
    result = runner.invoke(args=["clients", "create", "--name", name, "--scopes", scopes])
    assert result.exit_code == 0, result.output
    creds = dict(line.split("=", 1) for line in result.output.splitlines() if "=" in line)
    return creds["client_id"], creds["client_secret"]


def test_clients_create_prints_credentials_once_and_stores_the_secret_hashed(app, runner):
    client_id, secret = create_client(runner)
    assert client_id.startswith("cl_")
    assert len(secret) >= 32
    (row,) = rows(app, ApiClient)
    assert row.client_id == client_id
    assert row.scopes.split() == ["cases:write", "licences:issue"]
    assert row.secret_hash != secret
    for column, value in row.__data__.items():
        assert secret not in str(value), column
    # a second client gets different credentials
    other_id, other_secret = create_client(runner, scopes="halls:write")
    assert (other_id, other_secret) != (client_id, secret)


@pytest.mark.parametrize("scopes", ["licences:issue admin", "*", "   "])
def test_clients_create_refuses_unknown_scopes(app, runner, scopes):
    result = runner.invoke(args=["clients", "create", "--name", "x", "--scopes", scopes])
    assert result.exit_code != 0
    assert "client_secret=" not in result.output
    assert "scopes" in result.output
    assert rows(app, ApiClient) == []


# --- POST /oauth/token ------------------------------------------------------------------------------

@pytest.fixture
def creds(runner):
    return create_client(runner)


def assert_client_token(app, response, client_id: str, scope: str) -> dict:
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == scope
    assert 0 < body["expires_in"] <= 900
    assert "refresh_token" not in body  # RFC 6749 §4.4.3
    assert response.headers["Cache-Control"] == "no-store"
    principal = app.extensions["tokens"].verify(body["access_token"])
    assert (principal.kind, principal.id, principal.scopes) == ("client", client_id, frozenset(scope.split()))
    return body


def test_token_with_form_body(app, client, creds):
    client_id, secret = creds
    response = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id,
                                        "client_secret": secret})
    assert_client_token(app, response, client_id, "cases:write licences:issue")


def test_token_with_json_body(app, client, creds):
    client_id, secret = creds
    response = client.post(TOKEN, json={"grant_type": "client_credentials", "client_id": client_id,
                                        "client_secret": secret})
    assert_client_token(app, response, client_id, "cases:write licences:issue")


def test_token_with_http_basic_client_authentication(app, client, creds):
    client_id, secret = creds
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post(TOKEN, data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert_client_token(app, response, client_id, "cases:write licences:issue")

    wrong = base64.b64encode(f"{client_id}:{secret}x".encode()).decode()
    refused = client.post(TOKEN, data={"grant_type": "client_credentials"},
                          headers={"Authorization": f"Basic {wrong}"})
    assert assert_problem(refused, 401, "invalid_client")["error"] == "invalid_client"
    assert refused.headers["WWW-Authenticate"].startswith("Basic")

    # RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding
    encoded = base64.b64encode(f"{client_id.replace('_', '%5F')}:{secret.replace('-', '%2D')}".encode()).decode()
    response = client.post(TOKEN, data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {encoded}"})
    assert_client_token(app, response, client_id, "cases:write licences:issue")


@pytest.mark.parametrize("who", ["wrong secret", "unknown client", "empty-ish secret"])
def test_wrong_client_credentials(app, client, creds, who):
    client_id, secret = creds
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret + "x"}
    if who == "unknown client":
        form.update(client_id="cl_00000000000000000000", client_secret=secret)
    elif who == "empty-ish secret":
        form.update(client_secret=" ")
    body = assert_problem(client.post(TOKEN, data=form), 401, "invalid_client")
    assert body["error"] == "invalid_client"
    assert len(rows(app, AuditEvent, AuditEvent.action == "auth.client_token",
                    AuditEvent.outcome == "failure")) == 1


def test_disabled_client_is_refused(app, client, creds):
    client_id, secret = creds
    with app.app_context(), db.connection_context():
        ApiClient.update(disabled=True).execute()
    body = assert_problem(client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id,
                                                   "client_secret": secret}), 401, "invalid_client")
    assert body["error"] == "invalid_client"


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"])
def test_unsupported_grant_type(client, creds, grant_type):
    client_id, secret = creds
    body = assert_problem(client.post(TOKEN, data={"grant_type": grant_type, "client_id": client_id,
                                                   "client_secret": secret, "username": "u", "password": "p"}),
                          400, "unsupported_grant_type")
    assert body["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("scope", ["halls:write", "cases:write halls:write", "licences:issue signatures:verify",
                                   "admin"])
def test_scope_not_granted(client, creds, scope):
    client_id, secret = creds
    body = assert_problem(client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id,
                                                   "client_secret": secret, "scope": scope}), 400, "invalid_scope")
    assert body["error"] == "invalid_scope"


@pytest.mark.parametrize("scope", ["cases:write", "licences:issue", "cases:write licences:issue"])
def test_requesting_a_subset_of_scopes(app, client, creds, scope):
    client_id, secret = creds
    response = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id,
                                        "client_secret": secret, "scope": scope})
    body = assert_client_token(app, response, client_id, scope)
    assert claims_of(body["access_token"])["scope"] == scope


@pytest.mark.parametrize("as_json", [True, False])
def test_missing_fields(client, as_json):
    send = {"json": {}} if as_json else {"data": {"scope": "cases:write"}}
    body = assert_problem(client.post(TOKEN, **send), 422, "validation_failed")
    assert {"grant_type", "client_id", "client_secret"} <= set(body["errors"])


def test_missing_secret_is_a_validation_error(client, creds):
    body = assert_problem(client.post(TOKEN, json={"grant_type": "client_credentials", "client_id": creds[0]}),
                          422, "validation_failed")
    assert set(body["errors"]) == {"client_secret"}


@pytest.mark.parametrize("payload", ["[1, 2]", '"client_credentials"'])
def test_body_that_is_not_an_object(client, payload):
    response = client.post(TOKEN, data=payload, headers={"Content-Type": "application/json"})
    assert_problem(response, 422, "validation_failed")


def test_body_that_is_not_json(client):
    """Unparsable JSON is a 400 `body_unparsable` (issue 14 item 8), not a validation failure."""
    response = client.post(TOKEN, data="not json", headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "body_unparsable")


def test_client_secret_never_appears_in_responses_or_the_audit_trail(app, client, creds):
    client_id, secret = creds
    ok = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id,
                                  "client_secret": secret})
    bad = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id,
                                   "client_secret": secret[:-1]})
    assert secret not in ok.get_data(as_text=True) and secret[:-1] not in bad.get_data(as_text=True)
    for event in rows(app, AuditEvent):
        assert secret[:-1] not in " ".join(str(v) for v in event.__data__.values())
