"""Assurance core (identity/assurance.py, issue 19 WP1): events, standing vs fresh level, the 403
shape every refusal carries, and the level check of a delegated token on its ACTOR."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from app.db import db, utcnow
from app.errors import AppError
from app.security.tokens import Principal
from identity import assurance
from identity.models import AssuranceEvent, User
from tests import vectors
from tests.helpers import assert_problem, bearer, fresh_liveness, rows

ASSURANCE = "/api/v1/me/assurance"


@pytest.fixture
def call(app):
    def run(func, *args, **kwargs):
        with app.test_request_context(), db.connection_context():
            return func(*args, **kwargs)

    return run


def face_pass(client, token: str) -> None:
    session_id = fresh_liveness(client, token)
    response = client.post(f"/api/v1/me/liveness/{session_id}/confirm", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["assurance_level"] == "L3"


def test_login_registry_and_face_each_record_an_event(client, app, verified_citizen):
    tokens = verified_citizen(vectors.ZHANG_SAN)
    user_id = tokens["user"]["id"]
    face_pass(client, tokens["access_token"])
    events = rows(app, AssuranceEvent, AssuranceEvent.user_id == user_id)
    assert sorted((e.method, e.level) for e in events) == [("face", 3), ("registry", 2), ("sms", 1)]
    face = next(e for e in events if e.method == "face")
    assert face.ref_hash is not None and len(face.ref_hash) == 64  # the session id hashed, not stored
    body = client.get(ASSURANCE, headers=bearer(tokens["access_token"])).get_json()
    assert body["level"] == "L3" and body["source"] == "registry"
    assert [e["method"] for e in body["events"]] == ["face", "registry", "sms"]  # newest first
    assert [e["level"] for e in body["events"]] == ["L3", "L2", "L1"]


def test_unverified_account_counts_as_l1_whatever_its_row_says(client, app, call, login_citizen):
    tokens = login_citizen()
    user_id = tokens["user"]["id"]
    with app.app_context(), db.connection_context():
        User.update(assurance_level=3).where(User.id == user_id).execute()  # a row without a source
    assert call(assurance.verified_level, user_id) == 1
    body = client.get(ASSURANCE, headers=bearer(tokens["access_token"])).get_json()
    assert body == {"level": "L1", "source": None, "events": body["events"]}


def test_levels_a_method_cannot_prove_are_refused(call, login_citizen):
    """L4 comes only from the counter check and 网证 (R03 on an L3 account, R04)."""
    user_id = login_citizen()["user"]["id"]
    for method, level in (("face", 4), ("registry", 3), ("sms", 2), ("sms_step_up", 3), ("ncid:R01", 3),
                          ("ncid:R02", 4), ("password", 1)):
        with pytest.raises(ValueError):
            call(assurance.record_assurance, user_id=user_id, level=level, method=method)
    assert call(assurance.verified_level, user_id) == 1


def test_ncid_r04_gives_l4_and_sets_the_source(app, call, login_citizen):
    user_id = login_citizen()["user"]["id"]
    with app.test_request_context(), db.connection_context(), db.atomic():
        assurance.record_assurance(user_id=user_id, level=4, method="ncid:R04", ref="biz-seq-1")
    assert call(assurance.verified_level, user_id) == 4
    user = rows(app, User, User.id == user_id)[0]
    assert (user.assurance_level, user.real_name_source) == (4, "ncid")
    assert call(assurance.fresh_level, user_id, 60) == 4


def test_standing_never_decays_and_sms_step_up_never_raises_it(app, call, verified_citizen):
    user_id = verified_citizen()["user"]["id"]
    with app.test_request_context(), db.connection_context():
        assurance.record_assurance(user_id=user_id, level=3, method="face")
        assurance.record_assurance(user_id=user_id, level=2, method="registry")
        assert assurance.verified_level(user_id) == 3
        assurance.record_assurance(user_id=user_id, level=2, method="sms_step_up")
        assert assurance.verified_level(user_id) == 3
    assert rows(app, User, User.id == user_id)[0].assurance_level == 3


def test_sms_step_up_on_an_l1_account_is_only_a_fresh_l1(app, call, login_citizen):
    user_id = login_citizen()["user"]["id"]
    call(assurance.record_assurance, user_id=user_id, level=2, method="sms_step_up")
    assert call(assurance.verified_level, user_id) == 1
    assert call(assurance.fresh_level, user_id, 60) == 1


def test_require_level_refusals_name_the_levels(client, app, call, verified_citizen):
    tokens = verified_citizen()
    user_id = tokens["user"]["id"]
    with pytest.raises(AppError) as never:
        call(assurance.require_level, user_id, 3, max_age=600, purpose="signing")
    assert never.value.code == "assurance_level_insufficient"
    assert never.value.extra == {"required_level": "L3", "current_level": "L2", "max_age": 600,
                                 "level_reached_at": None,
                                 "step_up_url": "/api/v1/me/step-up?required_level=L3&max_age=600&purpose=signing"}
    face_pass(client, tokens["access_token"])
    call(assurance.require_level, user_id, 3, max_age=600, purpose="signing")  # fresh: passes
    with time_machine.travel(utcnow() + timedelta(seconds=601), tick=False):
        with pytest.raises(AppError) as stale:
            call(assurance.require_level, user_id, 3, max_age=600, purpose="signing")
        call(assurance.require_level, user_id, 3)  # the standing level still holds
        call(assurance.require_level, user_id, 2, max_age=86400)
    assert stale.value.code == "step_up_required" and stale.value.status == 403
    assert stale.value.extra["current_level"] == "L3" and stale.value.extra["max_age"] == 600
    assert stale.value.extra["level_reached_at"].endswith("+08:00")


def test_refusal_over_http_has_every_field(client, login_citizen):
    """The 403 body (problem+json) names required_level, current_level, max_age and step_up_url."""
    tokens = login_citizen()
    body = assert_problem(client.post("/api/v1/me/liveness", headers=bearer(tokens["access_token"])),
                          403, "assurance_level_insufficient")
    assert body["required_level"] == "L2" and body["current_level"] == "L1"
    assert body["max_age"] is None and body["level_reached_at"] is None
    assert body["step_up_url"] == "/api/v1/me/step-up?required_level=L2"


def test_policy_table(call):
    assert call(assurance.policy, "signing") == (3, 600)
    assert call(assurance.policy, "licence_present") == (2, None)
    assert call(assurance.policy_requirement, "agent_add") == {"level": 3, "max_age": 300, "purpose": "agent_add"}
    with pytest.raises(KeyError):
        call(assurance.policy, "launch_rockets")


def test_holder_index_is_the_id_number_blind_index(call, verified_citizen, login_citizen):
    verified = verified_citizen()["user"]["id"]
    plain = login_citizen(vectors.PHONES[1])["user"]["id"]
    from app.security.pii import field_cipher
    with_index = call(assurance.holder_index, verified)
    assert with_index == call(lambda: field_cipher().blind_index("id", vectors.ZHANG_SAN[1]))
    assert call(assurance.holder_index, plain) is None


# --- Delegated tokens: the actor's level --------------------------------------------------------

def test_delegated_token_level_is_checked_on_the_actor(client, app, runner, verified_citizen, login_citizen):
    """A proxy at L1 acting for an L3 citizen is refused where L2 is required (the check is on the
    actor); the same token shape with an L2 actor passes the level check."""
    principal = verified_citizen(vectors.ZHANG_SAN, vectors.PHONES[0])
    face_pass(client, principal["access_token"])
    weak = login_citizen(vectors.PHONES[1])["user"]["id"]
    strong = verified_citizen(vectors.LI_SI, vectors.PHONES[2])["user"]["id"]
    app.extensions["delegation_checks"]["citizen"] = lambda p: None  # the grant itself is not under test
    tokens = app.extensions["tokens"]

    def token(actor: str) -> dict:
        with app.app_context():
            issued, _ = tokens.issue(Principal(kind="citizen", id=principal["user"]["id"], actor_id=actor,
                                               grant_id="pg_test", delegated_scopes=frozenset({"licences:present"})))
        return bearer(issued)

    url = "/api/v1/wallet/licences/lic_nope/presentations"
    body = assert_problem(client.post(url, json={}, headers=token(weak)), 403, "assurance_level_insufficient")
    assert (body["required_level"], body["current_level"]) == ("L2", "L1")
    assert client.post(url, json={}, headers=token(strong)).status_code == 404  # past the level check


def test_enterprise_kind_without_checker_fails_closed(client, app, verified_citizen):
    user_id = verified_citizen()["user"]["id"]
    app.extensions["delegation_checks"].pop("enterprise", None)
    with app.app_context():
        issued, _ = app.extensions["tokens"].issue(Principal(
            kind="enterprise", id="en_0123456789abcdef", actor_id=user_id, grant_id="legal_representative",
            delegated_scopes=frozenset({"licences:present"})))
    response = client.post("/api/v1/wallet/licences/lic_nope/presentations", json={}, headers=bearer(issued))
    assert response.status_code == 401


def test_openapi_documents_the_assurance_problem(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    fields = spec["components"]["schemas"]["AssuranceProblem"]["properties"]
    assert {"required_level", "current_level", "max_age", "level_reached_at", "step_up_url", "code"} <= set(fields)
    answer = spec["paths"]["/api/v1/signing/requests/{request_id}/authorize"]["post"]["responses"]["403"]
    assert answer["content"]["application/problem+json"]["schema"]["$ref"].endswith("/AssuranceProblem")
    assert "step_up_required" in answer["description"] and "L3, proved within 600 s" in answer["description"]
    present = spec["paths"]["/api/v1/wallet/licences/{licence_id}/presentations"]["post"]["responses"]["403"]
    assert 'ASSURANCE_POLICY["licence_present"]' in present["description"]
