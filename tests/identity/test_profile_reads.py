"""The profile (`user_view`) reads the account and whether a 网号 link exists in one statement
(issue 20): GET /me and the SMS login answer ncid_linked without a separate ncid_link query, and
the flag follows a link made or removed since (it is read with the row, never cached)."""
from __future__ import annotations

import peewee as pw

from app.security.pii import mask_phone
from identity import models
from tests import vectors
from tests.helpers import bearer
from tests.identity.test_ncid_login import ME_NCID, ncid_proof


def _statements(monkeypatch) -> list[str]:
    seen: list[str] = []
    execute = pw.Database.execute_sql

    def counting(self, sql, params=None, *args, **kwargs):
        seen.append(sql)
        return execute(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(pw.Database, "execute_sql", counting)
    return seen


def test_me_reads_the_account_and_its_link_in_one_statement(app, client, login_citizen, monkeypatch):
    token = login_citizen()["access_token"]
    seen = _statements(monkeypatch)
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.get_json()["ncid_linked"] is False
    assert [sql for sql in seen if '"ncid_link"' in sql and '"user"' not in sql] == []

    linked = client.post(ME_NCID, json=ncid_proof(client, token=token, purpose="link"), headers=bearer(token))
    assert linked.status_code == 200, linked.get_json()
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["ncid_linked"] is True
    with app.app_context():
        models.delete_ncid_link(me.get_json()["id"])
    assert client.get("/api/v1/me", headers=bearer(token)).get_json()["ncid_linked"] is False


def test_the_sms_login_shows_the_phone_it_logged_in_with_masked(client, login_citizen):
    user = login_citizen(vectors.PHONES[0])["user"]
    assert user["phone_masked"] == mask_phone(vectors.PHONES[0]) and user["ncid_linked"] is False
