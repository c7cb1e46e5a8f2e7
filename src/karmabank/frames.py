"""The column shapes the measures read (Arrow schemas), the Parquet files they may read, and the
in-memory DuckDB engine they compute on: below `store` and `measures`, which both use them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from karmabank.model import to_micros

US_PER_DAY = 86_400_000_000

# One row per activity: what the measures need and nothing else (no text, no keys).
ACTIVITY_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("occurred_at", pa.int64()),  # UTC microseconds
        ("person_id", pa.int64()),
        ("target_id", pa.int64()),
        ("verb", pa.string()),
        ("direction", pa.string()),
        ("channel", pa.string()),
        ("weight", pa.float64()),  # null: the verb's default weight
    ]
)
# People the measures treat specially (everyone else is an ordinary supporter).
FLAGS_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("team", pa.bool_()),
        ("bot", pa.bool_()),
        ("do_not_contact", pa.bool_()),
        ("erased", pa.bool_()),
    ]
)
# Asks people acted on (for the ladder's advocate and leader stages).
ACTED_SCHEMA = pa.schema(
    [("person_id", pa.int64()), ("campaign_id", pa.int64()), ("acted_at", pa.int64())]
)
# What the previous rescore left: the history circles and the ladder need.
PREVIOUS_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("circle", pa.string()),
        ("circle_since", pa.int64()),
        ("pending_circle", pa.string()),
        ("pending_since", pa.int64()),
        ("stage", pa.string()),
    ]
)


def empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def activities_table(rows: list[dict[str, object]]) -> pa.Table:
    """A small activity table from dicts (missing columns are null): for tests and one person."""
    return pa.Table.from_pylist(
        [{name: r.get(name) for name in ACTIVITY_SCHEMA.names} for r in rows],
        schema=ACTIVITY_SCHEMA,
    )


@dataclass(frozen=True)
class ParquetFiles:
    """Activities stored as Parquet files with ACTIVITY_SCHEMA's columns: the engine reads them
    itself (several times faster than through a pyarrow dataset), and nothing else."""

    paths: tuple[Path, ...]

    def sql(self) -> str:
        names = ", ".join("'" + str(p).replace("'", "''") + "'" for p in self.paths)
        return f"read_parquet([{names}])"


def engine(threads: int | None = None, readable: Sequence[Path] = ()) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB: the measures' calculator. It can read the `readable`
    folders (the Parquet copy of activities) and no other file, and loads no extension."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    folders = sorted({str(p.resolve()) + "/" for p in readable})
    if folders:
        con.execute("SET allowed_directories = $dirs", {"dirs": folders})
    con.execute("SET enable_external_access = false")
    return con


_SMALL: tuple[int, duckdb.DuckDBPyConnection] | None = None  # (pid, database)
_SMALL_LOCK = threading.Lock()


@contextmanager
def small_engine() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh connection (a DuckDB cursor) to one process-wide in-memory engine, for small
    computations on Arrow tables only (one person's rows): opening `engine()` costs tens of
    milliseconds, a cursor a few microseconds. Same config as `engine(threads=1)`, no file may
    be read at all. What a caller registers is its cursor's own (cursors are separate
    connections, safe to use from separate threads) and goes away when the block ends."""
    global _SMALL
    with _SMALL_LOCK:
        if _SMALL is None or _SMALL[0] != os.getpid():  # a forked child makes its own
            _SMALL = (os.getpid(), engine(threads=1))
        con = _SMALL[1].cursor()
    try:
        yield con
    finally:
        con.close()


def activities_engine(
    acts: ParquetFiles | pa.Table, view: str, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """An engine with the activities `acts` as the view or table `view`."""
    return engine_over({view: acts}, threads)


def engine_over(
    inputs: Mapping[str, ParquetFiles | pa.Table], threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """An engine with each input under its name: Parquet files are read by the engine itself
    (and only their folders may be read), Arrow tables are registered."""
    files = [v for v in inputs.values() if isinstance(v, ParquetFiles)]
    con = engine(threads, readable=[p.parent for f in files for p in f.paths])
    for name, value in inputs.items():
        if isinstance(value, ParquetFiles):
            con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {value.sql()}")
        else:
            con.register(name, value)
    return con


def micros(now: datetime) -> int:
    return to_micros(now)
