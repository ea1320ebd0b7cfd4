"""Access tokens as issued (header, claims, lifetime, ids) and key rotation."""
from __future__ import annotations

import json

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.security.keys import key_id
from tests import vectors
from tests.helpers import bearer
from tests.identity.jwt_helpers import ME, assert_token_invalid, login, split

# --- what the issued token looks like ----------------------------------------------------------

def test_access_token_header_and_claims(app, citizen):
    token = citizen["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "at+jwt"
    assert header["kid"] == app.extensions["keys"].jwt_kid
    keys = app.extensions["keys"]
    claims = jwt.decode(token, keys.jwt_verify_keys[header["kid"]], algorithms=["EdDSA"],
                        audience=app.config["JWT_AUDIENCE"], issuer=app.config["JWT_ISSUER"])
    assert claims["sub"] == citizen["user"]["id"]
    assert claims["kind"] == "citizen"
    assert claims["sid"]
    assert claims["jti"]
    assert 0 < claims["exp"] - claims["iat"] <= 900
    assert citizen["expires_in"] == claims["exp"] - claims["iat"]
    assert citizen["token_type"] == "Bearer"
    # nothing personal rides in the token
    text = json.dumps(claims, ensure_ascii=False)
    assert vectors.PHONES[0] not in text and "8000" not in text


def test_access_token_ttl_is_capped_at_15_minutes(make_app):
    app = make_app(ACCESS_TOKEN_TTL=7200)
    tokens = login(app.test_client())
    claims = split(tokens["access_token"])[1]
    assert claims["exp"] - claims["iat"] <= 900
    assert tokens["expires_in"] <= 900


def test_every_token_has_its_own_jti(client, login_citizen):
    first = split(login_citizen(vectors.PHONES[0])["access_token"])[1]
    second = split(login_citizen(vectors.PHONES[1])["access_token"])[1]
    assert first["jti"] != second["jti"]


# --- key rotation --------------------------------------------------------------------------------

def test_dev_key_rotation_keeps_old_tokens_valid(make_app, tmp_path):
    var = str(tmp_path / "var")  # own key directory: rotation must not leak into other tests
    old_app = make_app(VAR_DIR=var)
    old_client = old_app.test_client()
    old_token = login(old_client)["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    assert old_kid == old_app.extensions["keys"].jwt_kid

    result = old_app.test_cli_runner().invoke(args=["keys", "rotate-jwt"])
    assert result.exit_code == 0, result.output

    new_app = make_app(VAR_DIR=var)
    new_kid = new_app.extensions["keys"].jwt_kid
    assert new_kid != old_kid
    assert new_kid in result.output
    assert set(new_app.extensions["keys"].jwt_verify_keys) == {old_kid, new_kid}
    new_client = new_app.test_client()

    # the old token keeps working on the new deployment
    assert new_client.get(ME, headers=bearer(old_token)).status_code == 200
    # new tokens are signed with the new key
    new_token = login(new_client, vectors.PHONES[1])["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert new_client.get(ME, headers=bearer(new_token)).status_code == 200
    # the old deployment never heard of the new key
    assert_token_invalid(old_client.get(ME, headers=bearer(new_token)))
    # and it still accepts its own tokens
    assert old_client.get(ME, headers=bearer(old_token)).status_code == 200


def _pem_private(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _pem_public(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_production_style_keys_from_settings(make_app):
    old_key, new_key, older_key = (Ed25519PrivateKey.generate() for _ in range(3))

    old_app = make_app(JWT_SIGNING_KEY=_pem_private(old_key))
    assert old_app.extensions["keys"].jwt_kid == key_id(old_key.public_key())
    old_token = login(old_app.test_client())["access_token"]
    assert jwt.get_unverified_header(old_token)["kid"] == key_id(old_key.public_key())

    rotated = make_app(JWT_SIGNING_KEY=_pem_private(new_key),
                       JWT_VERIFY_KEYS=_pem_public(older_key) + _pem_public(old_key))
    assert rotated.extensions["keys"].jwt_kid == key_id(new_key.public_key())
    rotated_client = rotated.test_client()
    assert rotated_client.get(ME, headers=bearer(old_token)).status_code == 200
    new_token = login(rotated_client, vectors.PHONES[1])["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == key_id(new_key.public_key())

    # once the old key is dropped from JWT_VERIFY_KEYS, its tokens stop working
    dropped = make_app(JWT_SIGNING_KEY=_pem_private(new_key))
    dropped_client = dropped.test_client()
    assert_token_invalid(dropped_client.get(ME, headers=bearer(old_token)))
    assert dropped_client.get(ME, headers=bearer(new_token)).status_code == 200


def test_verify_only_key_cannot_be_used_to_sign(make_app):
    """A key listed only for verification never becomes the signing key."""
    signing, verify_only = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    app = make_app(JWT_SIGNING_KEY=_pem_private(signing), JWT_VERIFY_KEYS=_pem_public(verify_only))
    token = login(app.test_client())["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == key_id(signing.public_key())
    jwt.decode(token, signing.public_key(), algorithms=["EdDSA"], audience=app.config["JWT_AUDIENCE"])


def test_a_remembered_token_stops_working_when_its_key_is_no_longer_trusted(client, app, citizen):
    token = citizen["access_token"]
    assert client.get(ME, headers=bearer(token)).status_code == 200  # verified once, then remembered
    keys = app.extensions["keys"]
    trusted = dict(keys.jwt_verify_keys)
    keys.jwt_verify_keys.clear()
    try:
        assert_token_invalid(client.get(ME, headers=bearer(token)))
    finally:
        keys.jwt_verify_keys.update(trusted)
    assert client.get(ME, headers=bearer(token)).status_code == 200
