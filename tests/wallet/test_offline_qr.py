"""The offline-verifiable QR (issue 17): issued for a matter, SM2-signed by the platform's
"presentation" key, checked with a cached trust list and no network.

The independent checks read the format from its documentation alone (wallet/offline/format.py):
base45 decoded here with its own code, the signed bytes and the raw r‖s split here, the signature
turned into DER here and verified by the OpenSSL CLI; the PNG read back by zbar."""
from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import qrcode

from app.db import db
from app.audit import AuditEvent
from app.crypto import platform_keys
from tests import vectors
from tests.helpers import bearer, rows
from tests.wallet.conftest import ISSUE, issue
from wallet.offline import TrustList, verify
from wallet.offline.format import b45encode

OPENSSL = shutil.which("openssl")
ZBARIMG = shutil.which("zbarimg")


def offline_url(licence_id: str) -> str:
    return f"/api/v1/wallet/licences/{licence_id}/offline-presentations"


def make_offline(client, holder, licence_id: str, matter: str = "vehicle_check", status: int = 201, **headers) -> dict:
    response = client.post(offline_url(licence_id), json={"matter": matter}, headers={**holder, **headers})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def served(client) -> tuple[bytes, bytes, str]:
    """GET /.well-known/yiwang/issuers: (the body, the DER signature, its kid) as a verifier saves them."""
    response = client.get("/.well-known/yiwang/issuers")
    assert response.status_code == 200
    return response.data, base64.b64decode(response.headers["YiWang-Signature"]), response.headers["YiWang-Signature-Kid"]


def trust_payload(client, *, kid: str | None = None, status: str | None = None,
                  revoked_since: str | None = None) -> dict:
    """The published trust list's content; the issuer key `kid` given another status (a verifier's
    copy after a revocation)."""
    doc = json.loads(served(client)[0])
    for issuer in doc["issuers"]:
        for key in issuer["keys"]:
            if key["kid"] == kid:
                key["status"] = status
                key.pop("revoked_since", None)
                if revoked_since:
                    key["revoked_since"] = revoked_since
    return doc


# --- an independent reading of the documented format ---------------------------------------------

_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def b45decode_independent(text: str) -> bytes:
    """RFC 9285 section 4.2, written from the RFC: c + d·45 + e·45² → two bytes; a final pair → one."""
    out = bytearray()
    for i in range(0, len(text), 3):
        vals = [_B45.index(ch) for ch in text[i:i + 3]]
        n = sum(v * 45 ** k for k, v in enumerate(vals))
        out += n.to_bytes(2 if len(vals) == 3 else 1, "big")
    return bytes(out)


def der_of_raw(sig: bytes) -> bytes:
    """SEQUENCE { INTEGER r, INTEGER s } from r‖s (X.690, short lengths: < 128 bytes)."""
    def integer(v: bytes) -> bytes:
        v = v.lstrip(b"\0") or b"\0"
        if v[0] & 0x80:
            v = b"\0" + v
        return bytes([0x02, len(v)]) + v
    body = integer(sig[:32]) + integer(sig[32:])
    return bytes([0x30, len(body)]) + body


def documented_fields(raw: bytes) -> dict:
    """Reads the layout table of wallet/offline/format.py."""
    body = raw[:-64]
    version, kid, issued, lifetime, nonce, issuer_kid, signed_at = struct.unpack(">B8sIH8s8sI", body[:35])
    pos, texts = 35, []
    for _ in range(6):
        n = body[pos]
        texts.append(body[pos + 1:pos + 1 + n].decode())
        pos += 1 + n
    count, pos, fields = body[pos], pos + 1, {}
    for _ in range(count):
        n = body[pos]
        key = body[pos + 1:pos + 1 + n].decode()
        pos += 1 + n
        how = ("full", "masked", "tail4")[body[pos]]
        n = body[pos + 1]
        fields[key] = (how, body[pos + 2:pos + 2 + n].decode())
        pos += 2 + n
    assert pos == len(body)
    return {"version": version, "kid": kid.hex(), "issued_at": issued, "lifetime": lifetime, "nonce": nonce,
            "issuer_kid": issuer_kid.hex(), "signed_at": signed_at, "identifier": texts[0], "uscc": texts[1],
            "type_code": texts[2], "matter": texts[3], "name_masked": texts[4], "id_tail4": texts[5], "fields": fields}


@pytest.fixture
def offline(client, holder, licence):
    return make_offline(client, holder, licence["id"])


def test_vehicle_check_code_carries_exactly_the_matters_fields_and_verifies(client, holder, licence, offline):
    assert offline["qr_text"].startswith("YWO1:")
    assert offline["fields"] == ["name", "vehicle_class", "valid_until", "status"]
    payload = trust_payload(client)
    result = verify(offline["qr_text"], payload, now=documented_fields(
        b45decode_independent(offline["qr_text"][5:]))["issued_at"] + 1, seen=set())
    assert result.status == "verified", result
    p = result.payload
    assert p.identifier == licence["identifier"] and p.licence_version == 1 and p.matter == "vehicle_check"
    assert {k: (how, v) for k, how, v in p.fields} == {
        "name": ("masked", "张*"), "vehicle_class": ("full", "C1"), "valid_until": ("full", "2030-05-01"),
        "status": ("full", "有效")}
    assert (p.holder_name_masked, p.holder_id_tail4) == ("张*", vectors.ZHANG_SAN[1][-4:])
    assert vectors.ZHANG_SAN[1].encode() not in b45decode_independent(offline["qr_text"][5:])  # never the ID number
    assert p.expires_at - p.issued_at <= 300
    assert offline["expires_at"].endswith("+08:00")
    assert datetime.fromisoformat(offline["expires_at"]).timestamp() == p.expires_at
    assert offline["size"]["qr_version"] <= 15
    assert client.post(offline_url(licence["id"]), json={"matter": "vehicle_check"},
                       headers=holder).headers["Cache-Control"] == "no-store"


def test_usage_history_records_issued_for_matter_with_field_names(app, client, holder, licence, offline):
    usage = client.get("/api/v1/wallet/usage", headers=holder).get_json()["items"]
    [item] = [u for u in usage if u["presentation_id"] == offline["id"]]
    assert item["result"] == "offline_issued" and item["matter"]["code"] == "vehicle_check"
    assert item["fields"] == ["name", "vehicle_class", "valid_until", "status"]
    assert item["hall"] is None and item["clerk"] is None
    assert "C1" not in json.dumps(item, ensure_ascii=False)  # names, never values
    [audit] = rows(app, AuditEvent, AuditEvent.action == "wallet.offline_presentation_issued")
    assert audit.target == offline["id"]


@pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")
def test_openssl_verifies_the_signature_from_the_documented_format(app, client, offline, tmp_path: Path):
    raw = b45decode_independent(offline["qr_text"].removeprefix("YWO1:"))
    doc = documented_fields(raw)
    assert doc["version"] == 1 and doc["matter"] == "vehicle_check"
    [key] = [k for k in trust_payload(client)["platform_keys"] if k["kid"] == doc["kid"]]
    assert key["purpose"] == "presentation"
    spki = base64.b64decode(key["public_key"])
    (tmp_path / "pub.pem").write_text("-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(spki).decode()
                                      + "-----END PUBLIC KEY-----\n")
    (tmp_path / "signed.bin").write_bytes(raw[:-64])
    (tmp_path / "sig.der").write_bytes(der_of_raw(raw[-64:]))

    def openssl_verify(signed: Path) -> subprocess.CompletedProcess:
        return subprocess.run([OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "pub.pem", "-rawin",
                               "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", signed,
                               "-sigfile", tmp_path / "sig.der"], capture_output=True, timeout=30, check=False)

    ok = openssl_verify(tmp_path / "signed.bin")
    assert ok.returncode == 0 and b"Verified Successfully" in ok.stdout, ok.stderr
    (tmp_path / "other.bin").write_bytes(raw[:-65] + bytes([raw[-65] ^ 1]))
    assert openssl_verify(tmp_path / "other.bin").returncode != 0
    # the key's certificate chains to the platform CA (openssl verify with the SM2 distid)
    (tmp_path / "cert.pem").write_text(key["certificate"])
    with app.app_context():
        from app.crypto.ca import platform_ca  # noqa: PLC0415
        (tmp_path / "ca.pem").write_text(platform_ca().certificate_pem())
    chain = subprocess.run([OPENSSL, "verify", "-vfyopt", "distid:1234567812345678", "-CAfile", tmp_path / "ca.pem",
                            tmp_path / "cert.pem"], capture_output=True, timeout=30, check=False)
    assert chain.returncode == 0, chain.stderr


@pytest.mark.skipif(ZBARIMG is None, reason="zbarimg not installed")
def test_zbar_reads_the_png_back_to_the_same_text(offline, tmp_path: Path):
    png = tmp_path / "qr.png"
    png.write_bytes(base64.b64decode(offline["qr_png"]))
    read = subprocess.run([ZBARIMG, "--raw", "-q", png], capture_output=True, timeout=30, check=False)
    assert read.returncode == 0, read.stderr
    assert read.stdout.decode().rstrip("\n") == offline["qr_text"]


def _now_of(offline) -> int:
    return documented_fields(b45decode_independent(offline["qr_text"][5:]))["issued_at"] + 1


def test_every_byte_mutated_is_refused(app, client, offline):
    trust = TrustList.from_dict(trust_payload(client))
    now = _now_of(offline)
    raw = b45decode_independent(offline["qr_text"][5:])
    assert verify(offline["qr_text"], trust, now=now, seen=set()).ok
    for pos in range(len(raw)):
        for flip in (0x01, 0x80):
            mutated = raw[:pos] + bytes([raw[pos] ^ flip]) + raw[pos + 1:]
            result = verify("YWO1:" + b45encode(mutated), trust, now=now, seen=set())
            assert result.status == "refused", (pos, flip, result)
    for cut in (1, 2, 64, len(raw) - 1):  # truncated, and bytes appended
        assert verify("YWO1:" + b45encode(raw[:-cut]), trust, now=now, seen=set()).status == "refused"
    assert verify("YWO1:" + b45encode(raw + b"\0"), trust, now=now, seen=set()).status == "refused"
    text = offline["qr_text"]
    for pos in range(len(text)):  # every character of the text, changed to its neighbour in the alphabet
        alphabet = _B45 if pos >= 5 else "YWO1:"
        other = alphabet[(alphabet.index(text[pos]) + 1) % len(alphabet)] if text[pos] in alphabet else "A"
        assert verify(text[:pos] + other + text[pos + 1:], trust, now=now, seen=set()).status == "refused", pos


def test_expired_and_not_yet_valid_refused(app, client, offline):
    trust = TrustList.from_dict(trust_payload(client))
    doc = documented_fields(b45decode_independent(offline["qr_text"][5:]))
    end = doc["issued_at"] + doc["lifetime"]
    assert verify(offline["qr_text"], trust, now=end, seen=set()).ok
    assert verify(offline["qr_text"], trust, now=end + 1, seen=set()).reason == "expired"
    assert verify(offline["qr_text"], trust, now=doc["issued_at"] - 61, seen=set()).reason == "not_yet_valid"


def test_unknown_kid_and_wrong_purpose_refused(app, client, offline):
    payload = trust_payload(client)
    now = _now_of(offline)
    without = dict(payload, platform_keys=[k for k in payload["platform_keys"] if k["purpose"] != "presentation"])
    assert verify(offline["qr_text"], without, now=now, seen=set()).reason == "unknown_key"
    # the same kid listed for another purpose (a trust-list key) is not a presentation key
    relabelled = dict(payload, platform_keys=[dict(k, purpose="trust-list") for k in payload["platform_keys"]])
    assert verify(offline["qr_text"], relabelled, now=now, seen=set()).reason == "unknown_key"
    # the kid listed with another public key: the signature does not verify
    kid = documented_fields(b45decode_independent(offline["qr_text"][5:]))["kid"]
    [pres] = [k for k in payload["platform_keys"] if k["kid"] == kid]
    other = next(k for k in payload["platform_keys"] if k["purpose"] == "trust-list")
    swapped = dict(payload, platform_keys=[dict(pres, public_key=other["public_key"])])
    assert verify(offline["qr_text"], swapped, now=now, seen=set()).reason == "signature_invalid"
    assert verify(offline["qr_text"], dict(payload, issuers=[]), now=now, seen=set()).reason == "issuer_unknown"


def test_a_rotated_presentation_key_still_verifies_until_its_certificate_ends(app, client, holder, licence, offline):
    with app.app_context(), db.connection_context():
        platform_keys.rotate("presentation")
    newer = make_offline(client, holder, licence["id"])
    payload = trust_payload(client)
    for code in (offline, newer):
        assert verify(code["qr_text"], payload, now=_now_of(code), seen=set()).ok
    assert documented_fields(b45decode_independent(offline["qr_text"][5:]))["kid"] != \
        documented_fields(b45decode_independent(newer["qr_text"][5:]))["kid"]


def test_replay_within_lifetime_is_seen_before_on_this_device(app, client, offline):
    trust = TrustList.from_dict(trust_payload(client))
    now = _now_of(offline)
    seen: set[str] = set()
    assert verify(offline["qr_text"], trust, now=now, seen=seen).status == "verified"
    again = verify(offline["qr_text"], trust, now=now + 30, seen=seen)
    assert again.status == "seen_before" and not again.ok
    assert verify(offline["qr_text"], trust, now=now, seen=set()).status == "verified"  # another device


def test_revoked_issuer_key_flagged(app, client, offline):
    now = _now_of(offline)
    signed_at = documented_fields(b45decode_independent(offline["qr_text"][5:]))["signed_at"]
    from datetime import timedelta, timezone  # noqa: PLC0415

    def at(seconds: int) -> str:
        return (datetime.fromtimestamp(seconds, timezone.utc) + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%S+08:00")

    issuer_kid = documented_fields(b45decode_independent(offline["qr_text"][5:]))["issuer_kid"]
    assert issuer_kid in {k["kid"] for i in trust_payload(client)["issuers"] for k in i["keys"]}
    before = trust_payload(client, kid=issuer_kid, status="revoked", revoked_since=at(signed_at - 3600))
    assert verify(offline["qr_text"], before, now=now, seen=set()).reason == "issuer_key_revoked"
    undated = trust_payload(client, kid=issuer_kid, status="revoked")
    assert verify(offline["qr_text"], undated, now=now, seen=set()).reason == "issuer_key_revoked"
    after = verify(offline["qr_text"], trust_payload(client, kid=issuer_kid, status="revoked",
                                                     revoked_since=at(signed_at + 3600)), now=now, seen=set())
    assert after.status == "verified" and after.flags == ("issuer_key_revoked_later",)


def test_size_stays_within_qr_version_15_at_level_m(app, client, holder, licence):
    answer = make_offline(client, holder, licence["id"])
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(answer["qr_text"])
    code.make(fit=True)
    assert code.version <= 15 and code.version == answer["size"]["qr_version"]
    assert code.data_list[0].mode == qrcode.util.MODE_ALPHA_NUM  # the whole text in alphanumeric mode
    assert answer["size"]["bytes"] == len(b45decode_independent(answer["qr_text"][5:]))


def test_matter_type_and_licence_state_refused(app, client, holder, issuer, licence):
    wrong = make_offline(client, holder, licence["id"], matter="hotel_check_in", status=422)
    assert wrong["code"] == "matter_not_applicable" and wrong["accepted_types"] == ["resident_id_card"]
    assert make_offline(client, holder, licence["id"], matter="no_such", status=422)["code"] == "matter_unknown"
    assert make_offline(client, holder, "lic_missing", status=404)["code"] == "licence_not_found"
    suspended = client.post(f"{ISSUE}/{licence['id']}/revoke", json={"status_code": "02", "reason": "暂扣"},
                            headers=issuer)
    assert suspended.status_code == 200
    assert make_offline(client, holder, licence["id"], status=422)["code"] == "licence_not_valid"


def test_order_of_checks_and_english(app, client, login_citizen, holder, licence):
    assert client.post(offline_url(licence["id"]), json={}).status_code == 401
    l1 = bearer(login_citizen(vectors.PHONES[1])["access_token"])
    refused = client.post(offline_url(licence["id"]), json={}, headers=l1)
    assert refused.status_code == 403 and refused.get_json()["code"] == "assurance_level_insufficient"
    assert client.post(offline_url(licence["id"]), json={}, headers=holder).status_code == 422
    en = make_offline(client, holder, licence["id"], matter="hotel_check_in", status=422, **{"Accept-Language": "en"})
    assert en["detail"].isascii()


def test_rate_limited_per_citizen(app, client, holder, licence):
    app.config["OFFLINE_PRESENTATION_PER_MINUTE"] = 2
    make_offline(client, holder, licence["id"])
    make_offline(client, holder, licence["id"])
    assert make_offline(client, holder, licence["id"], status=429)["code"] == "rate_limited"


def test_cli_verifies_with_the_served_trust_list_saved_to_files(app, client, runner, offline, tmp_path: Path):
    body, signature, kid = served(client)
    (tmp_path / "issuers.json").write_bytes(body)
    (tmp_path / "issuers.sig").write_bytes(signature)
    with app.app_context():
        from app.crypto.ca import platform_ca  # noqa: PLC0415
        (tmp_path / "ca.pem").write_text(platform_ca().certificate_pem())
    seen = tmp_path / "seen.json"
    now = str(_now_of(offline))
    base = ["wallet", "verify-offline", "--trust-list", str(tmp_path / "issuers.json"),
            "--signature", str(tmp_path / "issuers.sig"), "--now", now]
    args = [*base, offline["qr_text"], "--kid", kid, "--seen", str(seen), "--ca", str(tmp_path / "ca.pem")]
    out = runner.invoke(args=args)
    assert out.exit_code == 0, out.output
    answer = json.loads(out.output)
    assert answer["status"] == "verified" and answer["fields"]["vehicle_class"] == "C1"
    assert answer["holder"] == {"name_masked": "张*", "id_number_last4": vectors.ZHANG_SAN[1][-4:]}
    assert runner.invoke(args=args).exit_code == 2  # seen before on this device
    text = offline["qr_text"]
    tampered = text[:-3] + ("0" if text[-3] != "0" else "1") + text[-2:]
    assert runner.invoke(args=[*base, tampered]).exit_code == 1
    # a trust list changed after signing is refused before any code is looked at
    (tmp_path / "issuers.json").write_bytes(body.replace(b'"status":"active"', b'"status":"ACTIVE"', 1))
    refused = runner.invoke(args=[*base, text])
    assert refused.exit_code != 0 and "signature" in refused.output
    # another CA pinned: the list's signer is not certified by it
    (tmp_path / "issuers.json").write_bytes(body)
    other = tmp_path / "other-ca.pem"
    from app.crypto.sm2 import SM2PrivateKey  # noqa: PLC0415
    assert subprocess.run([OPENSSL, "req", "-x509", "-new", "-key", "/dev/stdin", "-subj", "/CN=Other CA",
                           "-days", "1", "-out", other], input=SM2PrivateKey.generate().private_bytes_pem(),
                          capture_output=True, timeout=30).returncode == 0
    pinned = runner.invoke(args=[*base, text, "--ca", str(other)])
    assert pinned.exit_code != 0 and "CA" in pinned.output
    assert runner.invoke(args=["wallet", "verify-offline", text, "--trust-list",
                               str(tmp_path / "issuers.json")]).exit_code != 0  # no signature given


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_the_counter_pages_verifier_agrees(app, client, offline, tmp_path: Path):
    """wallet/static/counter/offline.js (the counter page's offline mode) run by node on the same code
    and the served trust list: verified, then seen before; a changed byte refused; the list's own
    signature checked in JavaScript."""
    body, signature, kid = served(client)
    module = tmp_path / "offline.mjs"
    module.write_text((Path(app.root_path).parent / "wallet/static/counter/offline.js").read_text())
    raw = b45decode_independent(offline["qr_text"][5:])
    changed = "YWO1:" + b45encode(raw[:40] + bytes([raw[40] ^ 1]) + raw[41:])
    script = tmp_path / "run.mjs"
    script.write_text(f"""
import {{ openTrustList, verifyOffline }} from "{module}";
const trust = openTrustList({json.dumps(base64.b64encode(body).decode())}, {json.dumps(base64.b64encode(signature).decode())}, {json.dumps(kid)});
const seen = new Set();
const now = {_now_of(offline)};
const out = [verifyOffline({json.dumps(offline["qr_text"])}, trust, now, seen),
             verifyOffline({json.dumps(offline["qr_text"])}, trust, now, seen),
             verifyOffline({json.dumps(changed)}, trust, now, new Set()),
             verifyOffline({json.dumps(offline["qr_text"])}, trust, now + 1000, new Set())];
let tampered = "verified";
try {{ openTrustList({json.dumps(base64.b64encode(body.replace(b"active", b"ACTIVE", 1)).decode())}, {json.dumps(base64.b64encode(signature).decode())}, {json.dumps(kid)}); }}
catch (e) {{ tampered = "refused"; }}
console.log(JSON.stringify({{ results: out.map((r) => [r.status, r.reason, r.payload && r.payload.fields]), tampered }}));
""")
    run = subprocess.run(["node", str(script)], capture_output=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    statuses = [r[:2] for r in answer["results"]]
    assert statuses == [["verified", None], ["seen_before", None], ["refused", "signature_invalid"],
                        ["refused", "expired"]]
    assert {f["key"]: f["value"] for f in answer["results"][0][2]}["vehicle_class"] == "C1"
    assert answer["tampered"] == "refused"


def test_a_revoked_issuer_key_refuses_new_codes_and_the_served_list_refuses_old_ones(client, runner, holder,
                                                                                     licence, offline):
    """The department's key revoked from a day before the licence was signed (`flask issuers revoke-key`):
    no new offline code (422 licence_key_revoked), and the code made before, checked with the list
    served after the revocation, is refused."""
    doc = documented_fields(b45decode_independent(offline["qr_text"][5:]))
    out = runner.invoke(args=["issuers", "revoke-key", doc["issuer_kid"], "--since", "2020-01-01",
                              "--reason", "keyCompromise"])
    assert out.exit_code == 0, out.output
    assert make_offline(client, holder, licence["id"], status=422)["code"] == "licence_key_revoked"
    body, signature, kid = served(client)
    from wallet.offline.verify import open_trust_list  # noqa: PLC0415
    trust = open_trust_list(body, signature=signature, kid=kid)
    assert verify(offline["qr_text"], trust, now=_now_of(offline), seen=set()).reason == "issuer_key_revoked"
