"""SM2 key import/export, validation and backend selection."""
from __future__ import annotations

import base64

import pytest
from flask import Flask

from app.crypto.sm2 import N, SM2PrivateKey, SM2PublicKey, available_backends, der, get_backend
from app.crypto.sm2.curve import GX, GY, P, encode_point
from tests.crypto.vectors import BACKENDS, SM2_D, SM2_PUBLIC

# `openssl genpkey -algorithm SM2` / `openssl pkey -pubout` layouts, from the CLI.
OPENSSL_PKCS8_PREFIX = bytes.fromhex("308187020100301306072a8648ce3d020106082a811ccf5501822d046d306b0201010420")
OPENSSL_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


@pytest.mark.parametrize("backend", BACKENDS)
def test_round_trips(backend: str) -> None:
    key = SM2PrivateKey.generate(backend)
    pub = key.public_key()
    for other in (SM2PrivateKey.from_der(key.private_bytes_der(), backend),
                  SM2PrivateKey.from_pem(key.private_bytes_pem(), backend),
                  SM2PrivateKey.from_pem(key.private_bytes_pem().decode(), backend),
                  SM2PrivateKey.from_int(key.private_scalar(), backend)):
        assert other.private_scalar() == key.private_scalar()
        assert other.public_key() == pub
    assert SM2PublicKey.from_der(pub.public_bytes_der(), backend) == pub
    assert SM2PublicKey.from_pem(pub.public_bytes_pem(), backend) == pub
    assert SM2PublicKey.from_point(pub.point(), backend) == pub
    assert key.private_bytes_der().startswith(OPENSSL_PKCS8_PREFIX)
    assert pub.public_bytes_der() == OPENSSL_SPKI_PREFIX + pub.point()
    assert SM2PublicKey.from_pem(pub.public_bytes_pem(), backend).verify(key.sign(b"x"), b"x")


@pytest.mark.parametrize("backend", BACKENDS)
def test_sec1_private_keys_load(backend: str) -> None:
    sec1 = der.encode_ec_private_key(SM2_D, SM2_PUBLIC, with_params=True)
    for label in ("EC PRIVATE KEY", "SM2 PRIVATE KEY"):
        pem = f"-----BEGIN {label}-----\n{base64.encodebytes(sec1).decode()}-----END {label}-----\n"
        assert SM2PrivateKey.from_pem(pem, backend).public_key().point() == SM2_PUBLIC
    with pytest.raises(ValueError):  # a standalone SEC1 key must name its curve
        SM2PrivateKey.from_der(der.encode_ec_private_key(SM2_D, SM2_PUBLIC, with_params=False), backend)


def _off_curve_points() -> list[bytes]:
    return [
        encode_point(GX, (GY + 1) % P),
        encode_point(0, 0),
        b"\x04" + P.to_bytes(32, "big") + GY.to_bytes(32, "big"),  # x = p is out of the field
        b"\x00",  # the SEC1 encoding of the point at infinity
        b"\x04" + bytes(64),
        SM2_PUBLIC[:-1],
        SM2_PUBLIC + b"\x00",
        b"\x02" + SM2_PUBLIC[1:33],  # compressed form is not accepted
        b"\x05" + SM2_PUBLIC[1:],
        b"",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("point", _off_curve_points())
def test_bad_points_refused(backend: str, point: bytes) -> None:
    with pytest.raises(ValueError):
        SM2PublicKey.from_point(point, backend)
    with pytest.raises(ValueError):
        SM2PublicKey.from_der(der.encode_spki(point), backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("d", [0, -1, N - 1, N, N + 1, 2**256])
def test_private_scalar_out_of_range(backend: str, d: int) -> None:
    with pytest.raises(ValueError):
        SM2PrivateKey.from_int(d, backend)
    if 0 <= d < 2**256:
        with pytest.raises(ValueError):
            SM2PrivateKey.from_der(der.encode_pkcs8(d, SM2_PUBLIC), backend)


def test_private_scalar_must_be_int() -> None:
    for bad in (1.0, "1", True):
        with pytest.raises(TypeError):
            SM2PrivateKey.from_int(bad)  # type: ignore[arg-type]


def test_boundary_scalars_accepted() -> None:
    assert SM2PrivateKey.from_int(1).public_key().point() == encode_point(GX, GY)
    key = SM2PrivateKey.from_int(N - 2)
    assert key.public_key().verify(key.sign(b"m"), b"m")


def test_mismatched_embedded_public_key_refused() -> None:
    other = SM2PrivateKey.generate().public_key().point()
    with pytest.raises(ValueError):
        SM2PrivateKey.from_der(der.encode_pkcs8(SM2_D, other))


def test_malformed_containers_refused() -> None:
    key = SM2PrivateKey.from_int(SM2_D)
    pkcs8, spki = key.private_bytes_der(), key.public_key().public_bytes_der()
    bad_private = [pkcs8 + b"\x00", pkcs8[:-1], pkcs8.replace(der.OID_SM2_CURVE, der.encode_oid("1.2.840.10045.3.1.7")),
                   b"\x30\x82\x00" + pkcs8[2:], spki, b"", b"\x30\x00"]
    for blob in bad_private:
        with pytest.raises(ValueError):
            SM2PrivateKey.from_der(blob)
    bad_public = [spki + b"\x00", spki[:-1], spki.replace(der.OID_SM2_CURVE, der.encode_oid("1.2.840.10045.3.1.7")),
                  spki.replace(b"\x03\x42\x00", b"\x03\x42\x01"), pkcs8, b""]
    for blob in bad_public:
        with pytest.raises(ValueError):
            SM2PublicKey.from_der(blob)
    with pytest.raises(ValueError):
        SM2PublicKey.from_pem(key.private_bytes_pem())
    with pytest.raises(ValueError):
        SM2PrivateKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n"
                               b"-----END PRIVATE KEY-----\n")


def test_repr_never_shows_the_scalar() -> None:
    key = SM2PrivateKey.from_int(SM2_D)
    assert f"{SM2_D:x}" not in repr(key).lower() and "3945208f" not in repr(key).lower()


def test_backend_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "gmssl" in available_backends()
    monkeypatch.setenv("SM2_BACKEND", "gmssl")
    assert get_backend().NAME == "gmssl"
    assert SM2PrivateKey.generate().backend_name == "gmssl"
    monkeypatch.setenv("SM2_BACKEND", "auto")
    assert get_backend().NAME == available_backends()[0]
    assert get_backend("GMSSL").NAME == "gmssl"
    with pytest.raises(ValueError):
        get_backend("openssl")


def test_backend_from_flask_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SM2_BACKEND", "tongsuo")
    app = Flask(__name__)
    app.config["SM2_BACKEND"] = "gmssl"
    with app.app_context():
        assert get_backend().NAME == "gmssl"
