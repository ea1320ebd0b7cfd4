"""Rows on the wallet's hot paths (亮证, 柜台核验): statements built once, by name, and model
instances made from a row without peewee's per-field `__set__` (cf. `app.db` select_where and
insert_row, which this follows)."""
from __future__ import annotations

import peewee as pw

from app.db import execute

HOT_SQL: dict[str, str] = {}  # statements built once, by name


def built(model: type[pw.Model], values: tuple) -> pw.Model:
    """A model instance from a row of its `sorted_fields` columns (as `app.db.select_where` builds it)."""
    row = model(__no_default__=True)
    row.__data__ = {f.name: f.python_value(v) for f, v in zip(model._meta.sorted_fields, values)}
    return row


def insert(model: type[pw.Model], **values) -> None:
    """INSERT one row of these values (every column named: no defaults filled in), without building a
    model instance; the statement is built once per model and column list."""
    fields = model._meta.fields
    key = f"insert:{model._meta.table_name}:{','.join(values)}"
    sql = HOT_SQL.get(key)
    if sql is None:
        columns = ", ".join(f'"{fields[name].column_name}"' for name in values)
        # raw SQL, built once (cf. app.db.insert_row)
        sql = HOT_SQL[key] = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({", ".join("?" * len(values))})'
    execute(sql, [fields[name].db_value(value) for name, value in values.items()])
