"""Writing and reading many rows fast: one prepared statement, the driver's executemany, the columns' own types.

SQLAlchemy's executemany processes every parameter of every row through several layers; for a push
of 100,000 warnings that is most of the import's time. Here each column's bind processor (the same
one SQLAlchemy would use: UTC times, enums, JSON, protected numbers) runs once per distinct value of
a batch, column by column, and the rows go to the driver as plain tuples. Defaults of columns a row
leaves out are filled as Core would. `reserve_ids` hands out primary keys before the insert, so
nothing has to be read back; `in_values` asks about 100,000 keys in one statement.
"""
import gc
import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from functools import wraps
from itertools import chain, islice
from operator import itemgetter

from sqlalchemy import ARRAY, ColumnElement, Table, any_, bindparam, func, insert, select, text

from ..extensions import db

BATCH = 10_000


def bulk_insert(table: Table, rows: Iterable[dict]) -> None:
    """INSERT every row (all with the same keys) in the current transaction. Rows may come from a
    generator: they are consumed a batch at a time, so a push never holds all its row dicts at once.
    On PostgreSQL a big batch goes in by COPY (see _copy)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    keys = list(first)
    values_of = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
    bulk_insert_rows(table, keys, map(values_of, chain([first], rows)))


def bulk_insert_rows(table: Table, keys: Sequence[str], rows: Iterable[tuple],
                     written: Callable[[int], None] | None = None) -> None:
    """bulk_insert for rows given as tuples of the columns `keys`, in that order: what a big write builds, since
    a tuple costs a fraction of a dict with the same values and is split into columns in one step. `written(rows
    so far)` is told after each batch (a job's progress)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    rows = chain([first], rows)
    conn = db.session.connection()
    dialect = conn.dialect
    keys = list(keys)
    defaults = {c.key: (c.default.arg(None) if c.default.is_callable else c.default.arg)
                for c in table.c if c.key not in keys and c.default is not None and not c.primary_key}
    columns = keys + list(defaults)
    binders = [_column_binder(table.c[k].type, dialect) for k in columns]
    copy = dialect.name == "postgresql"
    if copy:  # COPY takes the columns in their own order
        preparer = dialect.identifier_preparer
        names = ", ".join(preparer.quote(table.c[k].name) for k in columns)
        statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    # a column NULL in every row of a batch is left out of its INSERT, which stores the same NULL: binding a None
    # costs sqlite3 seven times an integer (it looks for an adapter first), and a push's warnings leave three of
    # their columns empty on every row. Only a nullable column with no default of its own (a default would store
    # something else).
    may_leave_out = {i for i, k in enumerate(columns) if table.c[k].nullable and not table.c[k].primary_key
                     and table.c[k].default is None and table.c[k].server_default is None}
    inserts: dict[tuple[int, ...], tuple[str, list[int], bool]] = {}
    width = len(keys)
    done = 0
    while batch := list(islice(rows, BATCH)):
        done += len(batch)
        given = list(zip(*batch, strict=True))
        values = [binders[i](given[i] if i < width else [defaults[name]] * len(batch))
                  for i, name in enumerate(columns)]
        if copy and len(batch) >= COPY_MIN_ROWS:
            _copy(conn, statement, list(zip(*values, strict=True)))
        else:
            kept = tuple(i for i, column in enumerate(values)
                         if i not in may_leave_out or column.count(None) != len(column))
            if kept not in inserts:
                inserts[kept] = _insert_for(table, [columns[i] for i in kept], dialect)
            sql, order, positional = inserts[kept]
            params = list(zip(*(values[kept[i]] for i in order), strict=True))
            if not positional:
                params = [dict(zip((columns[i] for i in kept), p, strict=True)) for p in params]
            conn.exec_driver_sql(sql, params)
        if written is not None:
            written(done)


def _insert_for(table: Table, columns: list[str], dialect) -> tuple[str, list[int], bool]:
    """The INSERT of `columns` into `table` for the driver: its SQL, the order its parameters take (indexes into
    `columns`), and whether they are positional (else named)."""
    compiled = insert(table).compile(dialect=dialect, column_keys=columns)
    if compiled.positional:
        return compiled.string, [columns.index(name) for name in compiled.positiontup], True
    return compiled.string, list(range(len(columns))), False


#: On PostgreSQL a batch of this many rows or more goes in by COPY (a push); fewer, by executemany.
COPY_MIN_ROWS = 500


def _copy(conn, statement: str, rows: list[tuple]) -> None:
    """The rows by PostgreSQL's COPY through psycopg 3, in the session's transaction: what the INSERT would store
    (the same values, adapted by the same driver), with the same checks (a unique or foreign key violated fails
    the statement, and the push rolls back whole), several times faster than one INSERT per row."""
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def _column_binder(type_, dialect):
    """A function from a column's Python values to what the driver takes, for a whole batch at once.

    Protected numbers are encrypted one by one (every ciphertext must differ); any other processor
    runs once per distinct value: a push repeats the same times, tiers and flags on every row."""
    many = getattr(type_, "bind_many", None)
    if many is not None:
        return many
    own = getattr(type_, "bulk_bind_processor", None)  # a type's cheaper processor for bulk writes, if it has one
    process = (own and own(dialect)) or type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return _unchanged

    def bind(values: list) -> list:
        try:
            memo = {v: (None if v is None else process(v)) for v in set(values)}
            return list(map(memo.__getitem__, values))
        except TypeError:  # lists (JSON): remembered by their items when those can be
            pass
        try:
            keys = [(list, *v) if v.__class__ is list else v for v in values]
            memo = {}
            for key, value in zip(keys, values, strict=True):
                if key not in memo:
                    memo[key] = None if value is None else process(value)
            return list(map(memo.__getitem__, keys))
        except TypeError:  # dicts, nested lists: no memory
            return [None if v is None else process(v) for v in values]
    return bind


def _unchanged(values: list) -> list:
    return values


@contextmanager
def page_cache(megabytes: int):
    """A larger SQLite page cache for one big write: inserting 100,000 rows into indexes keyed by random
    hashes touches pages all over each index, and re-reading them from the OS costs more than the
    inserts. Restored afterwards, so a web worker's connections stay small. Nothing on PostgreSQL."""
    conn = db.session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{int(megabytes) * 1024}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


#: A write of fewer rows than this keeps the indexes as they are (see indexes_built_after).
REBUILD_MIN_ROWS = 10_000
#: A table's indexes that indexes_built_after drops and builds again (name, CREATE statement): its secondary ones,
#: never a unique one (bench/import_push.py replays an import with the same).
REBUILT_INDEXES = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
                   "AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name")


@contextmanager
def indexes_built_after(tables: Sequence[Table], rows: int):
    """Write `rows` rows into `tables` without their secondary indexes, and build those indexes afterwards, in the
    same transaction (SQLite's DDL is transactional: a push rolled back leaves every index as it was). Only on
    SQLite, and only for a table holding fewer rows than the write brings (a first import, a push bigger than the
    database): there one sort per index afterwards costs less than keeping each index in order row by row; into a
    big table it costs more, and the table keeps its indexes. Unique indexes always stay: they are the checks.
    Afterwards the same indexes exist, made by their own CREATE statements."""
    conn = db.session.connection()
    if conn.dialect.name != "sqlite" or rows < REBUILD_MIN_ROWS:
        yield
        return
    dropped: list[str] = []
    for table in tables:
        pk = table.primary_key.columns.values()[0]
        if (conn.execute(select(func.coalesce(func.max(pk), 0))).scalar_one() or 0) >= rows:
            continue
        for name, sql in conn.exec_driver_sql(REBUILT_INDEXES, (table.name,)).all():
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
            dropped.append(sql)
    yield  # an error inside is followed by the caller's rollback, which brings the indexes back with the rest
    for sql in dropped:
        conn.exec_driver_sql(sql)


def gc_paused(work):
    """Run `work` with the cyclic garbage collector paused. A push builds a few hundred thousand objects that
    all stay alive until it is written; the collector would walk them again and again for nothing (a
    third of judging 100,000 rows). Nothing it would free is lost: it runs again afterwards."""
    @wraps(work)
    def paused(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return work(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()
    return paused


def reserve_ids(table: Table, count: int) -> Sequence[int]:
    """`count` new primary keys for `table`, so bulk inserts need not read their rows back.

    SQLite: the rows after the current maximum; the transaction already holds the write lock (imports
    write their push first, and write requests begin IMMEDIATE), so no one else can take them.
    PostgreSQL: values drawn from the column's sequence, as the inserts themselves would have drawn.
    """
    if count <= 0:
        return []
    conn = db.session.connection()
    pk = table.primary_key.columns.values()[0]
    if conn.dialect.name == "postgresql":
        return conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, :c)) FROM generate_series(1, :n)"),
                            {"t": table.name, "c": pk.name, "n": count}).scalars().all()
    start = conn.execute(select(func.coalesce(func.max(pk), 0))).scalar_one() + 1
    return range(start, start + count)


def in_values(column, values: Iterable) -> ColumnElement[bool]:
    """`column IN values` as one bound parameter however many values there are (an IN list of 100,000
    would need 100,000 parameters, more than SQLite allows, and compiling them costs seconds)."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    table = func.json_each(bindparam(None, json.dumps(values, ensure_ascii=False))).table_valued("value")
    return column.in_(select(table.c.value))
