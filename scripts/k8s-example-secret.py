"""The example ConfigMap + Secret (deploy/k8s/configmap.yaml) as the environment a pod would get,
every CHANGE-ME placeholder replaced by a freshly generated value of the right shape.

    .venv/bin/python scripts/k8s-example-secret.py --var-dir /tmp/x > env.json     # JSON {name: value}
    .venv/bin/python scripts/k8s-example-secret.py --drop APNS_KEY_ID ...          # without a key (tests)
    .venv/bin/python scripts/k8s-example-secret.py --doctor [--drop KEY]           # db upgrade + flask doctor
    .venv/bin/python scripts/k8s-example-secret.py --doctor --manifests dev.yaml   # an overlay's rendered output

Placeholders cannot parse as keys, so `flask doctor` could only ever refuse the example as it stands;
filled, the doctor run proves that the ConfigMap + Secret name every key production needs
(scripts/k8s-check.sh, tests/test_k8s_validate.py). The values are throwaway (printed to stdout, never
written under the repository): an Ed25519 JWT key, base64 random bytes, an SM2 platform CA made with the
app's own X.509 helpers (the shape `PlatformCA` makes for development, with CA:TRUE and keyCertSign),
an ES256 APNs key, an FCM service account with an RSA key, random identifiers for the rest.
DATABASE_URL and REDIS_URL point at throwaway local ones (--database-url, --redis-url; default a SQLite
file under --var-dir and the embedded Redis); the cluster names in the example are not reachable here.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import string
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

CONFIGMAP = ROOT / "deploy" / "k8s" / "configmap.yaml"
PLACEHOLDER = "CHANGE-ME"


def _pkcs8(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _b64(n: int) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode()


def _word(n: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def platform_ca() -> tuple[str, str]:
    """(certificate PEM, PKCS#8 key PEM): a self-signed SM2/SM3 root, as app/crypto/ca.py builds its own."""
    from asn1crypto import keys as asn1_keys

    from app.db import utcnow
    from app.crypto import x509
    from app.crypto.sm2.keys import SM2PrivateKey

    key = SM2PrivateKey.generate()
    spki = asn1_keys.PublicKeyInfo.load(key.public_key().public_bytes_der())
    ski = x509.key_identifier(spki)
    name = x509.build_name({"C": "CN", "O": "YiWang", "CN": "YiWang Platform Root CA (k8s example)"})
    now = utcnow().replace(microsecond=0)
    tbs = x509.build_tbs_certificate(
        serial=x509.random_serial(), issuer=name, subject=name, spki=spki, not_before=now,
        not_after=now + timedelta(days=3650),
        extensions=x509.certificate_extensions(ca=True, key_usage={"keyCertSign", "cRLSign"},
                                               subject_key_id=ski, authority_key_id=ski))
    cert = x509.assemble_certificate(tbs, key.sign(tbs.dump()))
    return x509.to_pem("CERTIFICATE", cert.dump()), key.private_bytes_pem().decode()


def _fcm_account() -> str:
    project = f"yiwang-{_word(6, string.ascii_lowercase + string.digits)}"
    return json.dumps({"type": "service_account", "project_id": project,
                       "client_email": f"push@{project}.iam.gserviceaccount.com",
                       "private_key": _pkcs8(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
                       "token_uri": "https://oauth2.googleapis.com/token"})


def fill(key: str, placeholder: str, generated: dict[str, str]) -> str:
    """A fresh value of the shape `key` needs (the placeholder says which where the name does not)."""
    if key in ("PLATFORM_CA_CERT", "PLATFORM_CA_KEY"):
        if "PLATFORM_CA_CERT" not in generated:
            generated["PLATFORM_CA_CERT"], generated["PLATFORM_CA_KEY"] = platform_ca()
        return generated[key]
    makers = {
        "JWT_SIGNING_KEY": lambda: _pkcs8(Ed25519PrivateKey.generate()),
        "DATA_ENCRYPTION_KEY": lambda: _b64(32),
        "KEYSTORE_KEKS": lambda: f"k1:{_b64(16)}",
        "APNS_PRIVATE_KEY": lambda: _pkcs8(ec.generate_private_key(ec.SECP256R1())),
        "APNS_TEAM_ID": lambda: _word(10), "APNS_KEY_ID": lambda: _word(10),
        "FCM_SERVICE_ACCOUNT": _fcm_account,
        "JPUSH_APP_KEY": lambda: secrets.token_hex(12), "JPUSH_MASTER_SECRET": lambda: secrets.token_hex(12),
        "WECHAT_APPID": lambda: "wx" + secrets.token_hex(8),
    }
    if key in makers:
        return makers[key]()
    if placeholder.count(PLACEHOLDER) == 1 and placeholder != PLACEHOLDER:  # a URL or a "kid:" prefix around it
        return placeholder.replace(PLACEHOLDER, secrets.token_urlsafe(18))
    return secrets.token_urlsafe(24)


def example_environ(*, var_dir: str, database_url: str = "", redis_url: str = "",
                    drop: tuple[str, ...] = (), manifests: Path = CONFIGMAP) -> dict[str, str]:
    """The ConfigMap's data and the filled Secret's stringData, as one environment (Secret wins, as envFrom's
    later source does); `drop` leaves keys out, to show the doctor then fails. `manifests`: the file holding
    them (an overlay's rendered output: scripts/k8s-render.py)."""
    docs = [d for d in yaml.safe_load_all(Path(manifests).read_text()) if d]
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    secret = next(d for d in docs if d["kind"] == "Secret")["stringData"]
    generated: dict[str, str] = {}
    filled = {k: fill(k, v, generated) for k, v in secret.items() if PLACEHOLDER in v}
    unfilled = [k for k, v in secret.items() if PLACEHOLDER not in v]
    if unfilled:
        raise SystemExit(f"the example Secret holds real-looking values, not placeholders: {', '.join(unfilled)}")
    environ = {**config, **filled, "VAR_DIR": var_dir,
               "DATABASE_URL": database_url or "sqlite:///" + os.path.join(var_dir, "yiwang.db"),
               "REDIS_URL": redis_url}
    for key in drop:
        environ.pop(key, None)
    return environ


def run_doctor(environ: dict[str, str]) -> int:
    """`flask --app wsgi db upgrade` (the migration Job's command) then `flask --app wsgi doctor`, as a pod
    runs them: only the ConfigMap + Secret's variables and a bare process environment. The doctor's exit
    status (0: every check passed)."""
    import subprocess  # only this mode starts processes

    bare = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if k in os.environ}
    env = {**bare, **environ, "PYTHONUNBUFFERED": "1"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    upgrade = subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if upgrade.returncode != 0:
        print(f"flask db upgrade failed (exit {upgrade.returncode}):\n{upgrade.stdout}{upgrade.stderr}")
        return upgrade.returncode
    doctor = subprocess.run([*flask, "doctor"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    print(doctor.stdout + doctor.stderr, end="")
    return doctor.returncode


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--var-dir", required=True, help="the pod's VAR_DIR here (the SQLite file and embedded Redis)")
    p.add_argument("--database-url", default="", help="default: a SQLite file in --var-dir")
    p.add_argument("--redis-url", default="", help="default: the embedded Redis in --var-dir")
    p.add_argument("--drop", action="append", default=[], help="leave this key out (repeatable)")
    p.add_argument("--doctor", action="store_true", help="run db upgrade + flask doctor on it; its exit status")
    p.add_argument("--manifests", type=Path, default=CONFIGMAP,
                   help="the YAML holding the ConfigMap and Secret (default deploy/k8s/configmap.yaml)")
    args = p.parse_args(argv)
    environ = example_environ(var_dir=os.path.abspath(args.var_dir), database_url=args.database_url,
                              redis_url=args.redis_url, drop=tuple(args.drop), manifests=args.manifests)
    if args.doctor:
        return run_doctor(environ)
    json.dump(environ, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
