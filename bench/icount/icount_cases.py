"""The cases bench/icount counts (no side effects: the budget test imports it)."""
from __future__ import annotations

# name -> (title, target × bare Flask or None, scenario module or None)
CASES: dict[str, tuple[str, float | None, str | None]] = {
    "bare_flask": ("bare Flask, GET /bare -> {\"ok\": true}", None, None),
    "bare_smorest": ("bare flask-smorest, one schema in and out", None, None),
    # Floors, not requests: one SM2 operation through app/crypto/sm2 (Tongsuo), to read the crypto-bound cases by
    "sm2_sign": ("floor: one SM2 signature (app/crypto/sm2, Tongsuo)", None, None),
    "sm2_verify": ("floor: one SM2 verification, a new signature each time", None, None),
    "token_first_sight": ("floor: an access token's first verification in a process (Ed25519, pyjwt)", None, None),
    "me": ("GET /api/v1/me", 3.0, None),
    "login": ("SMS-code login, new phone", 6.0, "login"),
    "presentation": ("wallet: create a presentation", 6.0, "wallet_present"),
    "counter_verification": ("wallet: counter verification", 8.0, "wallet_verify"),
    "third_party_verification": ("signing: third-party verification", 8.0, "signing_verify"),
    "nearby": ("map: nearby (demo halls, 20 answered)", 6.0, None),
    "home": ("BFF home, every part live", 12.0, "bff_home"),
    "case_event": ("cases: department event", 6.0, "cases_events"),
}
