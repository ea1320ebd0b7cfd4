"""The house keeps modules at or under 400 lines, split at their seams: the pages' browser modules too
(the H5 client under bff/static/h5, the counter page under wallet/static/counter, the pages' shared
app/static/web). A module past the limit is named with its count; a known exception says why it is
still over and must be removed from KNOWN once it is split (the test fails when it no longer is)."""
from __future__ import annotations

from pathlib import Path


ROOT = Path(__file__).parents[2]
FOLDERS = ("bff/static/h5", "wallet/static/counter", "app/static/web")
LIMIT = 400
KNOWN: dict[str, str] = {}  # module → why it is still over (none now: views/signing.js is split)


def lines(name: str) -> int:
    return len((ROOT / name).read_text(encoding="utf-8").splitlines())


MODULES = sorted(p.relative_to(ROOT).as_posix() for folder in FOLDERS for p in (ROOT / folder).rglob("*.js"))


def test_the_folders_hold_modules():
    for folder in FOLDERS:
        assert any(name.startswith(folder + "/") for name in MODULES), folder


def test_every_browser_module_is_at_most_400_lines():
    over = {name: lines(name) for name in MODULES if name not in KNOWN and lines(name) > LIMIT}
    assert not over, "over %d lines (split at a seam): %s" % (
        LIMIT, ", ".join(f"{name} ({count} lines)" for name, count in over.items()))


def test_each_known_exception_is_still_over():
    """An exception is kept only while it holds: once the module is split, remove it from KNOWN."""
    for name, why in KNOWN.items():
        assert (ROOT / name).is_file(), f"{name} is gone: remove it from KNOWN"
        count = lines(name)
        assert count > LIMIT, f"{name} is {count} lines now (≤ {LIMIT}): remove it from KNOWN ({why})"
