"""Languages of the answers people read: zh-CN by default, English on `Accept-Language: en`.

Stable codes are the keys: an error's `code`, a licence status `"01"`, a case status
`"in_review"`. Codes and field names never change with the language; only the sentences and
labels do.

Chinese is the source language: code writes its sentences and labels in Chinese, marked with
`N_("…")` (values as named placeholders: `N_("只能查看{first:%Y年%m月%d日}起的时段。", first=day)`;
a phrase put into another message: `T_("…")`; a count that English inflects:
`NP_(singular, plural, n)`). Their English lives in the Babel
catalogue app/translations/en/LC_MESSAGES/messages.po (msgid Chinese, msgstr English), extracted
with pybabel (`make i18n-extract`, `make i18n-update`; babel.cfg) and read once at startup; an
answer's text is put into its language with `translate`. tests/kernel/test_catalogue.py fails
when a marked message has no English.
"""
from __future__ import annotations

import re
import string
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context, request

ZH = "zh-CN"
EN = "en"
DEFAULT = ZH
LANGUAGES = (ZH, EN)
CATALOGUE = Path(__file__).parent / "translations" / "en" / "LC_MESSAGES" / "messages.po"

_override: ContextVar[str | None] = ContextVar("yiwang_language", default=None)
_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*")
_Q = re.compile(r"q\s*=\s*([01](?:\.\d{0,3})?)\s*$", re.IGNORECASE)
_MAX_HEADER = 512  # a longer header is cut, not parsed in full: it costs nothing to refuse


def negotiate(header: str | None) -> str:
    """The answer's language for an `Accept-Language` value (RFC 9110 §12.5.4, quality values).

    The supported language with the highest weight wins (ties: the earlier entry); `en`, `en-US`,
    `en-GB;q=0.9` mean English, `zh`, `zh-CN`, `zh-Hant` Chinese; `*`, a missing header, weight 0
    and anything unparseable fall back to zh-CN. Never raises."""
    if not header or not isinstance(header, str):
        return DEFAULT
    best, best_q = DEFAULT, -1.0
    for item in header[:_MAX_HEADER].split(","):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not _TAG.fullmatch(tag):
            continue
        q = _quality(params)
        if q <= 0:
            continue
        primary = tag.split("-", 1)[0].lower()
        language = EN if primary == "en" else ZH if primary in ("zh", "*") else None
        if language is not None and q > best_q:
            best, best_q = language, q
    return best


def _quality(params: str) -> float:
    if not params.strip():
        return 1.0
    for param in params.split(";"):
        if param.strip().lower().startswith("q"):
            match = _Q.fullmatch(param.strip())
            return float(match.group(1)) if match and float(match.group(1)) <= 1 else 0.0
    return 1.0


def language() -> str:
    """The language of the answer being built: an explicit `use()` block, else the request's
    `Accept-Language`, else zh-CN (CLI, background tasks)."""
    chosen = _override.get()
    if chosen is not None:
        return chosen
    if not has_request_context():
        return DEFAULT
    found = g.get("language")
    if found is None:
        found = g.language = negotiate(request.headers.get("Accept-Language"))
    return found


def is_english() -> bool:
    return language() == EN


@contextmanager
def use(lang: str) -> Iterator[None]:
    """Answer in `lang` inside the block — for work done off the request's thread (e.g. the
    parts of a screen fetched concurrently), which cannot see the request's headers."""
    token = _override.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _override.reset(token)


def pick(zh: str, en: str | None) -> str:
    """`en` when the answer is English and there is an English text, else `zh` (a notice that
    carries its English in its data)."""
    return en if en and is_english() else zh


# --- Marking messages; the catalogue ---------------------------------------------------------------

class Text(str):
    """A marked message with its values: reads as the Chinese; `translate` renders the same
    template's English with the same values (a value that is itself a Text is translated too;
    a `Series` joins with the separator its placeholder names, e.g. `{tags:、}` / `{tags:, }`)."""

    msgid: str
    plural: str | None
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any], plural: str | None = None) -> Text:
        made = super().__new__(cls, _format(msgid, params, ZH))
        made.msgid, made.plural, made.params = msgid, plural, params
        return made

    def __reduce__(self):  # copies and pickles keep the template
        return Text, (self.msgid, self.params, self.plural)


class Words(Text):
    """Words kept as data in both languages (a catalogue row's zh/en names, e.g. a matter's): put into
    a message like a `T_` word; their English is their own, not the catalogue's."""

    en: str | None

    def __new__(cls, zh: str, en: str | None) -> Words:
        made = super().__new__(cls, zh, {})
        made.en = en or None
        return made

    def __reduce__(self):
        return Words, (self.msgid, self.en)


class Series(tuple):
    """Values listed in a message; the placeholder's format spec is the separator."""

    def __format__(self, separator: str) -> str:
        return (separator or ", ").join(map(str, self))


def N_(msgid: str, /, **params: Any) -> str:
    """Mark `msgid` (Chinese) for the catalogue; with values, a `Text` that formats them."""
    return Text(msgid, params) if params else msgid


def NP_(singular: str, plural: str, n: int, /, **params: Any) -> Text:
    """A message whose English depends on the count `n` (msgid_plural in the catalogue); Chinese
    has one form, the singular's."""
    return Text(singular, {"n": n, **params}, plural)


def T_(msgid: str, /) -> Text:
    """Mark `msgid` and keep it a Text: a word or phrase put into another message (or chosen from
    several), translated with it."""
    return Text(msgid, {})


def _format(template: str, params: Mapping[str, Any], lang: str) -> str:
    if not params:
        return template
    return template.format(**{k: _value(v, lang) for k, v in params.items()})


def _value(value: Any, lang: str) -> Any:
    if isinstance(value, Text):
        return render(value, lang)
    if isinstance(value, Series):
        return Series(_value(item, lang) for item in value)
    return value


@lru_cache(maxsize=1)
def catalogue() -> dict[str, str | tuple[str, ...]]:
    """msgid → English (a tuple of forms for a plural), from the .po: translated, not fuzzy."""
    with CATALOGUE.open("rb") as po:
        messages = read_po(po, locale="en")
    english: dict[str, str | tuple[str, ...]] = {}
    for message in messages:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            if all(message.string):
                english[message.id[0]] = tuple(message.string)
        elif message.string:
            english[message.id] = message.string
    return english


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern[str], list[str], str]]:
    """Catalogued messages with values, as patterns: a text formatted from one before it reached
    us as a plain string (e.g. by marshmallow's validators) still finds its English."""
    found = []
    for msgid, english in catalogue().items():
        if "{" not in msgid or not isinstance(english, str):
            continue
        parts = list(string.Formatter().parse(msgid))
        literal = "".join(text for text, *_ in parts)
        if len(literal) < 2:
            continue
        pattern = "".join(re.escape(text) + ("(.+?)" if name is not None else "") for text, name, *_ in parts)
        found.append((len(literal), re.compile(pattern, re.DOTALL), [name for _, name, *_ in parts if name], english))
    found.sort(key=lambda entry: -entry[0])
    return [entry[1:] for entry in found]


def english(text: Any) -> str | None:
    """The catalogue's English of a Chinese message (plain, a Text, or formatted from a catalogued
    template), None when it has none."""
    if isinstance(text, Words):
        return text.en
    if isinstance(text, Text):
        forms = catalogue().get(text.msgid)
        if forms is None:
            return None
        if isinstance(forms, tuple):
            forms = forms[0 if text.params.get("n") == 1 else -1]
        return _format(forms, text.params, EN)
    if not isinstance(text, str):
        return None
    found = catalogue().get(text)
    if isinstance(found, str):
        return found
    for pattern, names, template in _templates():
        match = pattern.fullmatch(text)
        if match:
            try:
                return template.format(**dict(zip(names, match.groups())))
            except (ValueError, KeyError, IndexError):
                continue  # a placeholder with a format spec needs the value itself, not its text
    return None


def render(text: str, lang: str) -> str:
    """`text` in `lang`: the catalogue's English, or the Chinese when it has none."""
    if lang == EN:
        found = english(text)
        if found is not None:
            return found
    return str(text) if isinstance(text, Text) else text


def translate(text: Any) -> Any:
    """A message (or a list/dict of them, e.g. the `errors` map of a 422) in the answer's language."""
    if isinstance(text, str):
        return render(text, language())
    if isinstance(text, list):
        return [translate(t) for t in text]
    if isinstance(text, dict):
        return {k: translate(v) for k, v in text.items()}
    return text


def in_english(**texts: str) -> dict[str, str]:
    """`<name>_en` → each text's English from the catalogue: for a notice, which carries its English
    in its data (the inbox shows it on `Accept-Language: en`), e.g. `in_english(title=t, body=b)`."""
    return {f"{name}_en": render(text, EN) for name, text in texts.items()}


# --- Labels: stable code → words, per kind -------------------------------------------------------

_LABELS: dict[str, Mapping[Any, str]] = {}


def register_labels(kind: str, zh: Mapping[Any, str]) -> None:
    """Make `label(kind, code)` answer from this table of Chinese labels (marked with N_; the
    feature keeps it, we keep a reference); their English comes from the catalogue."""
    _LABELS[kind] = zh


def label(kind: str, code: Any) -> Any:
    """The label of `code` in the answer's language; the Chinese label when there is no English
    one; the code itself when it has no label at all (None stays None)."""
    if code is None:
        return None
    chinese = _LABELS[kind].get(code)
    if chinese is None:
        return code
    return translate(chinese)


# --- Response headers ------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    """The catalogue is read at startup; every JSON answer names its language and tells caches it
    depends on Accept-Language."""
    catalogue()

    @app.after_request
    def _content_language(response):
        mimetype = response.mimetype or ""
        if mimetype == "application/json" or mimetype.endswith("+json") or response.status_code == 304:
            headers = response.headers
            headers["Content-Language"] = language()
            if "Vary" in headers:
                response.vary.add("Accept-Language")
            else:  # what vary.add writes when there is no Vary yet (the usual case), without parsing one
                headers["Vary"] = "Accept-Language"
        return response
