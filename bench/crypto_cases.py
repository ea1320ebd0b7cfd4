"""bench/crypto.py, part 1: the timing loop, `openssl speed`, and the cases measured."""
from __future__ import annotations

import gc
import hashlib
import os
import re
import subprocess
import time
import traceback

from crypto_const import KIB8, MB, MIB, MSG_LEN

try:  # the code under test: an import error is reported in the results (load_ours), not raised
    from app.crypto import sm2 as _sm2mod
    from app.crypto.sm3 import sm3 as _sm3
    from app.crypto.sm4 import sm4_gcm_decrypt, sm4_gcm_encrypt
    _OURS_ERROR = ""
except Exception:  # noqa: BLE001 - reported, not raised
    _OURS_ERROR = traceback.format_exc(limit=3).strip()
try:  # optional: only the reference columns use the libraries directly
    from tongsuopy.crypto import hashes as tongsuo_hashes
    from tongsuopy.crypto.asymciphers import ec as tongsuo_ec
    from tongsuopy.crypto.ciphers.aead import SM4GCM
except ImportError:
    tongsuo_hashes = tongsuo_ec = SM4GCM = None
try:
    from gmssl import func as gmssl_func
    from gmssl import sm2 as gmssl_sm2
except ImportError:
    gmssl_func = gmssl_sm2 = None


# --------------------------------------------------------------------------- measuring

def measure(fn, seconds: float, warmup: float, nbytes: int = 0) -> dict:
    """Call fn() for `warmup` s unmeasured, then for `seconds` s measured (in batches of about
    5 ms, so the clock is read rarely). Returns calls, elapsed wall and CPU time, rate."""
    fn()
    n = 1
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < warmup:
        fn()
        n += 1
    took = time.perf_counter() - t0
    per_call = took / n if warmup > 0 and took > 0 else 0.0
    batch = max(1, int(0.005 / per_call)) if per_call else 1
    gc.collect()
    calls = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        t1 = time.perf_counter()
        if t1 >= deadline:
            break
    elapsed = t1 - t0
    cpu = time.process_time() - c0
    per_s = calls / elapsed
    return {
        "calls": calls,
        "elapsed_s": round(elapsed, 4),
        "cpu_s": round(cpu, 4),
        "per_s": per_s,
        "value": per_s * nbytes / MB if nbytes else per_s,
        "us_per_call": 1e6 / per_s,
    }


# --------------------------------------------------------------------------- openssl speed

def _openssl_run(exe: str, args: list[str], seconds: int) -> tuple[str, str]:
    cmd = [exe, "speed", "-elapsed", "-seconds", str(seconds), "-mr", *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 10 + 60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return " ".join(cmd), f"ERROR {e}"
    if p.returncode != 0:
        return " ".join(cmd), "ERROR " + (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[0][:200]
    return " ".join(cmd), p.stdout


def openssl_sm2(exe: str, seconds: int) -> dict:
    cmd, out = _openssl_run(exe, ["sm2"], seconds)
    # machine-readable: +F7:<idx>:<bits>:<curve>:<sign/s>:<verify/s>
    m = re.search(r"^\+F\d*:\d+:256:\w*SM2\w*:([\d.]+):([\d.]+)\s*$", out, re.M | re.I)
    if not m:
        return {"command": cmd, "error": out if out.startswith("ERROR") else "no SM2 line in the output"}
    return {"command": cmd, "sign": float(m.group(1)), "verify": float(m.group(2))}


def openssl_bulk(exe: str, seconds: int, names: list[str], nbytes: int) -> dict:
    """First of `names` that this openssl knows (-evp NAME), MB/s at `nbytes` per call."""
    tried = []
    for name in names:
        cmd, out = _openssl_run(exe, ["-bytes", str(nbytes), "-evp", name], seconds)
        # machine-readable: +F:<idx>:<name>:<bytes/s>
        m = re.search(r"^\+F:\d+:([^:]+):([\d.]+)\s*$", out, re.M)
        if m:
            return {"command": cmd, "algorithm": m.group(1), "value": float(m.group(2)) / MB,
                    "not_available": tried}
        tried.append(name)
    return {"command": cmd, "error": f"none of {', '.join(names)} available", "not_available": tried}


def openssl_version(exe: str) -> str:
    try:
        return subprocess.run([exe, "version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


# --------------------------------------------------------------------------- the code under test

def load_ours() -> tuple[dict, str]:
    """The app's crypto modules; returns ({name: module-or-object}, error text)."""
    if _OURS_ERROR:
        return {}, _OURS_ERROR
    return {"sm2": _sm2mod, "sm3": _sm3, "sm4_gcm_encrypt": sm4_gcm_encrypt,
            "sm4_gcm_decrypt": sm4_gcm_decrypt}, ""


def backend_names(sm2mod) -> list[str]:
    b = sm2mod.available_backends()
    return list(b.keys()) if isinstance(b, dict) else list(b)


def sm2_cases(sm2mod, backend: str) -> dict:
    """Callables for one backend, after checking that what they compute is right."""
    key = sm2mod.SM2PrivateKey.generate(backend=backend)
    pub = key.public_key()
    msg = os.urandom(MSG_LEN)
    e = os.urandom(32)  # any 32 bytes: the digest path costs the same whatever e is
    sig = key.sign(msg)
    dsig = key.sign_digest(e)
    other = bytes([msg[0] ^ 1]) + msg[1:]
    checks = {
        "verify(sign(m), m)": pub.verify(sig, msg) is True,
        "verify(sign(m), m') is False": pub.verify(sig, other) is False,
        "verify_digest(sign_digest(e), e)": pub.verify_digest(dsig, e) is True,
        "verify_digest(sign_digest(e), e') is False": pub.verify_digest(dsig, bytes([e[0] ^ 1]) + e[1:]) is False,
    }
    bad = [k for k, ok in checks.items() if not ok]
    if bad:
        raise AssertionError("wrong result: " + "; ".join(bad))
    return {
        "sm2.sign": lambda: key.sign(msg),
        "sm2.verify": lambda: pub.verify(sig, msg),
        "sm2.sign_digest": lambda: key.sign_digest(e),
        "sm2.verify_digest": lambda: pub.verify_digest(dsig, e),
    }


def raw_sm2_cases(backend: str) -> tuple[str, dict]:
    """The same operations straight through the library a backend wraps (no app code)."""
    msg = os.urandom(MSG_LEN)
    if backend == "tongsuo" and tongsuo_ec is not None:
        k = tongsuo_ec.generate_private_key(tongsuo_ec.SM2())
        pk = k.public_key()
        alg = tongsuo_ec.ECDSA(tongsuo_hashes.SM3())
        sig = k.sign(msg, alg)
        pk.verify(sig, msg, alg)
        return "tongsuopy", {"sm2.sign": lambda: k.sign(msg, alg), "sm2.verify": lambda: pk.verify(sig, msg, alg)}
    if backend == "gmssl" and gmssl_sm2 is not None:
        d = gmssl_func.random_hex(64)
        pub = gmssl_sm2.CryptSM2(private_key=d, public_key="")._kg(int(d, 16), gmssl_sm2.default_ecc_table["g"])
        c = gmssl_sm2.CryptSM2(private_key=d, public_key=pub)
        e = os.urandom(32)
        sig = c.sign_with_sm3(msg)
        dsig = c.sign(e, gmssl_func.random_hex(64))
        assert c.verify_with_sm3(sig, msg) and c.verify(dsig, e)
        return "gmssl", {
            "sm2.sign": lambda: c.sign_with_sm3(msg),
            "sm2.verify": lambda: c.verify_with_sm3(sig, msg),
            "sm2.sign_digest": lambda: c.sign(e, gmssl_func.random_hex(64)),
            "sm2.verify_digest": lambda: c.verify(dsig, e),
        }
    return "", {}


def e_case(sm2mod, backend: str):
    """public_key().digest(m) = SM3(Z‖M): what sign/verify add to the digest path (None if absent)."""
    pub = sm2mod.SM2PrivateKey.generate(backend=backend).public_key()
    if not hasattr(pub, "digest"):
        return None
    msg = os.urandom(MSG_LEN)
    return lambda: pub.digest(msg)


def bulk_cases(ours: dict) -> dict:
    sm3 = ours["sm3"]
    enc, dec = ours["sm4_gcm_encrypt"], ours["sm4_gcm_decrypt"]
    if sm3(b"abc").hex() != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0":
        raise AssertionError("sm3(b'abc') is not the GB/T 32905 test vector")
    k16 = os.urandom(16)
    aad = b"yiwang-bench"
    b8, b1m = os.urandom(KIB8), os.urandom(MIB)
    blob = enc(k16, b8, aad)
    if dec(k16, blob, aad) != b8:
        raise AssertionError("sm4_gcm_decrypt(sm4_gcm_encrypt(x)) != x")
    if enc(k16, b8, aad) == blob:
        raise AssertionError("sm4_gcm_encrypt gave the same output twice (nonce reuse?)")
    return {
        "sm3.8k": (lambda: sm3(b8), KIB8),
        "sm3.1m": (lambda: sm3(b1m), MIB),
        "sm4gcm.enc.8k": (lambda: enc(k16, b8, aad), KIB8),
        "sm4gcm.dec.8k": (lambda: dec(k16, blob, aad), KIB8),
    }


def raw_bulk_cases() -> dict:
    out = {}
    b8, b1m = os.urandom(KIB8), os.urandom(MIB)
    try:
        hashlib.new("sm3")
        out["sm3.8k"] = ("hashlib (OpenSSL)", lambda: hashlib.new("sm3", b8).digest())
        out["sm3.1m"] = ("hashlib (OpenSSL)", lambda: hashlib.new("sm3", b1m).digest())
    except ValueError:
        pass
    if SM4GCM is None:
        return out
    try:
        g = SM4GCM(os.urandom(16))
        nonce, aad = os.urandom(12), b"yiwang-bench"
        ct = g.encrypt(nonce, b8, aad)
        out["sm4gcm.enc.8k"] = ("tongsuopy SM4GCM", lambda: g.encrypt(nonce, b8, aad))
        out["sm4gcm.dec.8k"] = ("tongsuopy SM4GCM", lambda: g.decrypt(nonce, ct, aad))
    except Exception:  # noqa: BLE001 - only a reference column
        pass
    return out


ITEMS = {  # item: (label, unit, openssl key)
    "sm2.sign": ("SM2 sign, 32-byte message, default ID (SM3(Z‖M) + sign)", "op/s", "sm2.sign"),
    "sm2.verify": ("SM2 verify, same", "op/s", "sm2.verify"),
    "sm2.sign_digest": ("SM2 sign_digest (e given: no Z, no hash)", "op/s", None),
    "sm2.verify_digest": ("SM2 verify_digest (e given)", "op/s", None),
    "sm2.e": ("e = SM3(Z‖M) alone, public_key().digest (Z cached per key and ID)", "op/s", None),
    "sm3.8k": ("SM3, 8 KiB buffer", "MB/s", "sm3.8k"),
    "sm3.1m": ("SM3, 1 MiB buffer", "MB/s", "sm3.1m"),
    "sm4gcm.enc.8k": ("SM4-GCM encrypt, 8 KiB", "MB/s", "sm4.8k"),
    "sm4gcm.dec.8k": ("SM4-GCM decrypt, 8 KiB", "MB/s", "sm4.8k"),
}
