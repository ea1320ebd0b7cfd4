"""Verification reports (issue 18): a report belongs to the machine client that asked for it. Another
verifier, a citizen, a counter clerk and a client without the scope can neither read it nor get its
PDF, and the refusal shows nothing of it (not the signer, not the certificate, not the verdict)."""
from __future__ import annotations

from tests.object_access.conftest import refused
from tests.helpers import bearer
from tests.signing.conftest import DOCUMENT, VERIFY, b64, enrol, sign

ROUTES = {"/api/v1/verify/reports/<report_id>", "/api/v1/verify/reports/<report_id>.pdf"}


def test_a_report_of_another_verifier(client, machine_token, two_citizens, clerk_of):
    citizen = two_citizens[0]
    enrol(client, citizen)
    signed = sign(client, citizen)
    owner = bearer(machine_token("signatures:verify"))
    body = {"document_b64": b64(DOCUMENT), "signature_b64": signed["signature_b64"],
            "certificate_pem": signed["certificate_pem"]}
    answer = client.post(VERIFY, json=body, headers=owner).get_json()
    url = f"/api/v1/verify/reports/{answer['report_id']}"
    secrets = (answer["report_cms_b64"][:40], answer["certificate"]["serial"], signed["signature_b64"][:40])

    strangers = [bearer(machine_token("signatures:verify")), bearer(machine_token("licences:issue cases:write")),
                 *two_citizens, clerk_of("H1")]
    for headers in strangers:
        refused(client.get(url, headers=headers), *secrets)
        refused(client.get(url + ".pdf", headers=headers), *secrets)
    assert client.get(url, headers=owner).get_json()["report_id"] == answer["report_id"]
    assert client.get(url + ".pdf", headers=owner).mimetype == "application/pdf"
