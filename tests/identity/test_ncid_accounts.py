"""A 网号 account among the others (issue 19 integration): it counts as verified, is never folded
into a phone's account, is offered 网证 + 人脸 rather than a face check it cannot pass, and is asked
for its consent before a signing certificate names it."""
from __future__ import annotations

from identity.models import NcidLink, User
from tests import vectors
from tests.helpers import assert_problem, bearer, rows
from tests.identity.test_ncid_login import ncid_login


def test_a_ncid_account_counts_as_real_name_verified(client):
    answer = ncid_login(client)
    me = client.get("/api/v1/me", headers=bearer(answer["access_token"])).get_json()
    assert me["real_name_verified"] is True and me["real_name_source"] == "ncid"
    assert me["real_name_verified_at"] is None  # no registry match happened


def test_a_ncid_account_is_not_folded_into_the_account_of_a_phone_it_binds(app, client, login_citizen):
    phone_account = login_citizen(vectors.PHONES[0])["user"]["id"]
    answer = ncid_login(client)
    token = answer["access_token"]
    # the phone proven through the (development) WeChat phone button
    refused = client.post("/api/v1/me/phone", json={"wechat_code": f"phone-{vectors.PHONES[0]}"},
                          headers=bearer(token))
    assert_problem(refused, 409, "phone_held_by_other_account")
    assert {u.id for u in rows(app, User)} == {phone_account, answer["user"]["id"]}  # nothing deleted
    [link] = rows(app, NcidLink)
    assert link.user_id == answer["user"]["id"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200  # the session lives on


def test_a_ncid_account_is_offered_ncid_not_a_face_check_it_has_no_photo_for(client):
    token = ncid_login(client, mode="R01")["access_token"]  # 网证 alone: L2
    options = client.get("/api/v1/me/step-up?required_level=L3&max_age=600&purpose=signing",
                         headers=bearer(token)).get_json()
    assert [m["method"] for m in options["methods"]] == ["ncid"]
    assert_problem(client.post("/api/v1/me/liveness", headers=bearer(token)), 409, "liveness_needs_identity")


def test_signing_enrolment_asks_a_ncid_account_for_its_consent(client):
    token = ncid_login(client)["access_token"]
    body = assert_problem(client.post("/api/v1/signing/enrol", json={"pin": "135792", "sms_code": "123456"},
                                      headers=bearer(token)), 403, "identity_consent_required")
    assert body["purpose"] == "signing" and body["consent_url"]
