"""Third-party verification (验签): `POST /api/v1/verify/signatures` by a machine client.

Before the run, a few L2 citizens (scenarios/_wallet.py `make_holders`) enrol for cloud signing and
each signs a handful of documents through the app's own services; a machine client with the
`signatures:verify` scope gets an access token from the app's token service. Every request
verifies one of those signatures over its document (Base64) with its certificate: certificate
chain (cached after the first sight), live revocation status, SM3(Z‖M), SM2 verification, one
audit row. Verification consumes nothing, so the prepared requests cycle over the signatures.
"""
from __future__ import annotations

import base64
import json

from flask import current_app

from app.security.tokens import Principal
from identity import service as identity
from signing import service as signing

from scenarios import _signing, _wallet
from scenarios._base import Scenario

SIGNERS, DOCUMENTS = 4, 5
PIN = "802417"


def prepare(count: int) -> list[str]:
    client, _ = identity.create_client(name="bench verifier", scopes=["signatures:verify"], actor="bench")
    token, _ = current_app.extensions["tokens"].issue(
        Principal("client", client.client_id, scopes=frozenset({"signatures:verify"})))
    auth = {"Authorization": f"Bearer {token}"}
    bodies = []
    for user_id, _name, _id, _token in _wallet.make_holders(SIGNERS):
        _signing.enrol(user_id, PIN)
        for i in range(DOCUMENTS):
            document = f"bench contract {user_id} #{i} ".encode() * 40
            request = signing.create_request(user_id=user_id, title=f"合同 {i}",
                                             document_b64=base64.b64encode(document).decode())
            signed = signing.authorize(user_id=user_id, request_id=request["id"], pin=PIN)
            bodies.append(json.dumps({"document_b64": base64.b64encode(document).decode(),
                                      "signature_b64": signed["signature_b64"],
                                      "certificate_pem": signed["certificate_pem"]}))
    return [_wallet.line(SCENARIO.path, auth, bodies[i % len(bodies)]) for i in range(count)]


SCENARIO = Scenario(
    name="signing_verify",
    title="Third-party signature verification (DSS-style report)",
    method="POST",
    path="/api/v1/verify/signatures",
    headers={"Content-Type": "application/json"},
    expect_status=200,
    target_ratio=0.3,
    one_shot_bodies=True,
    per_request=True,
    prepare=prepare,
    server_env={"SIGNATURE_VERIFY_PER_MINUTE": "100000000"},  # one client sends every request
)
