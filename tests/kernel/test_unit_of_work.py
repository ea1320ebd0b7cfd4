"""Issue 15: one unit of work (app/db.py). A block commits once or not at all, and what announces a
committed fact (a push, a publish, a cache invalidation) runs only after the outermost commit."""
from __future__ import annotations

import ast
from pathlib import Path

import peewee as pw
import pytest

from app.db import BaseModel, after_commit, db, in_unit_of_work, unit_of_work
from app.features import FEATURES

ROOT = Path(__file__).resolve().parents[2]


class Probe(BaseModel):
    name = pw.CharField(primary_key=True)

    class Meta:
        table_name = "test_uow_probe"


@pytest.fixture
def probe(app):
    with app.app_context(), db.connection_context():
        Probe.create_table(safe=True)
        Probe.delete().execute()
        yield
        Probe.drop_table(safe=True)


def names() -> list[str]:
    return sorted(p.name for p in Probe.select())


def test_commits_then_runs_callbacks_in_order(probe) -> None:
    seen: list[tuple[str, list[str]]] = []
    with unit_of_work() as uow:
        Probe.create(name="a")
        uow.after_commit(lambda: seen.append(("first", names())))
        after_commit(lambda tag: seen.append((tag, names())), "second")
        assert seen == [] and in_unit_of_work()
    assert seen == [("first", ["a"]), ("second", ["a"])]  # each saw the committed row
    assert not in_unit_of_work()


def test_an_error_rolls_back_and_drops_callbacks(probe) -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError):
        with unit_of_work() as uow:
            Probe.create(name="a")
            uow.after_commit(seen.append, "published")
            raise RuntimeError("refused")
    assert names() == [] and seen == []


def test_inner_units_wait_for_the_outermost_commit(probe) -> None:
    seen: list[str] = []
    with unit_of_work():
        with unit_of_work() as inner:
            Probe.create(name="inner")
            inner.after_commit(seen.append, "inner")
        assert seen == []  # the inner block is only a savepoint
        try:
            with unit_of_work() as failed:
                Probe.create(name="failed")
                failed.after_commit(seen.append, "failed")
                raise ValueError
        except ValueError:
            pass
        assert seen == []
    assert names() == ["inner"] and seen == ["inner"]  # the failed savepoint's callback is dropped


def test_without_a_unit_after_commit_runs_at_once(probe) -> None:
    seen: list[str] = []
    after_commit(seen.append, "now")
    assert seen == ["now"]


def test_every_callback_runs_and_the_first_error_is_raised(probe) -> None:
    seen: list[str] = []

    def boom() -> None:
        raise ConnectionError("redis down")

    with pytest.raises(ConnectionError):
        with unit_of_work() as uow:
            Probe.create(name="kept")
            uow.after_commit(boom)
            uow.after_commit(seen.append, "still sent")
    assert names() == ["kept"] and seen == ["still sent"]  # committed: a failed publish does not undo it


def _atomic_uses(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "atomic"
            and isinstance(node.value, ast.Name) and node.value.id == "db"]


def test_no_feature_opens_its_own_transaction() -> None:
    """Features write through unit_of_work(); `db.atomic()` is the kernel's alone (app/db.py)."""
    found = {str(p.relative_to(ROOT)): lines for top in FEATURES for p in sorted((ROOT / top).rglob("*.py"))
             if (lines := _atomic_uses(p))}
    assert found == {}
