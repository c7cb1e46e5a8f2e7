"""Column-wise reads and writes between the database and Arrow, through ADBC drivers (C/Go, no
Python loop per row): the rescore reads activities and writes a million score rows with them.

SQLite is dynamically typed and its ADBC driver infers each column's type from the first rows,
so nullable columns are read as `coalesce(col, default)` plus a null mask and rebuilt here.

The ADBC driver links its own copy of SQLite. Two copies of SQLite must never have one database
file open at the same time in one process (POSIX locks are per process: one copy closing the
file drops the other's locks, and the copies do not share their view of the WAL). So `connect`
holds the file's gate alone (`store/sqlite_gate.py`: it waits for other threads' sessions to
end, and no session starts until it is done), and first closes every idle pooled connection of
this process's engines on that file; the calling thread holds no session across it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
from sqlalchemy import BigInteger, Boolean, Connection, Engine, Float, Integer, String
from sqlalchemy.engine import make_url

from karmabank.errors import ConfigError, StoreError
from karmabank.store.engine import close_idle_connections
from karmabank.store.sqlite_gate import gate_for
from karmabank.store.types import UtcTimestamp

_DEFAULTS = {
    pa.int64(): "0",
    pa.int32(): "0",
    pa.float64(): "0.0",
    pa.string(): "''",
    pa.bool_(): "0",
}


@contextmanager
def connect(url: str, engine: Engine | None = None) -> Iterator[Any]:
    """An ADBC DB-API connection to the database at `url` (autocommit off: one transaction
    until `commit()`). Pass the store's `engine` so that its SQLite connections are closed
    first (see the module's docstring)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        with gate_for(str(parsed.database)).exclusive():
            if engine is not None:
                engine.dispose()
            close_idle_connections(str(parsed.database))
            with _sqlite(str(parsed.database)) as conn:
                yield conn
        return
    if backend == "postgresql":
        try:
            import adbc_driver_postgresql.dbapi as pg_adbc
        except ImportError:
            raise ConfigError(
                "PostgreSQL scoring needs the postgres extra: pip install 'karmabank[postgres]'"
            ) from None
        plain = parsed.set(drivername="postgresql")
        conn = pg_adbc.connect(plain.render_as_string(hide_password=False))
    else:
        raise StoreError(f"no column-wise driver for {backend} databases")
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def _sqlite(path: str) -> Iterator[Any]:
    """The ADBC connection to the SQLite file at `path`, its pragmas set (the caller holds the
    file's gate)."""
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    conn = sqlite_adbc.connect(path)
    try:
        # Pragmas like the engine's connections (store/engine.py); `synchronous` cannot change
        # inside a transaction, so autocommit is on while they are set.
        conn.adbc_connection.set_autocommit(True)
        with conn.cursor() as cur:
            for pragma in ("busy_timeout = 30000", "synchronous = NORMAL", "cache_size = -131072"):
                cur.execute(f"PRAGMA {pragma}")
        conn.adbc_connection.set_autocommit(False)
        # Without foreign_keys, though: the rows written here (scores of people taken from
        # activities that reference them) cannot break them, and checking a million costs
        # seconds.
        yield conn
    finally:
        conn.close()


def schema_of(table: Any, names: Sequence[str] | None = None) -> pa.Schema:
    """The Arrow schema that writes exactly `table`'s column types (PostgreSQL's binary COPY
    accepts nothing else: an int64 for an `integer` column is refused)."""
    fields = []
    for c in table.columns:
        if names is not None and c.name not in names:
            continue
        t = c.type
        if isinstance(t, UtcTimestamp | BigInteger):
            arrow = pa.int64()
        elif isinstance(t, Integer):
            arrow = pa.int32()
        elif isinstance(t, Float):
            arrow = pa.float64()
        elif isinstance(t, Boolean):
            arrow = pa.bool_()
        elif isinstance(t, String):
            arrow = pa.string()
        else:
            raise TypeError(f"no Arrow type for {table.name}.{c.name} ({t})")
        fields.append(pa.field(c.name, arrow, nullable=bool(c.nullable)))
    return pa.schema(fields)


def is_sqlite(conn: Any) -> bool:
    return type(conn).__module__.startswith("adbc_driver_sqlite")


def select_sql(conn: Any, table_sql: str, schema: pa.Schema, where: str = "") -> str:
    """SELECT the columns of `schema` from `table_sql`, null-safe for SQLite's type inference."""
    cols = []
    for f in schema:
        if is_sqlite(conn) and f.nullable:
            cols.append(f"coalesce({f.name}, {_DEFAULTS[f.type]}) AS {f.name}")
            cols.append(f"{f.name} IS NULL AS {f.name}__null")
        else:
            cols.append(f.name)
    return f"SELECT {', '.join(cols)} FROM {table_sql} {where}"


def _fix(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    import pyarrow.compute as pc  # here: 50 ms of start-up the small reads skip

    arrays = []
    for f in schema:
        col = batch.column(f.name)
        if f.name + "__null" in batch.schema.names:
            mask = pc.cast(batch.column(f.name + "__null"), pa.bool_())
            col = pc.if_else(mask, pa.scalar(None, f.type), pc.cast(col, f.type))
        arrays.append(pc.cast(col, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def read_batches(
    conn: Any, table_sql: str, schema: pa.Schema, where: str = "", params: Any = None
) -> Iterator[pa.RecordBatch]:
    """Stream `schema`'s columns of `table_sql` as record batches of exactly that schema."""
    with conn.cursor() as cur:
        if is_sqlite(conn):  # the driver's default is 1,024 rows per batch: slow to stitch
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
        cur.execute(select_sql(conn, table_sql, schema, where), params)
        reader = cur.fetch_record_batch()
        for batch in reader:
            if batch.num_rows:
                yield _fix(batch, schema)


def read_table(
    conn: Any, table_sql: str, schema: pa.Schema, where: str = "", params: Any = None
) -> pa.Table:
    """`schema`'s columns of `table_sql`, on an ADBC connection (column-wise: the big reads), or
    on a SQLAlchemy `Connection` (row by row: small reads, in commands that would otherwise
    load the ADBC driver and Arrow's datasets for a few thousand rows)."""
    if isinstance(conn, Connection):
        return _read_rows(conn, select_sql(conn, table_sql, schema, where), schema, params)
    return pa.Table.from_batches(list(read_batches(conn, table_sql, schema, where, params)), schema)


_PYTHON = {pa.bool_(): bool, pa.float64(): float}  # SQLite keeps booleans as 0/1, floats as ints


def _read_rows(conn: Connection, sql: str, schema: pa.Schema, params: Any) -> pa.Table:
    rows = conn.exec_driver_sql(sql, params or ()).all()
    columns = []
    for i, f in enumerate(schema):
        python = _PYTHON.get(f.type)
        values = [r[i] if r[i] is None or python is None else python(r[i]) for r in rows]
        columns.append(pa.array(values, f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def append(conn: Any, table: str, data: pa.Table) -> None:
    """Append `data` to `table` in the connection's open transaction."""
    if data.num_rows == 0:
        return
    with conn.cursor() as cur:
        cur.adbc_ingest(table, data, mode="append")
