"""GB/T 2260 division codes."""
from __future__ import annotations

import pytest

from mapsvc import regions


@pytest.mark.parametrize("code", ["340000", "340100", "340104", "340171", "340181", "341200", "110000", "440300"])
def test_real_codes_pass(code):
    assert regions.region_error(code) is None


@pytest.mark.parametrize("code, reason", [
    ("34010", "6位数字"), ("34010a", "6位数字"), ("", "6位数字"), (340104, "6位数字"),
    ("990000", "省级部分不存在"), ("349900", "安徽省内无此地级"), ("340199", "合肥市内无此县级"),
    ("110001", "层级不正确"),
])
def test_bad_codes_are_refused_with_a_chinese_reason(code, reason):
    assert reason in regions.region_error(code)


def test_names():
    assert regions.region_name("340104") == "蜀山区"
    assert regions.region_name("340000") == "安徽省"
