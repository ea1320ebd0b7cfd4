"""Known answers for the national-cryptography tests (GB/T 32905, GB/T 32918, DOMAIN.md)."""
from __future__ import annotations

import pytest

from app.crypto.sm2 import available_backends

SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]

# GB/T 32918.5 example (sm2p256v1, default ID), as quoted in DOMAIN.md.
SM2_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
SM2_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
SM2_MESSAGE = b"message digest"
SM2_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
SM2_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
# Same standard: the public key of SM2_D and its Z with the default ID.
SM2_PUBLIC = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
SM2_Z = bytes.fromhex("B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3")

CUSTOM_UID = b"ALICE123@YAHOO.COM"

HAS_TONGSUO = "tongsuo" in available_backends()

# Both backends must run; a host without tongsuopy shows a skip, not a silent pass.
BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(name not in available_backends(),
                                                reason=f"{name} not importable"))
    for name in ("tongsuo", "gmssl")
]
