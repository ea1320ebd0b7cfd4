"""Key store: signing, life cycle, wrapped storage, KEK rotation, audit."""
from __future__ import annotations

import base64
import os
import secrets
import stat

import pytest
from asn1crypto import keys as asn1_keys

from app.audit import AuditEvent
from app.crypto.errors import KeyNotFound, KeyNotUsable, KeyUnavailable
from app.crypto.keystore import SoftwareKeyStore
from app.crypto.keystore_models import KeyRecord
from app.crypto.sm2 import SM2PrivateKey
from app.db import db
from app.security.keys import load_keystore_keks, parse_keks

MESSAGE = "申请人签名的材料".encode()


def _kek(kid: str) -> tuple[str, bytes]:
    return kid, secrets.token_bytes(16)


def test_generate_sign_verify(ctx):
    store = ctx.extensions["keystore"]
    info = store.generate(purpose="issuer", owner="org_1", label="公章")
    assert (info.status, info.purpose, info.owner, info.label, info.algorithm) == \
        ("active", "issuer", "org_1", "公章", "SM2")
    public = store.public_key(info.key_id)
    assert public.public_bytes_der() == info.public_key_der == info.public_key().public_bytes_der()
    assert public.verify(store.sign(info.key_id, MESSAGE), MESSAGE)
    assert not public.verify(store.sign(info.key_id, MESSAGE), MESSAGE + b"!")
    uid = b"alice@yiwang"
    assert public.verify(store.sign(info.key_id, MESSAGE, uid=uid), MESSAGE, uid=uid)
    assert public.verify(store.sign_digest(info.key_id, public.digest(MESSAGE, uid=uid)), MESSAGE, uid=uid)
    with pytest.raises(ValueError):
        store.sign_digest(info.key_id, b"short")
    assert store.find(purpose="issuer", owner="org_1") == [info]
    assert store.find(purpose="ca", owner="org_1") == []
    with pytest.raises(KeyNotFound):
        store.sign("key_unknown", MESSAGE)
    with pytest.raises(ValueError):
        store.generate(purpose="Bad Purpose", owner="org_1")


def test_rotate_retires_the_old_key(ctx):
    store = ctx.extensions["keystore"]
    old = store.generate(purpose="citizen-sign", owner="u_1")
    old_sig = store.sign(old.key_id, MESSAGE)
    new = store.rotate(old.key_id)
    assert (new.purpose, new.owner, new.status) == ("citizen-sign", "u_1", "active")
    assert new.public_key_der != old.public_key_der
    retired = store.info(old.key_id)
    assert (retired.status, retired.replaced_by) == ("retired", new.key_id) and retired.retired_at
    assert store.public_key(old.key_id).verify(old_sig, MESSAGE)  # verify-only, still answers
    with pytest.raises(KeyNotUsable):
        store.sign(old.key_id, MESSAGE)
    with pytest.raises(KeyNotUsable):
        store.rotate(old.key_id)
    assert store.public_key(new.key_id).verify(store.sign(new.key_id, MESSAGE), MESSAGE)
    assert [k.key_id for k in store.find(purpose="citizen-sign", owner="u_1")] == [new.key_id]
    assert len(store.find(purpose="citizen-sign", owner="u_1", status=None)) == 2


def test_disable_refuses_signing(ctx):
    store = ctx.extensions["keystore"]
    info = store.generate(purpose="issuer", owner="org_2")
    sig = store.sign(info.key_id, MESSAGE)
    disabled = store.disable(info.key_id, "key compromise reported")
    assert (disabled.status, disabled.reason) == ("disabled", "key compromise reported") and disabled.disabled_at
    with pytest.raises(KeyNotUsable):
        store.sign(info.key_id, MESSAGE)
    with pytest.raises(KeyNotUsable):
        store.sign_digest(info.key_id, bytes(32))
    assert store.public_key(info.key_id).verify(sig, MESSAGE)
    assert store.disable(info.key_id, "again").reason == "key compromise reported"  # idempotent


def test_tampered_or_moved_ciphertext_is_refused(ctx):
    store = ctx.extensions["keystore"]
    a = store.generate(purpose="issuer", owner="org_a")
    b = store.generate(purpose="issuer", owner="org_b")
    blob = bytearray(KeyRecord.get_by_id(a.key_id).private_key_enc)
    blob[20] ^= 1
    KeyRecord.update(private_key_enc=bytes(blob)).where(KeyRecord.id == a.key_id).execute()
    with pytest.raises(KeyUnavailable):
        store.sign(a.key_id, MESSAGE)
    # b's valid blob copied onto another row (same KEK) does not unwrap there
    c = store.generate(purpose="issuer", owner="org_b")
    KeyRecord.update(private_key_enc=KeyRecord.get_by_id(b.key_id).private_key_enc).where(
        KeyRecord.id == c.key_id).execute()
    with pytest.raises(KeyUnavailable):
        store.sign(c.key_id, MESSAGE)
    # nor when the row's owner (or purpose) is edited
    KeyRecord.update(owner="org_x").where(KeyRecord.id == b.key_id).execute()
    with pytest.raises(KeyUnavailable):
        store.sign(b.key_id, MESSAGE)
    KeyRecord.update(owner="org_b", purpose="ca").where(KeyRecord.id == b.key_id).execute()
    with pytest.raises(KeyUnavailable):
        store.sign(b.key_id, MESSAGE)
    KeyRecord.update(purpose="issuer").where(KeyRecord.id == b.key_id).execute()
    assert store.public_key(b.key_id).verify(store.sign(b.key_id, MESSAGE), MESSAGE)  # restored row works


def test_kek_rotation_and_rewrap(ctx):
    k1, k2 = _kek("k1"), _kek("k2")
    first = SoftwareKeyStore([k1])
    old_keys = [first.generate(purpose="issuer", owner=f"org_{i}").key_id for i in range(3)]
    second = SoftwareKeyStore([k1, k2])  # k2 added: newest wraps, both unwrap
    new_key = second.generate(purpose="issuer", owner="org_new").key_id
    assert KeyRecord.get_by_id(new_key).kek_id == "k2"
    for key_id in old_keys + [new_key]:
        assert second.public_key(key_id).verify(second.sign(key_id, MESSAGE), MESSAGE)
    assert second.kek_usage() == {"k1": 3, "k2": 1}
    assert second.rewrap() == 3
    assert second.rewrap() == 0
    assert second.kek_usage() == {"k2": 4}
    third = SoftwareKeyStore([k2])  # old KEK removed from the configuration
    for key_id in old_keys + [new_key]:
        assert third.public_key(key_id).verify(third.sign(key_id, MESSAGE), MESSAGE)
    with pytest.raises(KeyUnavailable):
        first.sign(new_key, MESSAGE)  # k1 alone no longer opens anything


def test_rewrap_reports_keys_under_an_unknown_kek(ctx):
    k1, k2, k3 = _kek("k1"), _kek("k2"), _kek("k3")
    lost = SoftwareKeyStore([k1]).generate(purpose="issuer", owner="org_lost").key_id
    kept = SoftwareKeyStore([k2]).generate(purpose="issuer", owner="org_kept").key_id
    store = SoftwareKeyStore([k2, k3])
    with pytest.raises(KeyUnavailable):
        store.rewrap()
    assert KeyRecord.get_by_id(kept).kek_id == "k3" and KeyRecord.get_by_id(lost).kek_id == "k1"


def test_import_private_key_is_idempotent(ctx):
    store = ctx.extensions["keystore"]
    key = SM2PrivateKey.generate()
    first = store.import_private_key(key, purpose="ca", owner="platform", label="root")
    again = store.import_private_key(SM2PrivateKey.from_der(key.private_bytes_der()), purpose="ca", owner="platform")
    assert again.key_id == first.key_id and first.public_key_der == key.public_key().public_bytes_der()
    assert key.public_key().verify(store.sign(first.key_id, MESSAGE), MESSAGE)
    assert KeyRecord.select().count() == 1


def _dump_database() -> bytes:
    """Every column of every row of every table, as bytes."""
    chunks = []
    for table in db.get_tables():
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            for value in row:
                if isinstance(value, (bytes, bytearray, memoryview)):
                    chunks.append(bytes(value))
                else:
                    chunks.append(str(value).encode())
    return b"\x00".join(chunks)


def _forms(secret: bytes) -> list[bytes]:
    return [secret, secret.hex().encode(), secret.hex().upper().encode(), base64.b64encode(secret),
            base64.urlsafe_b64encode(secret).rstrip(b"=")]


def test_database_holds_no_private_key_in_clear(ctx, logs_without_personal_data):
    store = ctx.extensions["keystore"]
    imported = SM2PrivateKey.generate()
    store.import_private_key(imported, purpose="issuer", owner="org_imp")
    generated = [store.generate(purpose="citizen-sign", owner=f"u_{i}").key_id for i in range(3)]
    generated.append(store.rotate(generated[0]).key_id)
    ca = ctx.extensions["ca"]
    ca.issue_certificate(SM2PrivateKey.generate().public_key(), {"CN": "u_1"}, days=30, key_usage={"digitalSignature"})
    ca.current_crl()
    # test-only peek behind the interface: the clear PKCS#8 of every stored key, to search for
    pkcs8 = [imported.private_bytes_der()] + [store._unwrap(row) for row in KeyRecord.select()]
    assert len(pkcs8) == 1 + KeyRecord.select().count() and KeyRecord.select().count() >= 6  # CA key included
    dump = _dump_database()
    logs = "\n".join(logs_without_personal_data.lines).encode()
    for der in pkcs8:
        d = asn1_keys.PrivateKeyInfo.load(der)["private_key"].parsed["private_key"].native.to_bytes(32, "big")
        pem_body = base64.b64encode(der)[:64]  # a PEM line
        for needle in _forms(der) + _forms(d) + [pem_body]:
            assert needle not in dump, "private key material stored in clear"
            assert needle not in logs, "private key material logged"
    for _, kek in load_keystore_keks(ctx.config):
        for needle in _forms(kek):
            assert needle not in dump


def test_audit_rows(ctx):
    store = ctx.extensions["keystore"]
    info = store.generate(purpose="issuer", owner="org_audit")
    new = store.rotate(info.key_id, actor=("admin", "s_1"))
    store.disable(new.key_id, "test")
    imported = store.import_private_key(SM2PrivateKey.generate(), purpose="issuer", owner="org_audit")
    store.rewrap()
    rows = {(e.action, e.target): e for e in AuditEvent.select()}
    assert ("key.generate", info.key_id) in rows
    rotated = rows[("key.rotate", info.key_id)]
    assert rotated.actor_id == "s_1" and new.key_id in rotated.details
    assert ("key.disable", new.key_id) in rows and ("key.import", imported.key_id) in rows
    assert ("key.rewrap", None) in rows
    assert all(e.outcome == "success" for e in rows.values())


def test_development_kek_file(ctx, tmp_path):
    keks = load_keystore_keks({"VAR_DIR": str(tmp_path)})
    path = tmp_path / "keys" / "kek-1.key"
    assert [kid for kid, _ in keks] == ["kek-1"] and len(keks[0][1]) == 16
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_keystore_keks({"VAR_DIR": str(tmp_path)}) == keks  # reused, not regenerated
    (tmp_path / "keys" / "kek-2.key").write_bytes(base64.b64encode(secrets.token_bytes(16)))
    assert [kid for kid, _ in load_keystore_keks({"VAR_DIR": str(tmp_path)})] == ["kek-1", "kek-2"]


@pytest.mark.parametrize("text", ["k1", "k1:" + base64.b64encode(b"x" * 15).decode(), "k1:!!!",
                                  "k 1:" + base64.b64encode(b"x" * 16).decode(),
                                  "k1:{0},k1:{0}".format(base64.b64encode(b"x" * 16).decode())])
def test_malformed_keks_are_refused(text):
    with pytest.raises(ValueError):
        parse_keks(text)


def test_keks_setting_order():
    k1, k2 = (base64.b64encode(secrets.token_bytes(16)).decode() for _ in range(2))
    assert [kid for kid, _ in parse_keks(f"a:{k1}, b:{k2}")] == ["a", "b"]
