"""Inserting many rows fast: one prepared statement, the driver's executemany, the columns' own types.

SQLAlchemy's executemany processes every parameter of every row through several layers; for a push
of 100,000 warnings that is most of the import's time. Here each column's bind processor (the same
one SQLAlchemy would use: UTC times, enums, JSON, protected numbers) runs once per value, and the
rows go to the driver as plain tuples. Defaults of columns a row leaves out are filled as Core would.
"""
from collections.abc import Iterable
from itertools import chain, islice

from sqlalchemy import Table, insert

from .extensions import db
from .pii import Protected

BATCH = 20_000


def bulk_insert(table: Table, rows: Iterable[dict]) -> None:
    """INSERT every row (all with the same keys) in the current transaction. Rows may come from a
    generator: they are consumed a batch at a time, so a push never holds all its row dicts at once."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    rows = chain([first], rows)
    conn = db.session.connection()
    dialect = conn.dialect
    keys = list(first)
    defaults = {c.key: (c.default.arg(None) if c.default.is_callable else c.default.arg)
                for c in table.c if c.key not in keys and c.default is not None and not c.primary_key}
    columns = keys + list(defaults)
    compiled = insert(table).compile(dialect=dialect, column_keys=columns)
    processors = [_processor(table.c[k].type, dialect) for k in columns]
    order = [columns.index(name) for name in compiled.positiontup] if compiled.positional else None
    fill = tuple(defaults.values())
    while True:
        batch = []
        for row in islice(rows, BATCH):
            values = [row[k] for k in keys]
            values.extend(fill)
            values = [p(v) if p is not None and v is not None else v for p, v in zip(processors, values, strict=True)]
            batch.append(tuple(values[i] for i in order) if order is not None else dict(zip(columns, values,
                                                                                             strict=True)))
        if not batch:
            return
        conn.exec_driver_sql(compiled.string, batch)


def _processor(type_, dialect):
    """The column type's bind processor, remembering its answer per distinct value: a push repeats the same
    times, tiers and flags on every row. Never for protected numbers, whose every encryption must differ."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None or isinstance(type_, Protected):
        return process
    memo: dict = {}

    def remembered(value):
        key = (type(value), tuple(value) if isinstance(value, list) else value)
        try:
            return memo[key]
        except KeyError:
            result = memo[key] = process(value)
            return result
        except TypeError:  # unhashable (a dict): no memory
            return process(value)
    return remembered
