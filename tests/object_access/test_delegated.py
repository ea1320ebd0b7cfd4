"""Delegated tokens (授权代理): a proxy acting for 张三 with every scope reaches 张三's objects only,
never a third citizen's, on the id-taking routes that accept delegated tokens at all."""
from __future__ import annotations

from tests import vectors
from tests.fixtures.appointments import APPOINTMENTS, book
from tests.fixtures.cases import CASES, CHAIN
from tests.fixtures.proxies import ALL_SCOPES
from tests.object_access.conftest import refused

SECRETS = (vectors.WANG_WU[0], vectors.WANG_WU[1], vectors.PHONES[2])


def test_a_proxy_cannot_reach_a_third_citizens_objects(client, people, grant, proxy_session,
                                                       make_hall, run_chain):
    make_hall()
    wang = people["other"]["headers"]
    appointment = book(client, wang)
    case_id = run_chain(CHAIN[:-1], person=vectors.WANG_WU)[0]["case_id"]
    proxy = proxy_session(grant(ALL_SCOPES)["id"])  # 李四 acting for 张三

    url = f"{APPOINTMENTS}/{appointment['id']}"
    secrets = (appointment["check_in_code"], *SECRETS)
    refused(client.get(url, headers=proxy), *secrets)
    refused(client.get(f"{url}/qr.png", headers=proxy), *secrets)
    refused(client.delete(url, headers=proxy), *secrets)
    refused(client.get(f"{CASES}/{case_id}", headers=proxy), *SECRETS)
    refused(client.post(f"{CASES}/{case_id}/evaluation", json={"rating": 5}, headers=proxy), *SECRETS)

    assert client.get(url, headers=wang).get_json()["status"] == "booked"
    own = book(client, people["principal"]["headers"])  # while 张三's own appointment is in reach
    assert client.get(f"{APPOINTMENTS}/{own['id']}", headers=proxy).status_code == 200
    assert client.get(f"{CASES}/{case_id}", headers=wang).get_json()["rated"] is False
