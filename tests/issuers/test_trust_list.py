"""The published trust list (GET /.well-known/yiwang/issuers): its content, ETag/304, the signature
over the exact bytes served checked by the openssl CLI and by gmssl, the documented OpenSSL and
Python verifications run as written, tampering refused, every key certificate chained to the CA."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.crypto.sm2 import SM2PublicKey
from app.crypto.sm3 import sm3_hex
from issuers import trust
from tests.helpers import bearer
from tests.issuers.registry import register_department

URL = "/.well-known/yiwang/issuers"
DISTID = "distid:1234567812345678"


def openssl(*args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(["openssl", *args], capture_output=True, timeout=30, cwd=cwd)
    if check and result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)}: {result.stderr.decode(errors='replace')}")
    return result


@pytest.fixture
def departments(runner, machine_token, client):
    """Two departments, each with a signing key (made by `flask issuers rotate-key`)."""
    made = []
    for name, types in (("合肥市公安局交通警察支队", ("driving_licence",)), ("安徽省公安厅", ("resident_id_card",))):
        issuer_id, uscc = register_department(runner, name=name, types=types)
        made.append((issuer_id, uscc))
    out = runner.invoke(args=["issuers", "rotate-key", made[0][1]])  # a key without issuing anything
    assert out.exit_code == 0, out.output
    out = runner.invoke(args=["issuers", "rotate-key", made[1][1]])
    assert out.exit_code == 0, out.output
    return made


def _get(client, **headers):
    return client.get(URL, headers=headers)


def test_public_signed_canonical_and_cacheable(client, departments):
    answer = _get(client)
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    body = answer.get_data()
    document = json.loads(body)
    # canonical JSON: what we parse and write back in the documented form is byte for byte what was served
    assert json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == body
    assert "合肥市公安局交通警察支队".encode() in body  # UTF-8, not \u escapes
    assert {"version", "issued_at", "next_update", "issuers", "platform_keys", "ca_certificate"} <= set(document)
    assert document["issued_at"].endswith("+08:00") and document["next_update"] > document["issued_at"]
    listed = {i["uscc"]: i for i in document["issuers"]}
    hefei = listed[departments[0][1]]
    assert hefei["name"] == "合肥市公安局交通警察支队" and hefei["types"] == ["driving_licence"]
    assert hefei["region"] == "340100" and hefei["status"] == "active"
    (key,) = hefei["keys"]
    assert set(key) == {"kid", "public_key", "certificate", "not_before", "not_after", "status"}
    assert key["status"] == "active" and re.fullmatch(r"[0-9a-f]{16}", key["kid"])
    assert {k["purpose"] for k in document["platform_keys"]} == {"trust-list", "presentation", "disclosure"}
    # the signature headers
    assert answer.headers["YiWang-Signature-Alg"] == "SM2-with-SM3"
    kid = answer.headers["YiWang-Signature-Kid"]
    signer = next(k for k in document["platform_keys"] if k["kid"] == kid)
    assert signer["purpose"] == "trust-list"
    public = SM2PublicKey.from_der(base64.b64decode(signer["public_key"]))
    signature = base64.b64decode(answer.headers["YiWang-Signature"])
    assert public.verify(signature, body)
    assert not public.verify(signature, body.replace(b"340100", b"340200", 1))


def test_etag_304_and_a_new_version_on_change(client, runner, departments):
    first = _get(client)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    again = _get(client)
    assert again.headers["ETag"] == etag and again.get_data() == first.get_data()  # the stored version, not re-signed
    not_modified = _get(client, **{"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == etag and not_modified.headers["Cache-Control"] == "public, max-age=300"
    assert _get(client, **{"If-None-Match": '"0000"'}).status_code == 200
    assert _get(client, **{"If-None-Match": f'"0000", W/{etag}'}).status_code == 304  # weak comparison (RFC 9110)
    # a rotation changes the content: a new version, a new ETag, the old one no longer matches
    assert runner.invoke(args=["issuers", "rotate-key", departments[0][1]]).exit_code == 0
    changed = _get(client, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    before, after = json.loads(first.get_data()), json.loads(changed.get_data())
    assert after["version"] == before["version"] + 1
    keys = next(i for i in after["issuers"] if i["uscc"] == departments[0][1])["keys"]
    assert [k["status"] for k in keys] == ["active", "retired"]  # the old key stays listed


def _save(tmp_path: Path, answer) -> dict[str, Path]:
    files = {"body": tmp_path / "issuers.json", "sig": tmp_path / "issuers.sig", "ca": tmp_path / "ca.pem",
             "signer": tmp_path / "signer.pem", "pub": tmp_path / "signer.pub"}
    files["body"].write_bytes(answer.get_data())
    files["sig"].write_bytes(base64.b64decode(answer.headers["YiWang-Signature"]))
    document = json.loads(answer.get_data())
    files["ca"].write_text(document["ca_certificate"])
    kid = answer.headers["YiWang-Signature-Kid"]
    files["signer"].write_text(next(k for k in document["platform_keys"] if k["kid"] == kid)["certificate"])
    openssl("x509", "-in", str(files["signer"]), "-noout", "-pubkey", "-out", str(files["pub"]))
    return files


def _pkeyutl_verify(files: dict[str, Path], body: Path) -> subprocess.CompletedProcess:
    return openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(files["pub"]), "-rawin", "-digest", "sm3",
                   "-pkeyopt", DISTID, "-in", str(body), "-sigfile", str(files["sig"]), check=False)


def test_openssl_verifies_the_served_bytes_and_refuses_tampering(client, departments, tmp_path):
    files = _save(tmp_path, _get(client))
    assert b"Signature Verified Successfully" in _pkeyutl_verify(files, files["body"]).stdout
    body = files["body"].read_bytes()
    for position in (0, len(body) // 2, len(body) - 1):  # a changed byte anywhere
        tampered = tmp_path / f"tampered-{position}.json"
        tampered.write_bytes(body[:position] + bytes([body[position] ^ 0x01]) + body[position + 1:])
        assert _pkeyutl_verify(files, tampered).returncode != 0
    reformatted = tmp_path / "pretty.json"  # the same JSON written otherwise is not what was signed
    reformatted.write_text(json.dumps(json.loads(body), indent=1, ensure_ascii=False))
    assert _pkeyutl_verify(files, reformatted).returncode != 0


def test_every_key_certificate_chains_to_the_platform_ca(client, departments, tmp_path):
    document = json.loads(_get(client).get_data())
    ca = tmp_path / "ca.pem"
    ca.write_text(client.get("/api/v1/signing/ca.pem").get_data(as_text=True))
    assert ca.read_text() == document["ca_certificate"]
    certificates = [(k["kid"], k["certificate"], i["uscc"], i["name"]) for i in document["issuers"] for k in i["keys"]]
    certificates += [(k["kid"], k["certificate"], None, None) for k in document["platform_keys"]]
    assert len(certificates) >= 5
    for n, (kid, pem, uscc, name) in enumerate(certificates):
        path = tmp_path / f"key{n}.pem"
        path.write_text(pem)
        result = openssl("verify", "-vfyopt", DISTID, "-CAfile", str(ca), str(path))
        assert result.stdout.strip().endswith(b": OK")
        spki = openssl("x509", "-in", str(path), "-noout", "-pubkey").stdout
        (tmp_path / "spki.pem").write_bytes(spki)
        der = openssl("pkey", "-pubin", "-in", str(tmp_path / "spki.pem"), "-outform", "DER").stdout
        assert sm3_hex(der)[:16] == kid  # kid = SM3(SPKI DER)[:16]
        if uscc:
            subject = openssl("x509", "-in", str(path), "-noout", "-subject", "-nameopt", "utf8,sep_multiline").stdout
            assert f"serialNumber={uscc}".encode() in subject and f"O={name}".encode() in subject
        # the same certificate is served by kid for verifiers with the CLI alone
        assert client.get(f"/.well-known/yiwang/keys/{kid}.pem").get_data(as_text=True) == pem
    unknown = client.get("/.well-known/yiwang/keys/0123456789abcdef.pem")
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "key_not_found"
    assert client.get("/.well-known/yiwang/keys/..%2Fetc.pem").status_code == 404


def _documented(client) -> tuple[str, str, str]:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/.well-known/yiwang/issuers"]["get"]
    assert "security" in operation and operation["security"] == []
    description = operation["description"]
    shell = re.search(r"```sh\n(.*?)```", description, re.S).group(1)
    python = re.search(r"```python\n(.*?)```", description, re.S).group(1)
    assert shell == trust.OPENSSL_EXAMPLE and python == trust.PYTHON_EXAMPLE
    assert {"YiWang-Signature", "YiWang-Signature-Kid", "ETag"} <= set(operation["responses"]["200"]["headers"])
    assert "304" in operation["responses"]
    return description, shell, python


def test_the_documented_openssl_commands_verify_a_live_server(client, departments, served, tmp_path):
    _, shell, _ = _documented(client)
    script = shell.replace("BASE=https://yiwang.example", f"BASE={served}")
    assert script != shell
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Signature Verified Successfully" in result.stdout and b"signer.pem: OK" in result.stdout
    # the same commands refuse a tampered copy (the last command of the example, on a changed file)
    body = (tmp_path / "issuers.json").read_bytes()
    (tmp_path / "issuers.json").write_bytes(body.replace(b'"status":"active"', b'"status":"retired"', 1))
    last = shell.strip().split("\n# the signature")[1].split("\n", 1)[1]
    again = subprocess.run(["bash", "-c", last], cwd=tmp_path, capture_output=True, timeout=30)
    assert again.returncode != 0 and b"Signature Verification Failure" in again.stdout + again.stderr


def test_the_documented_python_example_verifies_a_live_server(client, departments, served, tmp_path):
    _, _, python = _documented(client)
    script = python.replace('BASE = "https://yiwang.example"', f'BASE = "{served}"')
    assert script != python
    (tmp_path / "verify_trust_list.py").write_text(script)
    (tmp_path / "ca.pem").write_text(client.get("/api/v1/signing/ca.pem").get_data(as_text=True))
    result = subprocess.run([sys.executable, "verify_trust_list.py"], cwd=tmp_path, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert re.search(rb"trust list \d+ verified: \d+ issuers", result.stdout)
    # its verifier (gmssl) refuses tampered bytes and a signature that is not strict DER
    namespace: dict = {}
    exec(compile(script.split('\nif __name__ == "__main__":')[0], "example", "exec"), namespace)
    answer = _get(client)
    body, signature = answer.get_data(), base64.b64decode(answer.headers["YiWang-Signature"])
    kid = answer.headers["YiWang-Signature-Kid"]
    signer_pem = client.get(f"/.well-known/yiwang/keys/{kid}.pem").get_data(as_text=True)
    ca = namespace["load_cert"]((tmp_path / "ca.pem").read_text())
    point = namespace["checked_signer"](signer_pem, ca, kid)
    verify = namespace["sm2_verify"]
    assert verify(point, signature, body)
    assert not verify(point, signature, body[:-1] + b" ")
    assert not verify(point, signature + b"\x00", body)  # trailing bytes (gmssl alone would ignore them)
    with pytest.raises(AssertionError):  # an issuer's certificate is not a trust-list key
        issuer_key = json.loads(body)["issuers"][0]["keys"][0]
        namespace["checked_signer"](issuer_key["certificate"], ca, issuer_key["kid"])


def test_a_wrong_signer_is_caught_by_the_openssl_commands(client, departments, tmp_path):
    """The documented check of the signer's certificate: an issuer key's certificate chains to the
    CA too, but it is not the trust-list key (OU), and its key does not verify the list."""
    answer = _get(client)
    files = _save(tmp_path, answer)
    document = json.loads(answer.get_data())
    issuer_cert = tmp_path / "issuer.pem"
    issuer_cert.write_text(document["issuers"][0]["keys"][0]["certificate"])
    assert b"OU = trust-list" not in openssl("x509", "-in", str(issuer_cert), "-noout", "-subject").stdout
    openssl("x509", "-in", str(issuer_cert), "-noout", "-pubkey", "-out", str(files["pub"]))
    assert _pkeyutl_verify(files, files["body"]).returncode != 0


def test_revoked_key_listed_with_its_date(client, runner, departments, machine_token):
    admin = bearer(machine_token("issuers:admin"))
    issuer_id, uscc = departments[1]
    (key,) = client.get(f"/api/v1/admin/issuers/{issuer_id}/keys", headers=admin).get_json()["items"]
    out = runner.invoke(args=["issuers", "revoke-key", key["kid"], "--since", "2026-11-01", "--reason", "keyCompromise"])
    assert out.exit_code == 0, out.output
    document = json.loads(_get(client).get_data())
    keys = {k["kid"]: k for k in next(i for i in document["issuers"] if i["uscc"] == uscc)["keys"]}
    revoked = keys[key["kid"]]
    assert revoked["status"] == "revoked" and revoked["revoked_since"] == "2026-11-01T00:00:00+08:00"
    assert revoked["revocation_reason"] == "keyCompromise"
    assert [k["status"] for k in keys.values() if k["kid"] != key["kid"]] == ["active"]  # its replacement


def test_the_envelope_carries_the_same_version_and_signature(client, departments):
    """One file for devices that keep one (the offline counter): the same bytes and signature."""
    answer = _get(client)
    envelope = client.get(URL + "/envelope")
    assert envelope.status_code == 200 and envelope.headers["ETag"] == answer.headers["ETag"]
    document = envelope.get_json()
    assert set(document) == {"payload", "kid", "alg", "signature"} and document["alg"] == "SM2-with-SM3"
    assert base64.b64decode(document["payload"]) == answer.get_data()
    assert document["kid"] == answer.headers["YiWang-Signature-Kid"]
    assert document["signature"] == answer.headers["YiWang-Signature"]
    assert client.get(URL + "/envelope", headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
