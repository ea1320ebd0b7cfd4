"""The PKCS#11 key store (KEYSTORE_BACKEND=pkcs11) against SoftHSM2: keys wrapped inside the module,
the wrapping key's protection read back from the module itself, rotation, a second process, the
signing flow checked by OpenSSL, and `flask doctor`."""
from __future__ import annotations

import base64
import os
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest

from app.audit import AuditEvent
from app.crypto.errors import KeyUnavailable
from app.crypto.keystore import WrappedKeyStore
from app.crypto.keystore_models import KeyRecord
from app.crypto.keystore_pkcs11 import Pkcs11Settings, Pkcs11Wrapper
from app.doctor import _keystore, run_checks
from tests.crypto.conftest import DISTID, openssl
from tests.fixtures.softhsm import pkcs11_settings, softhsm  # noqa: F401  (fixtures)
from tests.signing.conftest import DOCUMENT, authorize, citizen, new_request, signer  # noqa: F401

MESSAGE = "加盖在电子证照上的签名".encode()


@pytest.fixture
def app(make_app, pkcs11_settings, crypto_environ):  # noqa: F811  every app of this module: pkcs11
    return make_app(**pkcs11_settings)


def _module_key(settings: dict, label: str):
    """The wrapping key as python-pkcs11 sees it, without the application's wrapper."""
    import pkcs11
    token = pkcs11.lib(settings["PKCS11_MODULE"]).get_token(token_label=settings["PKCS11_TOKEN_LABEL"])
    session = token.open(rw=True)  # this process is logged in already (PKCS#11 login is per application)
    found = list(session.get_objects({pkcs11.Attribute.LABEL: label}))
    return token, found


def in_child(work: Callable[[], Any]) -> Any:
    """Run `work` in a forked process (a second PKCS#11 application) and return its result."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            data = pickle.dumps(("ok", work()))
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            data = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
        with os.fdopen(write, "wb") as fh:
            fh.write(data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    status, value = pickle.loads(data)
    assert status == "ok", value
    return value


def test_generate_sign_verify_through_the_module(app, pkcs11_settings):
    prefix = pkcs11_settings["PKCS11_KEY_LABEL"]
    with app.app_context():
        store = app.extensions["keystore"]
        assert isinstance(store, WrappedKeyStore) and isinstance(store.wrapper, Pkcs11Wrapper)
        info = store.generate(purpose="issuer", owner="org_1", label="公章")
        public = store.public_key(info.key_id)
        assert public.verify(store.sign(info.key_id, MESSAGE), MESSAGE)
        assert not public.verify(store.sign(info.key_id, MESSAGE), MESSAGE + b"!")
        assert public.verify(store.sign_digest(info.key_id, public.digest(MESSAGE)), MESSAGE)
        row = KeyRecord.get_by_id(info.key_id)
        blob = bytes(row.private_key_enc)
        assert row.kek_id == f"{prefix}1" and blob[0] == 2 and len(blob) > 1 + 12 + 16
        # No cached copy of the wrapping key anywhere in the process: only the module has it.
        assert not any(isinstance(v, bytes) and len(v) == 32 for v in vars(store.wrapper).values())


def test_blob_is_bound_to_its_row(app):
    with app.app_context():
        store = app.extensions["keystore"]
        a = store.generate(purpose="citizen-sign", owner="u_a").key_id
        b = store.generate(purpose="citizen-sign", owner="u_b").key_id
        KeyRecord.update(owner="u_mallory").where(KeyRecord.id == a).execute()
        with pytest.raises(KeyUnavailable):
            store.sign(a, MESSAGE)
        KeyRecord.update(owner="u_a").where(KeyRecord.id == a).execute()
        assert store.public_key(a).verify(store.sign(a, MESSAGE), MESSAGE)  # restored row works again
        original = bytes(KeyRecord.get_by_id(b).private_key_enc)
        KeyRecord.update(private_key_enc=bytes(KeyRecord.get_by_id(a).private_key_enc)).where(
            KeyRecord.id == b).execute()
        with pytest.raises(KeyUnavailable):  # a blob moved onto another row
            store.sign(b, MESSAGE)
        tampered = bytearray(original)
        tampered[-1] ^= 1
        KeyRecord.update(private_key_enc=bytes(tampered)).where(KeyRecord.id == b).execute()
        with pytest.raises(KeyUnavailable):
            store.sign(b, MESSAGE)
        KeyRecord.update(private_key_enc=original).where(KeyRecord.id == b).execute()
        assert store.public_key(b).verify(store.sign(b, MESSAGE), MESSAGE)


def test_wrapping_key_stays_in_the_module(app, pkcs11_settings):
    import pkcs11
    from pkcs11 import Attribute
    from pkcs11.exceptions import AttributeSensitive

    with app.app_context():
        app.extensions["keystore"].generate(purpose="issuer", owner="org_1")
    token, found = _module_key(pkcs11_settings, f"{pkcs11_settings['PKCS11_KEY_LABEL']}1")
    assert len(found) == 1
    key = found[0]
    assert key[Attribute.CLASS] == pkcs11.ObjectClass.SECRET_KEY and key[Attribute.TOKEN]
    assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
    assert key[Attribute.ALWAYS_SENSITIVE] and key[Attribute.NEVER_EXTRACTABLE]
    with pytest.raises(AttributeSensitive):
        key[Attribute.VALUE]
    # Why the default is AES-GCM: SoftHSM2 offers no SM4 mechanism at all.
    assert not [m for m in token.slot.get_mechanisms() if "SM4" in getattr(m, "name", str(m))]


def test_rotation_then_rewrap_then_retire(app, pkcs11_settings):
    prefix = pkcs11_settings["PKCS11_KEY_LABEL"]
    runner = app.test_cli_runner()
    with app.app_context():
        store = app.extensions["keystore"]
        old = [store.generate(purpose="issuer", owner=f"org_{i}").key_id for i in range(3)]
        rotated = runner.invoke(args=["keys", "rotate-wrapping-key"])
        assert rotated.exit_code == 0 and f"{prefix}2" in rotated.output, rotated.output
        new = store.generate(purpose="issuer", owner="org_new").key_id
        assert KeyRecord.get_by_id(new).kek_id == f"{prefix}2"
        for key_id in old + [new]:  # both wrapping keys unwrap meanwhile
            assert store.public_key(key_id).verify(store.sign(key_id, MESSAGE), MESSAGE)
        refused = runner.invoke(args=["keys", "retire-wrapping-key", f"{prefix}1"])
        assert refused.exit_code != 0 and "still wraps 3 key(s)" in refused.output
        current = runner.invoke(args=["keys", "retire-wrapping-key", f"{prefix}2"])
        assert current.exit_code != 0 and "current" in current.output
        rewrap = runner.invoke(args=["keys", "rewrap"])
        assert rewrap.exit_code == 0 and "rewrapped 3 key(s)" in rewrap.output and f"{prefix}2: 4" in rewrap.output
        retired = runner.invoke(args=["keys", "retire-wrapping-key", f"{prefix}1"])
        assert retired.exit_code == 0, retired.output
        assert _module_key(pkcs11_settings, f"{prefix}1")[1] == []  # gone from the module
        for key_id in old + [new]:
            assert store.public_key(key_id).verify(store.sign(key_id, MESSAGE), MESSAGE)
        unknown = runner.invoke(args=["keys", "retire-wrapping-key", f"{prefix}1"])
        assert unknown.exit_code != 0
        rows = [(r.action, r.outcome, r.target) for r in
                AuditEvent.select().where(AuditEvent.action.startswith("key.wrapping_key")).order_by(AuditEvent.id)]
    assert rows == [("key.wrapping_key.create", "success", f"{prefix}2"),
                    ("key.wrapping_key.retire", "refused", f"{prefix}1"),
                    ("key.wrapping_key.retire", "refused", f"{prefix}2"),
                    ("key.wrapping_key.retire", "success", f"{prefix}1")]


def test_another_process_picks_up_the_new_wrapping_key(app, make_app, pkcs11_settings):
    prefix = pkcs11_settings["PKCS11_KEY_LABEL"]
    aad = b"yiwang/test/row"
    with app.app_context():
        wrapper = app.extensions["keystore"].wrapper
        assert wrapper.current_id == f"{prefix}1"

        def rotate_and_wrap():  # a second PKCS#11 application: re-initialises the library after the fork
            label = wrapper.create_next()
            return label, wrapper.wrap(MESSAGE, aad)

        label, (kid, blob) = in_child(rotate_and_wrap)
        assert label == kid == f"{prefix}2"
        # This process still has prefix-1 as current (re-read every PKCS11_REFRESH_SECONDS) but a
        # blob naming a key it has not seen makes it look again, without a restart.
        assert wrapper.unwrap(kid, blob, aad) == MESSAGE
        assert wrapper.current_id == f"{prefix}2"
        other = make_app(**pkcs11_settings)  # another wrapper in this process, its own view
        assert other.extensions["keystore"].wrapper.current_id == f"{prefix}2"
        # and the child could use this process's blobs too
        kid2, blob2 = wrapper.wrap(DOCUMENT, aad)
        assert in_child(lambda: wrapper.unwrap(kid2, blob2, aad)) == DOCUMENT


def test_whole_signing_flow_with_the_pkcs11_store(app, client, signer, tmp_path, pkcs11_settings):
    headers, cert = signer
    request = new_request(client, headers)
    response = authorize(client, headers, request["id"])
    assert response.status_code == 200, response.get_json()
    der = base64.b64decode(response.get_json()["signature_b64"])
    (tmp_path / "doc").write_bytes(DOCUMENT)
    (tmp_path / "sig.der").write_bytes(der)
    (tmp_path / "user.pem").write_text(cert["certificate_pem"])
    openssl("x509", "-in", str(tmp_path / "user.pem"), "-pubkey", "-noout", "-out", str(tmp_path / "pub.pem"))
    ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3",
                 "-pkeyopt", DISTID, "-in", str(tmp_path / "doc"), "-sigfile", str(tmp_path / "sig.der"), check=False)
    assert ok.returncode == 0 and b"Signature Verified Successfully" in ok.stdout, ok.stderr
    label = f"{pkcs11_settings['PKCS11_KEY_LABEL']}1"
    with app.app_context():  # every key the flow made (the CA's, the citizen's) is wrapped by the module
        assert {r.kek_id for r in KeyRecord.select()} == {label}
    # The wrapping key gone from the module: a clean 503 problem, not a 500 with a stack.
    for key in _module_key(pkcs11_settings, label)[1]:
        key.destroy()
    pending = new_request(client, headers)
    refused = authorize(client, headers, pending["id"])
    assert refused.status_code == 503 and refused.get_json()["code"] == "key_unavailable", refused.get_json()
    assert refused.headers["Content-Type"].startswith("application/problem+json")


# python-pkcs11 finalises the search that met the dead session in __del__, where it can only warn.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_threads_have_their_own_sessions_and_a_lost_session_reconnects(app, pkcs11_settings):
    import pkcs11

    with app.app_context():
        store = app.extensions["keystore"]
        key_id = store.generate(purpose="issuer", owner="org_threads").key_id
        public = store.public_key(key_id)
        wrapper = store.wrapper

        together = threading.Barrier(4, timeout=30)

        def sign_and_session(i: int):
            together.wait()  # four threads at once
            message = MESSAGE + str(i).encode()
            with app.app_context():
                signatures = [store.sign(key_id, message) for _ in range(4)]
            return all(public.verify(sig, message) for sig in signatures), id(wrapper._conn.session())

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(sign_and_session, range(4)))
        assert all(ok for ok, _ in results)
        assert len({session for _, session in results}) == 4  # no session shared between threads
        # The module restarted under us (every session handle invalid): the next use reconnects once.
        pkcs11.lib(pkcs11_settings["PKCS11_MODULE"]).reinitialize()
        assert public.verify(store.sign(key_id, MESSAGE), MESSAGE)
        wrapper._conn.session().close()  # a session closed behind the wrapper's back
        assert public.verify(store.sign(key_id, MESSAGE), MESSAGE)


def test_doctor_passes_and_names_what_is_wrong(app, make_app, pkcs11_settings, logs_without_personal_data):
    with app.app_context():
        checks = {c.name: c for c in run_checks(app)}
    assert checks["keystore"].status == "ok", checks["keystore"].message
    assert "round trip ok" in checks["keystore"].message and "not extractable" in checks["keystore"].message
    wrong_pin = make_app(**{**pkcs11_settings, "PKCS11_PIN": "99999999"})
    # PKCS#11 login belongs to the process, and this one is logged in: a fresh process shows a wrong PIN.
    found = in_child(lambda: _keystore(wrong_pin))
    assert (found.status, found.message) == ("fail", "login refused: PKCS11_PIN is wrong")
    missing = _keystore(make_app(**{**pkcs11_settings, "PKCS11_MODULE": "/nonexistent/libpkcs11.so"}))
    assert missing.status == "fail" and "module cannot be loaded" in missing.message
    token = _keystore(make_app(**{**pkcs11_settings, "PKCS11_TOKEN_LABEL": "no-such-token"}))
    assert token.status == "fail" and "'no-such-token' not found" in token.message
    empty = make_app(**{**pkcs11_settings, "PKCS11_KEY_LABEL": "empty-kek-"})
    settings = Pkcs11Settings.from_config(empty.config)  # as production builds it: no key made on first use
    empty.extensions["keystore"] = WrappedKeyStore(Pkcs11Wrapper(settings, create_first=False))
    no_key = _keystore(empty)
    assert no_key.status == "fail" and "no wrapping key empty-kek-<n>" in no_key.message
    for secret in (pkcs11_settings["PKCS11_PIN"], "99999999"):
        assert secret not in "\n".join(logs_without_personal_data.lines)
        assert all(secret not in c.message for c in (found, missing, token, no_key))
