"""The English catalogue (issue 15): Chinese is the source language, English the Babel catalogue.

Messages are extracted from the source tree with Babel's own API and babel.cfg (what
`make i18n-extract` runs); each must have a non-empty, non-fuzzy English in
app/translations/en/LC_MESSAGES/messages.po, the catalogue keeps no entry the source no longer
marks, and every AppError subclass's detail is in it.
"""
from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app import i18n
from app.errors import AppError
from tests.fixtures.errors import app_error_classes

ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def _extracted() -> dict[str, list[str]]:
    """msgid → where it is marked, as `pybabel extract -F babel.cfg` finds them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def _english() -> Catalog:
    with i18n.CATALOGUE.open("rb") as po:
        return read_po(po, locale="en")


def _key(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _placeholders(text: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_source_marks_messages():
    assert len(_extracted()) > 300  # labels, error details, field reasons of every feature


def test_every_marked_message_has_its_english():
    catalogue = {_key(m): m for m in _english() if m.id}
    missing = []
    for msgid, where in sorted(_extracted().items()):
        entry = catalogue.get(msgid)
        forms = () if entry is None else entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry is None or entry.fuzzy or not all(form and form.strip() for form in forms):
            missing.append(f"{where[0]}: {msgid}")
    assert not missing, ("messages without English in app/translations/en/LC_MESSAGES/messages.po "
                         "(make i18n-update, then translate):\n" + "\n".join(missing))


def test_no_obsolete_entries():
    english = _english()
    assert not english.obsolete, f"obsolete (#~) entries: {list(english.obsolete)}"
    stale = [_key(m) for m in english if m.id and _key(m) not in _extracted()]
    assert not stale, f"entries no source marks any more (make i18n-update): {stale}"


# Values a caller passes that only the English uses: the Chinese says 2小时 where the English counts
# minutes (appointments.service.cancel); it names the device in Chinese, the English by its
# platform code (notify.service, the new-device notice).
_ENGLISH_ONLY_VALUES = {
    "距预约时段开始已不足{duration}，不能取消。": {"minutes"},
    "您的账号刚在一台新设备（{device}{token}）上开启了消息推送。如果不是您本人操作，请立即在“登录设备”中撤销该登录"
    "（撤销后该设备不再收到消息），或退出所有设备上的登录。": {"platform"},
}


def test_english_uses_only_the_values_the_chinese_has():
    """A placeholder the raise site does not fill would fail at answer time (KeyError)."""
    for message in _english():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        allowed = set().union(*(_placeholders(text) for text in ids), _ENGLISH_ONLY_VALUES.get(_key(message), set()))
        for form in forms:
            assert _placeholders(form) <= allowed, (message.id, form)


def test_every_app_error_detail_is_in_the_catalogue():
    classes = [AppError, *app_error_classes()]
    unmarked = [f"{c.__module__}.{c.__qualname__}" for c in classes if c.detail not in _extracted()]
    untranslated = [f"{c.__module__}.{c.__qualname__}" for c in classes if i18n.english(c.detail) is None]
    assert not unmarked, f"details not marked with N_: {unmarked}"
    assert not untranslated, f"details without English: {untranslated}"
