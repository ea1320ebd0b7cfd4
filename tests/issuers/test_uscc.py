"""USCC checks (GB 32100-2015 / GB 11714, issuers/uscc.py): real published codes pass; each check
character wrong, a bad region, a letter outside the alphabet, a wrong length or authority fail."""
from __future__ import annotations

import pytest

from issuers import uscc
from issuers.demo import DEMO_USCC

# Published codes of real organisations (both check characters as printed on their licences).
REAL = ["91350100M000100Y43", "91110000600037341L", "11430000006122244L"]


@pytest.mark.parametrize("code", [*REAL, *DEMO_USCC.values()])
def test_valid_codes_pass_every_check(code):
    assert uscc.uscc_problems(code) == []


def test_check_characters_are_computed_by_the_published_algorithms():
    # GB 11714: 3·M(22)+7·0+… for the body of 91350100M000100Y43 → 4; MOD 31 over the first 17 → 3.
    assert uscc.org_check_char("M000100Y") == "4"
    assert uscc.mod31_check_char("91350100M000100Y4") == "3"
    assert uscc.complete("91350100M000100Y") == "91350100M000100Y43"
    assert uscc.org_check_char("00000000") == "0"  # 11 − 0 = 11 → 0
    assert any(uscc.org_check_char(f"{n:08d}") == "X" for n in range(100))  # 10 → X happens


@pytest.mark.parametrize("position, reason", [(16, "组织机构代码校验位"), (17, "统一社会信用代码校验位")])
def test_each_check_character_wrong_is_named(position, reason):
    code = REAL[0]
    for replacement in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if replacement == code[position]:
            continue
        wrong = code[:position] + replacement + code[position + 1:]
        problems = [str(p) for p in uscc.uscc_problems(wrong)]
        assert any(reason in p for p in problems), (wrong, problems)


def test_a_wrong_organisation_check_with_a_recomputed_overall_check_is_still_refused():
    """A code whose 18th character was recomputed after the 17th was changed passes MOD 31 alone."""
    first16 = REAL[0][:16]
    bad17 = first16 + ("5" if REAL[0][16] != "5" else "6")
    forged = bad17 + uscc.mod31_check_char(bad17)
    problems = [str(p) for p in uscc.uscc_problems(forged)]
    assert len(problems) == 1 and "组织机构代码校验位" in problems[0]


@pytest.mark.parametrize("region, ok", [
    ("340100", True), ("340000", True), ("100000", True), ("110105", True), ("820000", True),
    ("000000", False), ("990000", False), ("190000", False), ("349900", False), ("340900", False), ("110023", False),
])
def test_region_codes(region, ok):
    assert (uscc.region_problem(region) is None) is ok


@pytest.mark.parametrize("region", ["000000", "990000", "349900"])
def test_a_code_with_a_bad_region_is_refused_even_with_correct_check_characters(region):
    code = uscc.complete("11" + region + "00298411")
    problems = [str(p) for p in uscc.uscc_problems(code)]
    assert problems and all("行政区划" in p for p in problems)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_letters_outside_the_alphabet_are_refused(letter):
    code = REAL[0][:9] + letter + REAL[0][10:]
    problems = [str(p) for p in uscc.uscc_problems(code)]
    assert len(problems) == 1 and letter in problems[0]


@pytest.mark.parametrize("code", ["", "9135010", REAL[0] + "0", REAL[0].lower(), None, 91350100])
def test_wrong_shapes_are_refused(code):
    assert uscc.uscc_problems(code)


@pytest.mark.parametrize("head", ["B1", "14", "94", "Y2"])
def test_authority_and_category_must_be_in_gb32100s_table(head):
    code = uscc.complete(head + "34010000298411")
    assert uscc.uscc_problems(code)
