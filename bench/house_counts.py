"""The house counts of issue 15 ("One house"), measured before and after the refactor.

    .venv/bin/python bench/house_counts.py

Prints one table, read from the source (AST), nothing imported or run:
- raw SQL strings outside `models.py` (and the `*_models.py` of rooms still hidden in another
  feature) and `migrations/`: string literals that start with SELECT / INSERT / UPDATE / DELETE /
  WITH in capitals (the text handed to `execute` / `execute_sql`; docstrings aside), and how many
  carry their reason (`# raw SQL: …` on the line or the two above it);
- `atomic()` blocks outside the kernel (`with ….atomic():` or `@….atomic()`; the kernel is
  `app/` without `identity`), and in the whole tree;
- function-level imports (`import` / `from … import` inside a function), and how many of them carry
  their reason (`# import here: …` on the line);
- modules over 400 lines;
- the largest room: lines per top-level package, `identity` apart from the kernel.
"""

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "identity", "wallet", "signing", "mapsvc", "appointments", "cases", "notify", "proxies", "bff")
LIMIT = 400
SQL = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\s")


def room_of(path: Path) -> str:
    rel = path.relative_to(ROOT).parts
    if rel[:2] == ("app", "identity"):  # before issue 15 identity lived inside the kernel
        return "identity"
    return "app (kernel)" if rel[0] == "app" else rel[0]


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def is_atomic(call: ast.AST) -> bool:
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "atomic")


def count_file(path: Path) -> Counter:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    counts: Counter = Counter(lines=len(source.splitlines()))
    skip = docstrings(tree)
    in_models = path.name == "models.py" or path.name.endswith("_models.py")
    parts_in_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    lines = source.splitlines()
    for node in ast.walk(tree):
        if not in_models and id(node) not in skip and id(node) not in parts_in_fstrings:
            text = literal_text(node)
            if text is not None and SQL.match(text):
                counts["raw_sql"] += 1
                near = " ".join(lines[max(0, node.lineno - 3):node.lineno])  # the line or the two above it
                counts["raw_sql_with_reason"] += "raw SQL:" in near
        if isinstance(node, (ast.With, ast.AsyncWith)):
            counts["atomic"] += sum(is_atomic(item.context_expr) for item in node.items)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            counts["atomic"] += sum(is_atomic(d) for d in node.decorator_list)
    for lineno in _function_imports(tree, inside=False):
        counts["function_imports"] += 1
        counts["function_imports_with_reason"] += "import here:" in lines[lineno - 1]
    return counts


def _function_imports(node: ast.AST, inside: bool) -> list[int]:
    """Lines of `import` statements that run when a function is called, not when the module loads."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [node.lineno] if inside else []
    inside = inside or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
    return [line for child in ast.iter_child_nodes(node) for line in _function_imports(child, inside)]


def main() -> None:
    rooms: Counter = Counter()
    totals: Counter = Counter()
    atomic_files = set()
    big = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            counts = count_file(path)
            room = room_of(path)
            rooms[room] += counts["lines"]
            totals["raw_sql"] += counts["raw_sql"]
            totals["raw_sql_with_reason"] += counts["raw_sql_with_reason"]
            totals["function_imports"] += counts["function_imports"]
            totals["function_imports_with_reason"] += counts["function_imports_with_reason"]
            totals["atomic_all"] += counts["atomic"]
            if counts["atomic"]:
                atomic_files.add(path)
            if room != "app (kernel)":
                totals["atomic_outside_kernel"] += counts["atomic"]
            if counts["lines"] > LIMIT:
                big.append((counts["lines"], str(path.relative_to(ROOT))))
    tests = Counter()
    for path in sorted((ROOT / "tests").rglob("*.py")):
        counts = count_file(path)
        tests["function_imports"] += counts["function_imports"]
        tests["over_limit"] += counts["lines"] > LIMIT
    largest, largest_lines = rooms.most_common(1)[0]
    rows = [
        ("raw SQL strings outside models/migrations", totals["raw_sql"]),
        ("  of which with their reason written", totals["raw_sql_with_reason"]),
        ("atomic() blocks outside the kernel", totals["atomic_outside_kernel"]),
        (f"atomic() blocks, whole tree ({len(atomic_files)} files)", totals["atomic_all"]),
        ("function-level imports (packages)", totals["function_imports"]),
        ("  of which with their reason written", totals["function_imports_with_reason"]),
        ("function-level imports (tests/)", tests["function_imports"]),
        (f"modules over {LIMIT} lines (packages)", len(big)),
        (f"modules over {LIMIT} lines (tests/)", tests["over_limit"]),
        (f"largest room: {largest}", largest_lines),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'count':<{width}}  value")
    for label, value in rows:
        print(f"{label:<{width}}  {value:>5}")
    print()
    print(f"{'lines per room':<{width}}  value")
    for room, lines in rooms.most_common():
        print(f"{room:<{width}}  {lines:>5}")
    if big:
        print()
        print(f"modules over {LIMIT} lines")
        for lines, name in sorted(big, reverse=True):
            print(f"  {lines:>5}  {name}")


if __name__ == "__main__":
    main()
