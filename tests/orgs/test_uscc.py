"""The unified social credit code check (app/uscc.py): GB 32100 MOD 31, the GB 11714 inner check,
a known GB/T 2260 region — and wallet's credit_code_valid is the same rule."""
from __future__ import annotations

import pytest

from app.uscc import ALPHABET, mod31_check_char, normalise_uscc, org_code_check_char, uscc_problem, uscc_valid
from wallet.catalogue import credit_code_valid

# Published codes (DOMAIN.md's identifier example, the central government's, real enterprises').
PUBLISHED = ["11100000000013338W", "11430000006122244L", "91110000600037341L", "91350100M000100Y43"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_pass(code):
    assert uscc_valid(code) and credit_code_valid(code)


def test_gb11714_check_character_vectors():
    # weights 3 7 9 10 5 8 4 2; value 11 − (Σ mod 11): 10 → X, 11 → 0; letters A=10 … (M=22, Y=34)
    assert org_code_check_char("00000001") == "9"  # Σ 2
    assert org_code_check_char("00000006") == "X"  # Σ 12 ≡ 1 → 10
    assert org_code_check_char("00000000") == "0"  # Σ 0 → 11
    assert org_code_check_char("M000100Y") == "4"  # 91350100M000100Y43's organisation code


def _rebalanced(first17: str) -> str:
    return first17 + mod31_check_char(first17)


def test_bad_overall_check_character():
    code = PUBLISHED[1][:17] + ("M" if PUBLISHED[1][17] != "M" else "N")
    assert uscc_problem(code) == "check_char" and not credit_code_valid(code)


def test_bad_inner_check_even_when_mod31_balances():
    good = PUBLISHED[2]
    wrong_inner = good[:16] + ("8" if good[16] != "8" else "7")
    code = _rebalanced(wrong_inner)  # the overall check holds, the organisation code's does not
    assert mod31_check_char(code[:17]) == code[17]
    assert uscc_problem(code) == "org_code" and not uscc_valid(code)


@pytest.mark.parametrize("region", ["990000", "000000", "960100"])
def test_unknown_region(region):
    body = "91" + region + "MA2RX7K0"
    code = _rebalanced(body + org_code_check_char(body[8:16]))
    assert uscc_problem(code) == "region" and not uscc_valid(code)


@pytest.mark.parametrize("code", ["", "11100000000013338", "11100000000013338WW", "1110000000001333OW",
                                  "11100000000013338w ", "9111000060003734IL", None, 91110000600037341])
def test_shape_and_alphabet(code):
    assert uscc_problem(code) in ("format", "check_char") and not uscc_valid(code)


def test_alphabet_excludes_ioszv():
    assert len(ALPHABET) == 31 and not set("IOSZV") & set(ALPHABET)


def test_normalise():
    assert normalise_uscc(" 9111 0000-6000 37341l ") == "91110000600037341L"
    assert uscc_valid(normalise_uscc("91110000600037341l"))
