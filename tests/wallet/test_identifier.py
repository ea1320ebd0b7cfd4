"""GB/T 36904 e-licence identifiers: the MOD 37,36 check character, building and parsing."""
from __future__ import annotations

import pytest

from app import i18n
from wallet.identifier import ALPHABET, Identifier, make_identifier, mod37_36_check_char, parse_identifier

EXAMPLE = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"


def test_domain_example_checks():
    parsed = parse_identifier(EXAMPLE)
    assert parsed == Identifier("11100000000013338W011", "11430000006122244L", "20230000403", 1, "U")
    assert str(parsed) == EXAMPLE
    assert mod37_36_check_char("11100000000013338W01111430000006122244L20230000403001") == "U"


def test_every_single_substitution_is_refused():
    head = "1.2.156.3005.2."
    body = EXAMPLE[len(head):-2]  # type.issuer.serial.version — the check-protected part
    refused = 0
    for index, char in enumerate(body):
        if char == ".":
            continue
        for other in ALPHABET:
            if other == char:
                continue
            if index >= len(body) - 3 and not other.isdigit():
                continue  # the version must stay three digits to reach the check
            changed = head + body[:index] + other + body[index + 1:] + EXAMPLE[-2:]
            if changed.endswith(".000.U"):
                continue
            with pytest.raises(ValueError, match="校验位"):
                parse_identifier(changed)
            refused += 1
    assert refused > 1500


def test_every_other_check_char_is_refused():
    for other in ALPHABET.replace("U", ""):
        with pytest.raises(ValueError, match="校验位不正确"):
            parse_identifier(EXAMPLE[:-1] + other)


@pytest.mark.parametrize("version", [1, 42, 999])
def test_make_parse_round_trip(version):
    text = make_identifier("11100000000012345D001", "11430000006122244L", "2024000001", version)
    parsed = parse_identifier(text)
    assert (parsed.type_code, parsed.issuer_code, parsed.serial, parsed.version) == (
        "11100000000012345D001", "11430000006122244L", "2024000001", version)
    assert text.split(".")[-2] == f"{version:03d}"
    assert str(parsed) == text


def test_make_reproduces_the_example():
    assert make_identifier("11100000000013338W011", "11430000006122244L", "20230000403", 1) == EXAMPLE


def test_lower_case_and_blanks_are_normalised():
    assert str(parse_identifier("  " + EXAMPLE.lower() + "\n")) == EXAMPLE


@pytest.mark.parametrize("text, reason", [
    ("1.2.156.3005.3.11100000000013338W011.11430000006122244L.20230000403.001.U", "开头"),
    ("11100000000013338W011.11430000006122244L.20230000403.001.U", "开头"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.001.U", "五段"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U.7", "五段"),
    ("1.2.156.3005.2.11100000000013338W011..20230000403.001.U", "颁发机构代码"),
    ("1.2.156.3005.2.11100000000013338W-11.11430000006122244L.20230000403.001.U", "证照类型代码"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.2023 0000403.001.U", "流水号"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.01.U", "版本号"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.000.U", "版本号"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.00A.U", "版本号"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.UU", "校验位"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.", "校验位"),
    ("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.证", "校验位"),
])
def test_malformed_identifiers_are_refused(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_identifier(text)


def test_non_string_is_refused():
    with pytest.raises(ValueError):
        parse_identifier(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("args", [
    ("", "11430000006122244L", "1", 1),
    ("111", "1143-0000", "1", 1),
    ("111", "114", "1", 0),
    ("111", "114", "1", 1000),
])
def test_make_refuses_bad_parts(args):
    with pytest.raises(ValueError):
        make_identifier(*args)


def test_check_char_refuses_foreign_characters():
    with pytest.raises(ValueError):
        mod37_36_check_char("ABC-1")


@pytest.mark.parametrize("refuse, english", [
    (lambda: parse_identifier(EXAMPLE[:-1] + "V"),
     "The check character of the e-licence identifier is wrong; please check it."),
    (lambda: parse_identifier("1.2.156.3005.2.11100000000013338W-11.11430000006122244L.20230000403.001.U"),
     "The licence type code in an e-licence identifier may contain only digits and capital letters."),
    (lambda: parse_identifier("1.2.156.3005.3.X"), "An e-licence identifier must start with 1.2.156.3005.2."),
    (lambda: mod37_36_check_char("ABC-1"), "The character “-” is not in the range 0-9A-Z."),
])
def test_identifier_errors_are_answered_in_english(app, refuse, english):
    """No endpoint parses identifiers yet; a reason that reaches an answer is translated like this."""
    with pytest.raises(ValueError) as refused:
        refuse()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert i18n.translate(refused.value.args[0]) == english
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert i18n.translate(refused.value.args[0]) == str(refused.value)
