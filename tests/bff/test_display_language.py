"""Display preferences: the interface language (zh-CN | en) kept on the account beside elderly mode
(issue 16), so the choice follows the citizen to another device and survives signing out. A PUT
changes what it names and keeps the rest."""
from __future__ import annotations

from tests import vectors
from tests.helpers import assert_problem, bearer

PREFS = "/api/v1/bff/preferences"


def test_the_language_is_kept_beside_elderly_mode(client, login_citizen):
    headers = bearer(login_citizen()["access_token"])
    assert client.get(PREFS, headers=headers).get_json() == {"elderly_mode": False, "language": None,
                                                             "updated_at": None}
    chosen = client.put(PREFS, json={"language": "en"}, headers=headers)
    assert chosen.status_code == 200
    assert chosen.get_json()["language"] == "en" and chosen.get_json()["elderly_mode"] is False
    assert chosen.get_json()["updated_at"].endswith("+08:00")
    # Elderly mode changed alone keeps the language, and the language changed alone keeps elderly mode.
    assert client.put(PREFS, json={"elderly_mode": True}, headers=headers).get_json()["language"] == "en"
    back = client.put(PREFS, json={"language": "zh-CN"}, headers=headers).get_json()
    assert back["language"] == "zh-CN" and back["elderly_mode"] is True
    both = client.put(PREFS, json={"language": "en", "elderly_mode": False}, headers=headers).get_json()
    assert (both["language"], both["elderly_mode"]) == ("en", False)
    # null forgets the choice: the device's language again.
    assert client.put(PREFS, json={"language": None}, headers=headers).get_json()["language"] is None
    assert client.get(PREFS, headers=headers).get_json()["language"] is None


def test_the_choice_follows_the_account_to_another_session(client, login_citizen):
    first = login_citizen()
    client.put(PREFS, json={"language": "en", "elderly_mode": True}, headers=bearer(first["access_token"]))
    assert client.post("/api/v1/auth/logout", headers=bearer(first["access_token"]),
                       json={"refresh_token": first["refresh_token"]}).status_code in (200, 204)
    again = login_citizen()  # signed in again (another device would be the same: a new session)
    assert again["access_token"] != first["access_token"]
    answer = client.get(PREFS, headers=bearer(again["access_token"])).get_json()
    assert answer["language"] == "en" and answer["elderly_mode"] is True
    # Another citizen's preferences are their own.
    other = login_citizen(vectors.PHONES[1])
    assert client.get(PREFS, headers=bearer(other["access_token"])).get_json()["language"] is None


def test_a_language_outside_the_two_is_refused_in_the_callers_language(client, login_citizen):
    headers = bearer(login_citizen()["access_token"])
    client.put(PREFS, json={"language": "en"}, headers=headers)
    for value in ("fr", "EN", "zh", "", 1, True):
        body = assert_problem(client.put(PREFS, json={"language": value}, headers=headers), 422, "validation_failed")
        assert "language" in body["errors"]
    zh = assert_problem(client.put(PREFS, json={"language": "fr"}, headers=headers), 422, "validation_failed")
    assert zh["errors"]["language"] == ["语言应为 zh-CN 或 en。"]
    en = client.put(PREFS, json={"language": "fr"}, headers={**headers, "Accept-Language": "en"})
    assert en.status_code == 422 and en.get_json()["errors"]["language"] == ["The language must be zh-CN or en."]
    assert_problem(client.put(PREFS, json={}, headers=headers), 422, "empty_update")
    assert_problem(client.put(PREFS, json={"elderly_mode": None}, headers=headers), 422, "validation_failed")
    assert client.get(PREFS, headers=headers).get_json()["language"] == "en"  # nothing refused was kept


def test_anonymous_is_refused_before_the_body_is_read(client):
    assert_problem(client.put(PREFS, json={"language": "fr"}), 401)
    assert_problem(client.get(PREFS), 401)


def test_the_openapi_document_states_the_two_languages(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    field = spec["components"]["schemas"]["DisplayPreferences"]["properties"]["language"]
    assert field["enum"][:2] == ["zh-CN", "en"] and field.get("nullable") is True
    schema = spec["components"]["schemas"]["DisplayPreferences"]
    assert "required" not in schema and schema["minProperties"] == 1
