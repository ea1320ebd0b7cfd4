"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters.

    position 1      registration authority (登记管理部门)      1 机构编制 … 9 市场监管, A, N, Y
    position 2      organisation category (机构类别), by authority (1 机关, 2 事业单位 …)
    positions 3–8   administrative region (GB/T 2260)
    positions 9–17  organisation code (GB 11714): 8 body characters + its check character
    position 18     the overall check character (MOD 31)

What `uscc_problems` checks, and nothing more: the shape and alphabet (31 symbols: no I, O, S, V,
Z), the authority and the category in GB 32100's table, the region's province among the GB/T 2260
provinces (11–82, or 100000 for national bodies) with a prefecture and county pair that is either
`00` or a number, inside Anhui (34) the prefecture among its 16 cities, the GB 11714 check character
and the MOD 31 check character. A code can pass all of that and still be nobody's: only the
registration authorities' records know which codes were assigned.
"""
from __future__ import annotations

import re

from app.i18n import N_, Text

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: I, O, S, V, Z are never used
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# GB 32100-2015 table 1: registration authority → its organisation categories.
CATEGORIES = {
    "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129", "7": "129", "8": "19",
    "9": "123", "A": "19", "N": "1239", "Y": "1",
}
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
})
ANHUI_PREFECTURES = frozenset({"00", "01", "02", "03", "04", "05", "06", "07", "08", "10", "11", "12", "13", "15",
                               "16", "17", "18"})
NATIONAL = "100000"  # bodies of the central government
_REGION = re.compile(r"\d{6}")


def org_check_char(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body: 11 − (Σ vᵢ·wᵢ mod 11),
    10 → X, 11 → 0 (letters count A = 10 … Z = 35)."""
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def mod31_check_char(first17: str) -> str:
    """GB 32100 check character over the first 17 characters: 31 − (Σ vᵢ·wᵢ mod 31), 31 → 0."""
    value = 31 - sum(ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS)) % 31
    return ALPHABET[0 if value == 31 else value]


def complete(first16: str) -> str:
    """A code from its first 16 characters (authority, category, region, organisation code body):
    both check characters computed (demo data and tests; never to repair a code someone typed)."""
    first17 = first16 + org_check_char(first16[8:16])
    return first17 + mod31_check_char(first17)


def normalise(code: str) -> str:
    return code.strip().upper() if isinstance(code, str) else code


def region_problem(region: str) -> Text | None:
    """Why a 6-digit region code (GB/T 2260) is refused, or None."""
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        return N_("行政区划代码应为 6 位数字（GB/T 2260）。")
    if region == NATIONAL:
        return None
    if region[:2] not in PROVINCES:
        return N_("行政区划代码的省级部分“{province}”不存在（应为 11–82 中的省级代码）。", province=region[:2])
    if region[:2] == "34" and region[2:4] not in ANHUI_PREFECTURES:
        return N_("行政区划代码“{region}”不是安徽省的地市。", region=region)
    if region[2:4] == "00" and region[4:] != "00":
        return N_("行政区划代码“{region}”不存在。", region=region)
    return None


def uscc_problems(code: str) -> list[Text]:
    """Every reason a code is not a well-formed USCC (Chinese, marked for translation); [] when it is."""
    if not isinstance(code, str) or len(code) != 18:
        return [N_("统一社会信用代码应为 18 位。")]
    wrong = sorted({c for c in code if c not in ALPHABET})
    if wrong:
        return [N_("统一社会信用代码不使用字符“{chars}”（只用数字和除 I、O、S、V、Z 以外的大写字母）。",
                   chars="".join(wrong))]
    problems: list[Text] = []
    if code[0] not in CATEGORIES:
        problems.append(N_("登记管理部门代码“{char}”不存在。", char=code[0]))
    elif code[1] not in CATEGORIES[code[0]]:
        problems.append(N_("机构类别代码“{char}”不属于该登记管理部门。", char=code[1]))
    region = region_problem(code[2:8])
    if region is not None:
        problems.append(region)
    if org_check_char(code[8:16]) != code[16]:
        problems.append(N_("组织机构代码校验位（第 17 位）不正确。"))
    if mod31_check_char(code[:17]) != code[17]:
        problems.append(N_("统一社会信用代码校验位（第 18 位）不正确。"))
    return problems


def is_valid(code: str) -> bool:
    return not uscc_problems(code)
