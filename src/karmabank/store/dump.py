"""Consistent copies of a database, for backups: each read at one moment while the app may be
writing, with the schema revision and every table's row count seen at that same moment.

- `sqlite_copy`: SQLite's online backup API (`sqlite3.Connection.backup`, in one step: one
  read transaction), into a single file (rollback journal, no `-wal` beside it).
- `write_portable`: one Parquet file per table, read in one transaction (SQLite: one read
  transaction; PostgreSQL: REPEATABLE READ, READ ONLY) through ADBC (`store/arrow_io.py`).
  Any table the database holds is copied (the columns as the database declares them); the
  columnar copy and the snapshot beside it are not: they are rebuilt from the tables.
- `write_pg_dump`: `pg_dump -Fc` on the snapshot of a REPEATABLE READ transaction that counted
  the rows (`pg_export_snapshot`), when the PostgreSQL client binaries are installed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, MetaData, Table
from sqlalchemy.engine import make_url

from karmabank.errors import BackupError, StoreError
from karmabank.store import arrow_io

VERSION_TABLE = "alembic_version"
PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"),)  # beside the PATH
_ROW_GROUP = 1 << 20


def user_tables(engine: Engine) -> list[Table]:
    """The database's own tables as it declares them (reflected: whatever its schema revision),
    parents before children, without Alembic's version table."""
    meta = MetaData()
    meta.reflect(engine)
    return [t for t in meta.sorted_tables if t.name != VERSION_TABLE]


def archive_schema(table: Table) -> pa.Schema:
    """The Arrow schema a table is archived with: its columns, every integer as int64 (SQLite's
    integers are all 64-bit; a restore casts to the target's own widths)."""
    schema = arrow_io.schema_of(table)
    return pa.schema(
        [f.with_type(pa.int64()) if pa.types.is_integer(f.type) else f for f in schema]
    )


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def count_rows(cur: Any, names: list[str]) -> dict[str, int]:
    counts = {}
    for name in names:
        cur.execute(f"SELECT count(*) FROM {quoted(name)}")
        counts[name] = int(cur.fetchone()[0])
    return counts


def revision_of(cur: Any) -> str:
    try:
        cur.execute(f"SELECT version_num FROM {VERSION_TABLE}")
        row = cur.fetchone()
    except Exception:  # no version table: the drivers' errors differ
        row = None
    if not row:
        raise StoreError("not a karmabank database (no schema revision): nothing to back up")
    return str(row[0])


# -- SQLite: the online backup API -----------------------------------------------------------
def sqlite_copy(path: Path, dest: Path) -> tuple[str, dict[str, int]]:
    """A consistent copy of the SQLite database at `path` in the file `dest`; the revision and
    counts are read from the copy (so they are the copy's, exactly)."""
    source = sqlite3.connect(path, timeout=30)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one file: no -wal to carry
            cur = target.cursor()
            revision = revision_of(cur)
            names = [
                str(r[0])
                for r in cur.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%' AND name <> ? ORDER BY name",
                    (VERSION_TABLE,),
                )
            ]
            return revision, count_rows(cur, names)
        finally:
            target.close()
    finally:
        source.close()


# -- the portable archive: one Parquet file per table -----------------------------------------
@contextmanager
def snapshot(url: str, engine: Engine | None) -> Iterator[Any]:
    """An ADBC cursor inside one read transaction: every read through it sees one moment."""
    with arrow_io.connect(url, engine) as conn:
        conn.adbc_connection.set_autocommit(True)
        with conn.cursor() as cur:
            if arrow_io.is_sqlite(conn):
                cur.execute("BEGIN")
            else:
                cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield conn, cur
            finally:
                cur.execute("ROLLBACK")


def write_portable(url: str, engine: Engine, folder: Path) -> tuple[str, dict[str, int]]:
    """Every table of the database at `url` as `folder/<table>.parquet`, all read in one
    transaction; returns the schema revision and the row counts seen in it."""
    import pyarrow.parquet as pq

    tables = user_tables(engine)
    folder.mkdir(parents=True, exist_ok=True)
    with snapshot(url, engine) as (conn, cur):
        revision = revision_of(cur)
        counts = count_rows(cur, [t.name for t in tables])
        for table in tables:
            schema = archive_schema(table)
            rows = 0
            with pq.ParquetWriter(
                folder / f"{table.name}.parquet", schema, compression="zstd"
            ) as out:
                for batch in arrow_io.read_batches(conn, quoted(table.name), schema):
                    out.write_batch(batch, row_group_size=_ROW_GROUP)
                    rows += batch.num_rows
            if rows != counts[table.name]:  # cannot happen in one transaction: a bug if it does
                raise RuntimeError(f"{table.name}: read {rows} rows of {counts[table.name]}")
    return revision, counts


# -- PostgreSQL: pg_dump ---------------------------------------------------------------------
def pg_binary(name: str) -> Path | None:
    """`pg_dump` or `pg_restore`, from the PATH or PostgreSQL's own folder."""
    found = shutil.which(name)
    if found:
        return Path(found)
    for folder in PG_BIN_DIRS:
        if (folder / name).is_file():
            return folder / name
    return None


@contextmanager
def libpq_target(url: str) -> Iterator[str]:
    """A libpq URL for the client binaries; the password, if any, goes in a password file only
    this process can read (`passfile=`), removed afterwards (an argument would show in `ps`)."""
    import tempfile

    parsed = make_url(url)
    plain = parsed.set(drivername="postgresql", password=None)
    if not parsed.password:
        yield plain.render_as_string(hide_password=False)
        return
    with tempfile.TemporaryDirectory(prefix="karmabank-pg-") as tmp:
        passfile = Path(tmp) / "pgpass"
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        esc = str(parsed.password).replace("\\", "\\\\").replace(":", "\\:")
        with os.fdopen(fd, "w") as f:
            f.write(f"*:*:*:*:{esc}\n")
        with_file = plain.update_query_dict({"passfile": str(passfile)})
        yield with_file.render_as_string(hide_password=False)


def write_pg_dump(url: str, binary: Path, dest: Path) -> tuple[str, dict[str, int]]:
    """`pg_dump -Fc` of the database at `url` into `dest`, taken on the snapshot in which the
    revision and the counts were read."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, libpq_target(url) as target:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            snapshot_id = str(cur.fetchone()[0])  # type: ignore[index]
            revision = revision_of(cur)
            cur.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename <> %s ORDER BY tablename",
                (VERSION_TABLE,),
            )
            names = [str(r[0]) for r in cur.fetchall()]
            counts = count_rows(cur, names)
        done = subprocess.run(
            [str(binary), "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot_id}", f"--file={dest}", target],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        conn.rollback()
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"pg_dump failed: {last}")
    return revision, counts
