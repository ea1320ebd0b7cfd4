"""Access tokens: what a forged, altered, expired or misplaced token gets, and key rotation."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.security import tokens
from app.security.auth import auth_required, current_principal
from app.security.keys import key_id
from tests import vectors
from tests.helpers import bearer
from tests.identity.jwt_helpers import (
    ME, assemble, assert_token_invalid, b64url, b64url_decode, good_claims, login, sign, split,
)

# --- missing or non-Bearer credentials -------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer   "},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Token abc.def.ghi"},
])
def test_missing_or_non_bearer_credentials_answer_unauthorized(client, headers):
    assert_token_invalid(client.get(ME, headers=headers), code="unauthorized")


def test_bearer_scheme_is_case_insensitive(client, citizen):
    response = client.get(ME, headers={"Authorization": "bearer " + citizen["access_token"]})
    assert response.status_code == 200


# --- altered tokens --------------------------------------------------------------------------

def test_tampered_payload_with_original_signature_is_refused(client, citizen, login_citizen):
    other = login_citizen(vectors.PHONES[1])
    header, payload, signature = split(citizen["access_token"])
    payload["sub"] = other["user"]["id"]  # impersonate another citizen
    forged = assemble(header, payload, signature)
    assert_token_invalid(client.get(ME, headers=bearer(forged)))


def test_tampered_kind_claim_is_refused(client, app, citizen):
    header, payload, signature = split(citizen["access_token"])
    payload["kind"], payload["scope"] = "client", "licences:issue cases:write"
    assert_token_invalid(client.get(ME, headers=bearer(assemble(header, payload, signature))))


def test_extended_expiry_with_original_signature_is_refused(client, citizen):
    header, payload, signature = split(citizen["access_token"])
    payload["exp"] += 86400
    assert_token_invalid(client.get(ME, headers=bearer(assemble(header, payload, signature))))


def test_tampered_signature_is_refused(client, citizen):
    head, body, signature = citizen["access_token"].split(".")
    raw = bytearray(b64url_decode(signature))
    raw[0] ^= 0x01
    assert_token_invalid(client.get(ME, headers=bearer(f"{head}.{body}.{b64url(bytes(raw))}")))


def test_stripped_signature_is_refused(client, citizen):
    head, body, _ = citizen["access_token"].split(".")
    assert_token_invalid(client.get(ME, headers=bearer(f"{head}.{body}.")))


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "....", "eyJhbGciOiJFZERTQSJ9", "x" * 5000])
def test_malformed_tokens_are_refused(client, garbage):
    assert_token_invalid(client.get(ME, headers=bearer(garbage)))


# --- tokens signed correctly but not acceptable ----------------------------------------------

def test_expired_token_signed_with_the_apps_key_is_refused(client, app, citizen):
    sub = citizen["user"]["id"]
    now = int(time.time())
    fresh = sign(app, good_claims(app, sub))
    assert client.get(ME, headers=bearer(fresh)).status_code == 200  # the forging helper itself is sound
    expired = sign(app, good_claims(app, sub, iat=now - 1000, nbf=now - 1000, exp=now - 60))
    assert_token_invalid(client.get(ME, headers=bearer(expired)))


def test_issued_token_stops_working_after_its_ttl(client, app, citizen, monkeypatch):
    token = citizen["access_token"]
    ttl = citizen["expires_in"]

    def clock(offset: int):
        class Shifted(datetime):
            @classmethod
            def now(cls, tz=None):
                return datetime.now(tz) + timedelta(seconds=offset)
        monkeypatch.setattr(jwt.api_jwt, "datetime", Shifted)  # the verifier's clock
        monkeypatch.setattr(tokens, "_clock", lambda: time.time() + offset)  # and its cache's

    clock(ttl - 30)
    assert client.get(ME, headers=bearer(token)).status_code == 200
    clock(ttl + 10)
    assert_token_invalid(client.get(ME, headers=bearer(token)))


def test_not_yet_valid_token_is_refused(client, app, citizen):
    now = int(time.time())
    future = sign(app, good_claims(app, citizen["user"]["id"], iat=now + 600, nbf=now + 600, exp=now + 900))
    assert_token_invalid(client.get(ME, headers=bearer(future)))


def test_alg_none_token_is_refused(client, app, citizen):
    header = {"alg": "none", "typ": "at+jwt", "kid": app.extensions["keys"].jwt_kid}
    claims = good_claims(app, citizen["user"]["id"])
    for signature in ("", b64url(b"x")):
        assert_token_invalid(client.get(ME, headers=bearer(assemble(header, claims, signature))))
    header["alg"] = "None"
    assert_token_invalid(client.get(ME, headers=bearer(assemble(header, claims, ""))))


@pytest.mark.parametrize("encoding,fmt", [
    (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
    (serialization.Encoding.Raw, serialization.PublicFormat.Raw),
])
def test_hs256_signed_with_the_public_key_as_secret_is_refused(client, app, citizen, encoding, fmt):
    """Classic algorithm confusion: the verifier must never treat the public key as an HMAC secret."""
    keys = app.extensions["keys"]
    secret = keys.jwt_verify_keys[keys.jwt_kid].public_bytes(encoding, fmt)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": keys.jwt_kid}
    claims = good_claims(app, citizen["user"]["id"])
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    assert_token_invalid(client.get(ME, headers=bearer(f"{signing_input}.{b64url(mac)}")))


@pytest.mark.parametrize("change", [
    {"aud": "someone-else"},
    {"aud": ["someone-else"]},
    {"iss": "https://evil.example"},
    {"iss": None},
    {"aud": None},
    {"exp": None},
    {"jti": None},
    {"sub": None},
    {"kind": None},
    {"kind": "admin"},
])
def test_wrong_or_missing_claims_are_refused(client, app, citizen, change):
    claims = {**good_claims(app, citizen["user"]["id"]), **change}
    token = sign(app, {k: v for k, v in claims.items() if v is not None})
    assert_token_invalid(client.get(ME, headers=bearer(token)))


def test_unknown_kid_is_refused(client, app, citizen):
    claims = good_claims(app, citizen["user"]["id"])
    assert_token_invalid(client.get(ME, headers=bearer(sign(app, claims, headers={"kid": "no-such-key"}))))
    assert_token_invalid(client.get(ME, headers=bearer(sign(app, claims, headers={"kid": None}))))


def test_token_from_a_foreign_key_is_refused_with_its_own_or_our_kid(client, app, citizen):
    attacker = Ed25519PrivateKey.generate()
    claims = good_claims(app, citizen["user"]["id"])
    own_kid = sign(app, claims, key=attacker, headers={"kid": key_id(attacker.public_key())})
    our_kid = sign(app, claims, key=attacker)  # claims our kid, signed with another key
    assert_token_invalid(client.get(ME, headers=bearer(own_kid)))
    assert_token_invalid(client.get(ME, headers=bearer(our_kid)))


@pytest.mark.parametrize("typ", [None, "JWT", "at+JWT ", "dpop+jwt", ""])
def test_missing_or_wrong_typ_is_refused(client, app, citizen, typ):
    token = sign(app, good_claims(app, citizen["user"]["id"]), headers={"typ": typ})
    assert_token_invalid(client.get(ME, headers=bearer(token)))


def test_refresh_token_is_not_an_access_token(client, citizen):
    assert_token_invalid(client.get(ME, headers=bearer(citizen["refresh_token"])))


def test_token_for_another_audience_is_refused_by_this_deployment(make_app):
    other = make_app(JWT_AUDIENCE="yiwang-other")
    other_token = login(other.test_client())["access_token"]
    assert split(other_token)[1]["aud"] == "yiwang-other"
    app = make_app()
    assert_token_invalid(app.test_client().get(ME, headers=bearer(other_token)))


# --- kinds and scopes --------------------------------------------------------------------------

def test_machine_client_token_is_forbidden_on_citizen_endpoint(client, machine_token):
    response = client.get(ME, headers=bearer(machine_token("licences:issue cases:write")))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "forbidden"


def test_scope_protected_route(app, client, machine_token, login_citizen):
    @auth_required(kinds=("client",), scopes=("cases:write",))
    def scoped():
        principal = current_principal()
        return {"client": principal.id, "scopes": sorted(principal.scopes)}

    app.add_url_rule("/api/v1/test-scoped", "test_scoped", scoped, methods=["POST"])

    ok = client.post("/api/v1/test-scoped", headers=bearer(machine_token("cases:write")))
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["scopes"] == ["cases:write"]
    wider = client.post("/api/v1/test-scoped", headers=bearer(machine_token("cases:write halls:write")))
    assert wider.status_code == 200

    other_scope = client.post("/api/v1/test-scoped", headers=bearer(machine_token("licences:issue")))
    assert other_scope.status_code == 403
    assert other_scope.mimetype == "application/problem+json"
    assert other_scope.get_json()["code"] == "insufficient_scope"

    citizen = client.post("/api/v1/test-scoped", headers=bearer(login_citizen()["access_token"]))
    assert citizen.status_code == 403
    assert citizen.get_json()["code"] == "forbidden"

    assert_token_invalid(client.post("/api/v1/test-scoped"), code="unauthorized")


def test_client_cannot_add_a_scope_to_its_own_token(app, client, machine_token):
    @auth_required(kinds=("client",), scopes=("cases:write",))
    def scoped():
        return {"ok": True}

    app.add_url_rule("/api/v1/test-scoped", "test_scoped", scoped)
    header, payload, signature = split(machine_token("licences:issue"))
    payload["scope"] = "licences:issue cases:write"
    assert_token_invalid(client.get("/api/v1/test-scoped", headers=bearer(assemble(header, payload, signature))))
