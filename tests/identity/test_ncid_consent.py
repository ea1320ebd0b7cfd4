"""Consent-once for identity data of 网号 accounts (issue 19, WP4): per purpose, minimal storage."""
from __future__ import annotations

import json

import pytest

from app.audit import AuditEvent
from cases.models import Case
from identity import service
from identity.models import IdentityConsent, User
from tests import vectors
from tests.fixtures.cases import event
from tests.helpers import assert_problem, bearer, rows
from tests.identity.test_ncid_login import ncid_login, ncid_proof
from tests.wallet.conftest import ISSUE, WALLET, issue, issue_body
from wallet.models import Licence

CONSENTS = "/api/v1/me/identity-consents"
NAME, ID_NUMBER = vectors.LI_SI


@pytest.fixture
def issuer(machine_token):
    return bearer(machine_token("licences:issue"))


def consent(client, token: str, purpose: str, person=vectors.LI_SI, **kw):
    body = {**ncid_proof(client, token=token, purpose="consent", name=person[0], id_number=person[1], **kw),
            "purpose": purpose}
    return client.post(CONSENTS, json=body, headers=bearer(token))


def _blind(app, value: str) -> str:
    with app.app_context():
        return app.extensions["pii"].blind_index("id", value)


def test_without_consent_a_feature_says_why_and_where_to_consent(app, client):
    user_id = ncid_login(client)["user"]["id"]
    with app.app_context():
        with pytest.raises(service.IdentityConsentRequired) as refused:
            service.require_identity(user_id, "signing")
    problem = refused.value
    assert (problem.status, problem.code) == (403, "identity_consent_required")
    assert problem.extra == {"purpose": "signing", "consent_url": CONSENTS}
    assert "签名证书" in problem.detail and "姓名和身份证号码" in problem.detail


def test_consent_refused_in_the_national_app_is_identity_consent_required(app, client):
    token = ncid_login(client)["access_token"]
    body = {**ncid_proof(client, token=token, purpose="consent"), "purpose": "licence_matching"}  # nothing released
    problem = assert_problem(client.post(CONSENTS, json=body, headers=bearer(token)), 403, "identity_consent_required")
    assert problem["purpose"] == "licence_matching" and problem["consent_url"] == CONSENTS
    assert rows(app, IdentityConsent) == []


def test_licence_matching_attaches_the_parked_licence_and_keeps_only_the_index(app, client, issuer):
    parked = issue(client, issuer, issue_body(vectors.LI_SI))
    assert parked["parked"] is True
    login = ncid_login(client)
    token, user_id = login["access_token"], login["user"]["id"]
    assert client.get(WALLET, headers=bearer(token)).get_json()["items"] == []

    response = consent(client, token, "licence_matching")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["purpose"] == "licence_matching" and response.get_json()["granted_at"]

    [row] = rows(app, User)
    assert row.id_number_bidx == _blind(app, ID_NUMBER)
    assert (row.id_number_enc, row.name_enc, row.phone_enc) == (None, None, None)  # no plaintext kept
    [licence] = rows(app, Licence)
    assert licence.user_id == user_id
    assert [i["id"] for i in client.get(WALLET, headers=bearer(token)).get_json()["items"]] == [parked["id"]]
    assert client.get(f"{ISSUE}/{parked['id']}", headers=issuer).get_json()["parked"] is False
    [consented] = rows(app, IdentityConsent)
    assert (consented.user_id, consented.purpose, consented.withdrawn_at) == (user_id, "licence_matching", None)
    [audited] = rows(app, AuditEvent, AuditEvent.action == "identity.consent")
    assert json.loads(audited.details) == {"purpose": "licence_matching", "stored": ["id_number_index"]}
    with app.app_context():
        found = service.require_identity(user_id, "licence_matching")
    assert (found.id_number_index, found.name, found.id_number, found.source) == (
        _blind(app, ID_NUMBER), None, None, "ncid")
    # a licence issued afterwards goes straight to the account (found by the index)
    assert issue(client, issuer, issue_body(vectors.LI_SI, reference="ref-2"))["parked"] is False


def test_signing_consent_keeps_name_and_id_number_encrypted(app, client):
    login = ncid_login(client)
    token, user_id = login["access_token"], login["user"]["id"]
    assert consent(client, token, "signing").status_code == 201
    [row] = rows(app, User)
    assert ID_NUMBER.encode() not in bytes(row.id_number_enc) and NAME.encode() not in bytes(row.name_enc)
    with app.app_context():
        found = service.require_identity(user_id, "signing")
        assert (found.name, found.id_number) == (NAME, ID_NUMBER)
        with pytest.raises(service.IdentityConsentRequired):  # consent is per purpose
            service.require_identity(user_id, "enterprise_registration")


def test_an_identity_held_by_an_sms_account_is_refused(app, client, verified_citizen):
    verified_citizen(vectors.ZHANG_SAN)
    token = ncid_login(client)["access_token"]
    problem = assert_problem(consent(client, token, "licence_matching", person=vectors.ZHANG_SAN), 409,
                             "ncid_identity_held")
    assert "关联网号" in problem["detail"]
    ncid_row = next(u for u in rows(app, User) if u.real_name_source == "ncid")
    assert ncid_row.id_number_bidx is None and rows(app, IdentityConsent) == []
    refused = rows(app, AuditEvent, AuditEvent.action == "identity.consent")
    assert [(e.outcome, json.loads(e.details)["reason"]) for e in refused] == [("refused", "identity_held")]


def test_a_replayed_consent_body_is_refused(app, client):
    token = ncid_login(client)["access_token"]
    body = {**ncid_proof(client, token=token, purpose="consent", name=NAME, id_number=ID_NUMBER),
            "purpose": "licence_matching"}
    assert client.post(CONSENTS, json=body, headers=bearer(token)).status_code == 201
    assert_problem(client.post(CONSENTS, json=body, headers=bearer(token)), 400, "ncid_session_invalid")
    assert len(rows(app, IdentityConsent)) == 1


def test_consent_needs_the_accounts_own_ncid(app, client, login_citizen):
    sms_token = login_citizen()["access_token"]
    assert_problem(consent(client, sms_token, "licence_matching"), 409, "ncid_not_linked")
    token = ncid_login(client)["access_token"]
    body = {**ncid_proof(client, "SomeoneElse000000000", token=token, purpose="consent", name=NAME,
                         id_number=ID_NUMBER), "purpose": "licence_matching"}
    assert_problem(client.post(CONSENTS, json=body, headers=bearer(token)), 403, "ncid_account_mismatch")
    assert all(u.id_number_bidx is None for u in rows(app, User))


def test_licence_matching_attaches_parked_cases_too(app, client, push):
    push(event(1, "submitted", case_no="C-NCID", person=vectors.LI_SI))
    push(event(1, "submitted", case_no="C-OTHER", person=vectors.ZHANG_SAN))
    login = ncid_login(client)
    assert consent(client, login["access_token"], "licence_matching").status_code == 201
    owners = {c.case_no: c.user_id for c in rows(app, Case)}
    assert owners == {"C-NCID": login["user"]["id"], "C-OTHER": None}
    push(event(2, "accepted", case_no="C-NCID", person=vectors.LI_SI))  # later events: no name to compare, attached
    assert {c.case_no: c.user_id for c in rows(app, Case)}["C-NCID"] == login["user"]["id"]
