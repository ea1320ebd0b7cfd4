"""Access-token helpers for the identity tests: forge, split and re-sign JWTs; log a citizen in."""
from __future__ import annotations

import base64
import json
import time

import jwt

from tests import vectors
from tests.helpers import latest_code

ME = "/api/v1/me"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def split(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def assemble(header: dict, payload: dict, signature: str) -> str:
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), signature])


def sign(app, claims: dict, *, headers: dict | None = None, key=None) -> str:
    """A token signed with the app's own signing key (or `key`), with chosen claims and headers."""
    keys = app.extensions["keys"]
    hdrs = {"kid": keys.jwt_kid, "typ": "at+jwt"}
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    return jwt.encode(claims, key or keys.jwt_signing_key, algorithm="EdDSA", headers=hdrs)


def good_claims(app, sub: str, **changes) -> dict:
    now = int(time.time())
    claims = {"iss": app.config["JWT_ISSUER"], "aud": app.config["JWT_AUDIENCE"], "sub": sub, "iat": now,
              "nbf": now, "exp": now + 300, "jti": "test-jti", "kind": "citizen"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def assert_token_invalid(response, code: str = "token_invalid") -> None:
    assert response.status_code == 401, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code
    assert body["status"] == 401
    assert "user" not in body and "id" not in body
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def login(client, phone: str = vectors.PHONES[0]) -> dict:
    assert client.post("/api/v1/auth/sms-codes", json={"phone": phone}).status_code == 202
    response = client.post("/api/v1/auth/login", json={"phone": phone, "code": latest_code(client, phone)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()
