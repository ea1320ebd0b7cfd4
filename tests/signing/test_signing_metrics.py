"""Issue 21: `yiwang_signatures_total{kind, result}` per authorisation (single, batch), the third-party
verification as `yiwang_verifications_total{kind="signature"}`, and `yiwang_sm2_operations_total{op}`."""
from __future__ import annotations

from prometheus_client import REGISTRY

from app.request_metrics import TALLY
from tests.signing.conftest import BASE, PIN, VERIFY, authorize, b64, enrol, new_request, sign


def sample(name: str, **labels) -> float:
    TALLY.flush()
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_single_authorisations_count_ok_and_a_wrong_pin_by_its_code(client, signer):
    headers, _ = signer
    ok, signs = sample("yiwang_signatures_total", kind="single", result="ok"), sample("yiwang_sm2_operations_total", op="sign")
    request = new_request(client, headers)
    wrong = authorize(client, headers, request["id"], pin="000000")
    code = wrong.get_json()["code"]
    assert wrong.status_code >= 400 and sample("yiwang_signatures_total", kind="single", result=code) >= 1
    assert authorize(client, headers, request["id"]).status_code == 200
    assert sample("yiwang_signatures_total", kind="single", result="ok") == ok + 1
    assert sample("yiwang_sm2_operations_total", op="sign") > signs  # the signature (and its timestamp)


def test_a_batch_authorisation_counts_once(client, citizen):
    enrol(client, citizen)
    items = [{"title": f"文件{i}", "document_b64": b64(d)} for i, d in enumerate((b"one", b"two"))]
    batch = client.post(f"{BASE}/batches", json={"items": items}, headers=citizen).get_json()
    ok = sample("yiwang_signatures_total", kind="batch", result="ok")
    assert client.post(f"{BASE}/batches/{batch['id']}/authorize", json={"pin": PIN}, headers=citizen).status_code == 200
    assert sample("yiwang_signatures_total", kind="batch", result="ok") == ok + 1


def test_third_party_verification_counts_ok_and_refusals(client, signer, verifier):
    signed = sign(client, signer[0])
    ok, verifies = sample("yiwang_verifications_total", kind="signature", result="ok"), sample(
        "yiwang_sm2_operations_total", op="verify")
    body = {"document_b64": b64(b"another document"), "signature_b64": signed["signature_b64"],
            "certificate_pem": signed["certificate_pem"]}
    assert client.post(VERIFY, json=body, headers=verifier).status_code == 200
    assert sample("yiwang_verifications_total", kind="signature", result="ok") == ok + 1
    assert sample("yiwang_sm2_operations_total", op="verify") > verifies
    unauthorized = sample("yiwang_verifications_total", kind="signature", result="unauthorized")
    assert client.post(VERIFY, json=body).status_code == 401
    assert sample("yiwang_verifications_total", kind="signature", result="unauthorized") == unauthorized + 1
