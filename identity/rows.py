"""Prepared INSERTs of the identity tables (split out of identity/models.py)."""
from __future__ import annotations

from app.db import BaseModel, execute


def _prepared_insert(model: type[BaseModel], names: tuple[str, ...]):
    """An INSERT of these fields written once, and a function of their values (in that order) that
    runs it: the login's rows are written without building model instances nobody reads back."""
    fields = [model._meta.fields[name] for name in names]
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        model._meta.table_name, ", ".join(f'"{f.column_name}"' for f in fields), ", ".join("?" * len(fields)))
    to_db = tuple(f.db_value for f in fields)

    def insert(*values) -> None:
        execute(sql, [convert(value) for convert, value in zip(to_db, values)])
    return insert
