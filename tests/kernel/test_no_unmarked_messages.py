"""No Chinese message reaches a client unmarked (issue 15): the catalogue test sees only what is
marked with N_ / T_ / NP_, so a Chinese reason written as a bare literal would be answered in
Chinese under `Accept-Language: en` without any test noticing.

The source of the kernel and of every feature is read as a syntax tree; a string literal with CJK
characters (or an f-string with Chinese text, which no catalogue can hold) in a place where a
message is made — the arguments of a `raise`d exception, a marshmallow `ValidationError`, an
`error=` / `errors=` / `detail=` … argument, an item appended to a list of reasons, errors or
problems — must be inside a marker. Docstrings, comments, log lines, click's CLI messages and
OpenAPI descriptions are not such places. Modules whose messages only the CLI shows are listed
below with their reason.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from app.features import FEATURES

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", *FEATURES)
MARKERS = {"N_", "T_", "NP_"}
MESSAGE_KEYWORDS = {"error", "errors", "error_messages", "detail", "message", "messages", "reason", "reasons"}
LIST_NAMES = re.compile(r"reason|error|problem", re.IGNORECASE)
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Module → why its Chinese reasons are not user-facing (no HTTP answer carries them).
CLI_ONLY = {
    "identity/staff.py": "staff accounts and machine clients are created by `flask staff` / `flask clients` only",
    "app/security/passwords.py": "the staff password rules answer `flask staff create` only",
    "mapsvc/hours.py": "hall hours are parsed by the hall import (`flask halls import`, the demo seeder)",
    "mapsvc/rows.py": "the hall import's row reasons are printed by `flask halls import`",
    "mapsvc/importer.py": "the hall import report is printed by `flask halls import`",
}


def _chinese(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(_CJK.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_chinese(part) for part in node.values)
    return False


def _callee(call: ast.Call) -> str:
    return ast.unparse(call.func)


def _is_marker(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _callee(node).rsplit(".", 1)[-1] in MARKERS


def _unmarked(node: ast.AST):
    """Chinese literals under `node` that no marker call encloses (an f-string always counts)."""
    if isinstance(node, ast.JoinedStr):
        if _chinese(node):
            yield node
        return
    if _chinese(node):
        yield node
        return
    if _is_marker(node):
        for arg in node.args:  # N_(f"…") cannot be catalogued either
            if isinstance(arg, ast.JoinedStr) and _chinese(arg):
                yield arg
        return
    for child in ast.iter_child_nodes(node):
        yield from _unmarked(child)


def _message_sites(tree: ast.AST):
    """Expressions whose strings become messages someone reads."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            if not (isinstance(node.exc, ast.Call) and _callee(node.exc).startswith("click.")):
                yield node.exc
        elif isinstance(node, ast.Call):
            callee = _callee(node)
            if callee.startswith(("click.", "log.", "logger.", "logging.")):
                continue
            if callee.rsplit(".", 1)[-1] in ("ValidationError", "make_error"):
                yield node
            yield from (kw.value for kw in node.keywords if kw.arg in MESSAGE_KEYWORDS)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("append", "extend", "insert") \
                    and LIST_NAMES.search(ast.unparse(node.func.value)):
                yield from node.args


def unmarked_messages(root: Path = ROOT, packages=PACKAGES, skip=CLI_ONLY) -> list[str]:
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative in skip or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
            seen = set()
            for site in _message_sites(tree):
                for literal in _unmarked(site):
                    if id(literal) not in seen:
                        seen.add(id(literal))
                        found.append(f"{relative}:{literal.lineno}: {ast.unparse(literal)[:80]}")
    return sorted(set(found))


def test_every_chinese_message_is_marked():
    found = unmarked_messages()
    assert not found, ("Chinese messages not marked with N_/T_/NP_ (no English under Accept-Language: en; "
                       "mark them and translate them in app/translations/en/LC_MESSAGES/messages.po):\n"
                       + "\n".join(found))


def test_the_check_finds_an_unmarked_reason(tmp_path):
    """The check itself: bare and f-string reasons are found; marked ones, docstrings, logs are not."""
    source = '''
def f(x):
    """说明文字。"""
    log.info("日志")
    reasons.append("不能使用常见的简单密码。")
    reasons.append(N_("不能使用重复或连续的数字。"))
    raise ValueError(f"字符“{x}”无效。")
    raise Problem(errors={"pin": ["须为数字"]})
    raise click.ClickException("只在命令行")
    raise ma.ValidationError(N_("须提供 pin。"))
'''
    package = tmp_path / "feature"
    package.mkdir()
    (package / "mod.py").write_text(source, encoding="utf-8")
    found = unmarked_messages(tmp_path, packages=("feature",), skip={})
    assert [line.split(":")[1] for line in found] == ["5", "7", "8"], found


def test_cli_only_modules_exist():
    assert all((ROOT / module).is_file() for module in CLI_ONLY), "stale entry in CLI_ONLY"
