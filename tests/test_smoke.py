from tests.helpers import bearer


def test_login_and_me(client, login_citizen):
    tokens = login_citizen()
    me = client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["phone_masked"] == "138****8000"
